package banniu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-resty/resty/v2"

	"github.com/ferry-data/ferry/internal/vendorhttp"
	"github.com/ferry-data/ferry/vendors"
)

const (
	// Gateway is the miniAPI gateway, which serves tasks, columns and
	// projects.
	Gateway = "https://open.bytenew.com/gateway/api/miniAPI"
	// ThrottleCode is the code Banniu answers, with HTTP 200, when an
	// app_key calls too often (stand-in, vendors.md §5.4).
	ThrottleCode = 1007
	// CodeBadSign is the code of a refused signature (stand-in, vendors.md
	// §5.4).
	CodeBadSign = 1001
	// MaxPageSize is the largest task.list page (stand-in, vendors.md §5.5).
	MaxPageSize = 100
)

// Config holds a Banniu account and how to call it.
type Config struct {
	// URL is the miniAPI gateway; default Gateway.
	URL string
	// AppKey, AppSecret and AccessToken are the account's credentials.
	AppKey, AppSecret, AccessToken string
	// Options are every client's; the budget defaults to 10 calls a second (vendors.md §5.5).
	vendors.Options
}

// Client calls one Banniu account. It is safe for concurrent use.
type Client struct {
	cfg Config
	api *vendorhttp.Caller // the account's HTTP client, budget, retries and log
}

// APIError is an answer with a non-zero code that is not throttling.
type APIError struct {
	Method  string
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("banniu %s: code %d: %s", e.Method, e.Code, e.Message)
}

// Outcome reads code 1001 (签名错误) as a refusal of the credentials: the
// code of vendors.md §5.4's example, which no source confirms [S].
func (e *APIError) Outcome() string {
	if e.Code == CodeBadSign {
		return vendorhttp.AuthRefused
	}
	return vendorhttp.Failed
}

// New returns a client for the account.
func New(cfg Config) (*Client, error) {
	if cfg.AppKey == "" || cfg.AppSecret == "" || cfg.AccessToken == "" {
		return nil, errors.New("banniu: AppKey, AppSecret and AccessToken are required")
	}
	if cfg.URL == "" {
		cfg.URL = Gateway
	}
	cfg.Options = cfg.Defaults(10)
	return &Client{
		cfg: cfg,
		api: vendorhttp.NewCaller("banniu", cfg.Options, "app_key", cfg.AppKey),
	}, nil
}

// Condition is one term of task.list's condition_column search.
type Condition struct {
	// Column is the custom column's id.
	Column int64 `json:"id"`
	// BehaviorType is the column's kind: 1 文本, 2 数值, 3 单选, 4 下拉, …
	BehaviorType int `json:"behaviorType"`
	// SearchType is "1" 等于, "2" 不等于, "3" 包含, "4" 不包含 or "5"
	// 包含任一项.
	SearchType string `json:"searchType"`
	// Value is the text searched for (an option's id for option columns).
	Value string `json:"value"`
}

// Equals is the condition "text column equals text".
func Equals(column int64, text string) Condition {
	return Condition{Column: column, BehaviorType: 1, SearchType: "1", Value: text}
}

// TaskList returns page pageNum (from 1) of a project's tasks matching every
// condition, pageSize (1..MaxPageSize) to a page. Each row is keyed by
// column id; "-1" holds the task id as a string and "0" as a number (see
// TaskID). A page shorter than pageSize is the last one.
func (c *Client) TaskList(ctx context.Context, projectID int64, conditions []Condition, pageNum, pageSize int) ([]map[string]any, error) {
	if pageNum < 1 || pageSize < 1 || pageSize > MaxPageSize {
		return nil, fmt.Errorf("banniu task.list: page %d of size %d: pages count from 1 and hold 1..%d tasks", pageNum, pageSize, MaxPageSize)
	}
	params := map[string]string{
		"project_id": strconv.FormatInt(projectID, 10),
		"page_num":   strconv.Itoa(pageNum),
		"page_size":  strconv.Itoa(pageSize),
	}
	if len(conditions) > 0 {
		b, err := json.Marshal(conditions)
		if err != nil {
			return nil, fmt.Errorf("banniu task.list: %w", err)
		}
		params["condition_column"] = string(b)
	}
	var rows []map[string]any
	_, err := c.do(ctx, "task.list", params, nil, func(result json.RawMessage) (err error) {
		rows, err = readRows(result)
		return err
	})
	return rows, err
}

// readRows reads task.list's result: a list of rows; one that is not is
// an answer that is not Banniu's.
func readRows(result json.RawMessage) ([]map[string]any, error) {
	var rows []map[string]any
	if len(result) > 0 {
		if err := json.Unmarshal(result, &rows); err != nil {
			return nil, vendorhttp.Unreadable("result is not a list of rows: %w", err)
		}
	}
	return rows, nil
}

// TaskID reads a task.list row's task id, from "-1" or else "0".
func TaskID(row map[string]any) (int64, error) {
	switch v := row["-1"].(type) {
	case string:
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			return id, nil
		}
	}
	switch v := row["0"].(type) {
	case float64:
		return int64(v), nil
	case json.Number:
		return v.Int64()
	}
	return 0, fmt.Errorf("banniu: row has no task id (keys -1 and 0)")
}

// UpdateTask sets the contents (column id → value) of a task. Updating a
// task with the contents it already holds is harmless.
func (c *Client) UpdateTask(ctx context.Context, appID, projectID, taskID int64, contents map[string]any) error {
	// Ids travel as strings, as the public clients send them.
	body, err := json.Marshal(map[string]any{
		"project_id": strconv.FormatInt(projectID, 10),
		"app_id":     strconv.FormatInt(appID, 10),
		"task_id":    strconv.FormatInt(taskID, 10),
		"contents":   contents,
		"header":     nil,
	})
	if err != nil {
		return fmt.Errorf("banniu task.update: task %d: %w", taskID, err)
	}
	if _, err := c.do(ctx, "task.update", nil, body, nil); err != nil {
		return fmt.Errorf("task %d: %w", taskID, err)
	}
	return nil
}

// do calls method, a GET with params in the query or, with a body, a POST,
// and returns the answer's map.result. It retries throttling and transient
// failures until ctx ends.
func (c *Client) do(ctx context.Context, method string, params map[string]string, body []byte, read func(json.RawMessage) error) (json.RawMessage, error) {
	var result json.RawMessage
	err := c.api.Do(ctx, func() error {
		var err error
		result, err = c.call(ctx, method, params, body)
		if err == nil && read != nil {
			err = read(result) // within the attempt: what it cannot read is retried
		}
		return err
	}, "method", method)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("banniu %s: %w", method, err)
	}
	return result, err
}

type envelope struct {
	Response *struct {
		Code     int    `json:"code"`
		ErrorMsg string `json:"error_msg"`
		Map      *struct {
			Result json.RawMessage `json:"result"`
		} `json:"map"`
	} `json:"response"`
}

func (c *Client) call(ctx context.Context, method string, params map[string]string, body []byte) (json.RawMessage, error) {
	q := map[string]string{
		"app_key":      c.cfg.AppKey,
		"access_token": c.cfg.AccessToken,
		"timestamp":    Timestamp(c.cfg.Now()),
		"v":            "1",
		"method":       method,
	}
	for k, v := range params {
		q[k] = v
	}
	q["sign"] = Sign(q, c.cfg.AppSecret)
	req := c.api.HTTP.R().SetContext(ctx).SetQueryParams(q)
	var (
		resp *resty.Response
		err  error
	)
	if body != nil {
		resp, err = req.
			SetHeader("Authorization", "Bearer "+c.cfg.AccessToken).
			SetHeader("Content-Type", "application/json").
			SetBody(body).
			Post(c.cfg.URL)
	} else {
		resp, err = req.Get(c.cfg.URL)
	}
	if err != nil {
		return nil, vendorhttp.Unanswered(ctx, err)
	}
	if err := vendorhttp.Status(resp); err != nil {
		return nil, fmt.Errorf("banniu %s: %w", method, err)
	}
	return readResult(method, resp.Body())
}

// readResult reads an answer of method: its result, or the error that says
// what the answer is (a throttle, a refusal, an answer that is not Banniu's).
func readResult(method string, body []byte) (json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, vendorhttp.Unreadable("unreadable body (%d bytes): %w", len(body), err)
	}
	r := env.Response
	switch {
	case r == nil:
		return nil, vendorhttp.Unreadable("body without a response object (%d bytes)", len(body))
	case r.Code == 0 && r.Map != nil:
		return r.Map.Result, nil
	case r.Code == 0:
		return nil, nil
	case r.Code == ThrottleCode:
		return nil, vendorhttp.Throttle(0, "throttled: code %d: %s", r.Code, r.ErrorMsg)
	}
	return nil, &APIError{Method: method, Code: r.Code, Message: r.ErrorMsg}
}
