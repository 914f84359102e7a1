package kingdee

// ReadList reads a list answer as List does in each attempt.
func ReadList(path string, body []byte) (Page, error) {
	var data listData
	err := decode(path, body, &data)
	return data.page(), err
}
