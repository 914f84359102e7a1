package banniu

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/sinks"
)

// ErrNotYet reports that no task matches a record yet. The task may be
// created after the trade: the sink retries the record later, until the
// flow's target.giveUp. It is a sinks.ErrNotYet.
var ErrNotYet = fmt.Errorf("banniu: no matching task yet: %w", sinks.ErrNotYet)

// lookupPage is how many matches of a task lookup are read; more than one
// match is already unusual.
const lookupPage = 10

// Writer turns canonical records into task.update calls, as a flow's target
// block says. It is safe for concurrent use.
type Writer struct {
	client *Client
	flow   string
	zone   *time.Location
	fields []*flows.RequestField // every field but the task's
	task   *flows.RequestField   // task_id: a lookup or a value
	column int64                 // the lookup's column, when task is a lookup
}

// NewWriter binds a flow's banniu target to a client. The target must call
// task.update with app_id, project_id, task_id and contents; task_id may be
// a lookup on a custom column ("content.<column id>", findField=id). The
// seed's idCheck holds by construction: a task is updated only once
// task.list found it. The client's Limit should be the target's rate.
func NewWriter(c *Client, f *flows.Flow) (*Writer, error) {
	t := &f.Target
	if t.Kind != "banniu" {
		return nil, fmt.Errorf("banniu writer %s: target kind is %q, want banniu", f.Name, t.Kind)
	}
	if t.API != "task.update" {
		return nil, fmt.Errorf("banniu writer %s: api %q is not supported (known: task.update)", f.Name, t.API)
	}
	if t.Method != "" && !strings.EqualFold(t.Method, "POST") {
		return nil, fmt.Errorf("banniu writer %s: task.update is a POST, not %s", f.Name, t.Method)
	}
	w := &Writer{client: c, flow: f.Name, zone: t.Zone.Loc()}
	seen := map[string]bool{}
	for i := range t.Request {
		r := &t.Request[i]
		seen[r.Field] = true
		if r.Field == "task_id" {
			w.task = r
			continue
		}
		if r.Lookup() != nil {
			return nil, fmt.Errorf("banniu writer %s: %s: only task_id may be looked up", f.Name, r.Field)
		}
		w.fields = append(w.fields, r)
	}
	for _, name := range []string{"app_id", "project_id", "task_id", "contents"} {
		if !seen[name] {
			return nil, fmt.Errorf("banniu writer %s: target.request has no %s", f.Name, name)
		}
	}
	if l := w.task.Lookup(); l != nil {
		col, ok := strings.CutPrefix(l.Column, "content.")
		id, err := strconv.ParseInt(col, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("banniu writer %s: task_id lookup on %q: want content.<column id>", f.Name, l.Column)
		}
		if l.Find != "id" {
			return nil, fmt.Errorf("banniu writer %s: task_id lookup finds %q: want id", f.Name, l.Find)
		}
		w.column = id
	}
	return w, nil
}

// WriteRecord updates the task the record names. It returns an error
// wrapping ErrNotYet when no task matches yet, a *APIError when Banniu
// refuses the call, and another error when the record cannot make a call
// (a missing or malformed value); transient failures are retried until ctx
// ends.
func (w *Writer) WriteRecord(ctx context.Context, rec map[string]any) error {
	vars := flows.Vars{Record: rec, Zone: w.zone}
	params := make(map[string]any, len(w.fields))
	for _, r := range w.fields {
		v, err := r.Eval(vars)
		if err != nil {
			return fmt.Errorf("banniu writer %s: %w", w.flow, err)
		}
		params[r.Field] = v
	}
	appID, err := intParam(params, "app_id")
	if err != nil {
		return fmt.Errorf("banniu writer %s: %w", w.flow, err)
	}
	projectID, err := intParam(params, "project_id")
	if err != nil {
		return fmt.Errorf("banniu writer %s: %w", w.flow, err)
	}
	contents, ok := params["contents"].(map[string]any)
	if !ok || len(contents) == 0 {
		return fmt.Errorf("banniu writer %s: contents is empty", w.flow)
	}
	taskID, err := w.taskID(ctx, vars, projectID)
	if err != nil {
		return fmt.Errorf("banniu writer %s: %w", w.flow, err)
	}
	if err := w.client.UpdateTask(ctx, appID, projectID, taskID, contents); err != nil {
		return fmt.Errorf("banniu writer %s: %w", w.flow, err)
	}
	return nil
}

// taskID evaluates the task_id field, or searches the task whose lookup
// column equals the rendered text. Of several matches the oldest task wins.
func (w *Writer) taskID(ctx context.Context, vars flows.Vars, projectID int64) (int64, error) {
	l := w.task.Lookup()
	if l == nil {
		v, err := w.task.Eval(vars)
		if err != nil {
			return 0, err
		}
		return intParam(map[string]any{"task_id": v}, "task_id")
	}
	text := l.Value.Render(vars)
	if text == "" {
		return 0, fmt.Errorf("task_id: the record gives no value to look up in %s", l.Column)
	}
	rows, err := w.client.TaskList(ctx, projectID, []Condition{Equals(w.column, text)}, 1, lookupPage)
	if err != nil {
		return 0, fmt.Errorf("task_id lookup: %w", err)
	}
	col := strconv.FormatInt(w.column, 10)
	var found []int64
	for _, row := range rows {
		if flows.Text(row[col]) != text {
			continue // the gateway matched loosely; only equal text counts
		}
		id, err := TaskID(row)
		if err != nil {
			return 0, fmt.Errorf("task_id lookup: %w", err)
		}
		found = append(found, id)
	}
	if len(found) == 0 {
		return 0, fmt.Errorf("project %d: no task with %s = %q: %w", projectID, l.Column, text, ErrNotYet)
	}
	if len(found) > 1 {
		w.client.api.Log.Warn("several tasks match a lookup; updating the oldest",
			"flow", w.flow, "project_id", projectID, "column", l.Column, "matches", len(found))
	}
	return slices.Min(found), nil
}

// intParam reads an integer parameter evaluated from the flow.
func intParam(params map[string]any, name string) (int64, error) {
	switch v := params[name].(type) {
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case float64:
		if v == math.Trunc(v) {
			return int64(v), nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n, nil
		}
	case nil:
		return 0, fmt.Errorf("%s has no value", name)
	}
	return 0, fmt.Errorf("%s: %v is not an integer", name, params[name])
}
