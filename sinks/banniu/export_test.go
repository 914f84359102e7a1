package banniu

// ReadTaskList reads a task.list answer as TaskList does in each attempt.
func ReadTaskList(body []byte) ([]map[string]any, error) {
	result, err := readResult("task.list", body)
	if err != nil {
		return nil, err
	}
	return readRows(result)
}
