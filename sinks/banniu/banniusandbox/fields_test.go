package banniusandbox_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

// bnTaskListExample is vendors.md §5.4's task.list envelope, verbatim.
const bnTaskListExample = `{"response":{"total_results":null,"page_no":null,"page_size":null,"code":0,"has_next":null,
  "error_msg":null,"map":{"result":[{"-1":"6690538","0":6690538,"37761":"文本","37729":"13675639166"}]},
  "isSuccess":null}}`

// bnRowKeys is vendors.md §5.3 on task.list rows: "Each result row is keyed
// by column id. Key "-1" holds the task id as a string and key "0" holds it
// as an int." The column ids are what column.list (§5.1) maps to names.
var bnRowKeys = []string{"-1", "0"}

// TestBanniuTaskListFieldsAreTheVendorExample: a task.list answer holds
// exactly the response and map keys of vendors.md's example; in a project
// with the example's columns every row holds the example row's keys, and
// in that project and the default one a row holds only "-1", "0" and
// column ids column.list names.
func TestBanniuTaskListFieldsAreTheVendorExample(t *testing.T) {
	example := vendortest.DecodeObject(t, "example", []byte(bnTaskListExample))
	exResponse := vendortest.Object(t, "example response", example["response"])
	exMap := vendortest.Object(t, "example map", exResponse["map"])
	exRow := vendortest.Records(t, "example result", exMap["result"])[0]

	p := banniusandbox.Project{ID: 37700, AppID: 37701, Name: "示例群组", Columns: []banniusandbox.Column{
		{ID: 37729, Name: "手机号", BehaviorType: 1},
		{ID: 37761, Name: "文本", BehaviorType: 1},
	}}
	for _, c := range []struct {
		project int64
		cfg     banniusandbox.Config
	}{
		{p.ID, banniusandbox.Config{Tasks: 20, Projects: []banniusandbox.Project{p}, Settings: sandbox.Settings{Seed: 5}}},
		{bnProject, banniusandbox.Config{Tasks: 20, Settings: sandbox.Settings{Seed: 5}}},
	} {
		f := newBNFixture(t, c.cfg)
		project := strconv.FormatInt(c.project, 10)
		var cols []map[string]any
		f.ok(bnCall{method: "column.list", params: map[string]string{"project_id": project}}, &cols)
		documented := slices.Clone(bnRowKeys)
		for _, col := range cols {
			documented = append(documented, strconv.FormatFloat(col["column_id"].(float64), 'f', -1, 64))
		}

		resp, b, err := f.do(bnCall{params: bnWith(bnPage(1, 20), "project_id", project)})
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
		}
		served := vendortest.DecodeObject(t, "answer", b)
		vendortest.MatchFields(t, "envelope", served, example)
		response := vendortest.Object(t, "response", served["response"])
		if response["code"] != float64(0) {
			t.Fatalf("project %s: code %v: %v", project, response["code"], response["error_msg"])
		}
		vendortest.MatchFields(t, "response", response, exResponse)
		m := vendortest.Object(t, "response.map", response["map"])
		vendortest.MatchFields(t, "response.map", m, exMap)
		for _, r := range vendortest.Records(t, "result", m["result"]) {
			what := "project " + project + " task " + strconv.FormatInt(bnTaskID(r), 10)
			if c.project == p.ID {
				vendortest.ServesExample(t, what, r, exRow)
			}
			vendortest.OnlyDocumented(t, what, r, exRow, documented...)
		}
	}
}
