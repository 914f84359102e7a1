package jushuitan

// ReadQuery reads a paged query's answer as Query does in each attempt.
func ReadQuery(path string, body []byte) (Page, error) {
	data, err := readData(path, body)
	if err != nil {
		return Page{}, err
	}
	return readPage(data)
}
