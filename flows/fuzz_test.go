package flows_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-data/ferry/flows"
)

// FuzzParse feeds flow files to the loader, from the shipped flows on:
// whatever the file, it is loaded or refused with an error; it never
// panics, and a loaded flow has a name, a source topic and a target.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no shipped flow files: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(good))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := flows.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if fl.Name == "" || fl.Source.Topic == "" || fl.Target.Kind == "" {
			t.Fatalf("loaded a flow without a name, topic or target: %+v", fl)
		}
	})
}

// FuzzTemplate feeds request templates to the template parser and renders
// what it accepts: no template panics either.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{LAST_SYNC_TIME|datetime}}", "{{ CURRENT_TIME | date }}", "{LAST_SYNC_TIME}",
		"{{LAST_SYNC_TIME|millis}}", "Confirmed", "from {LAST_SYNC_TIME} on", "{{", "}}{", "$value$"} {
		f.Add(s)
	}
	cst := time.FixedZone("CST", 8*3600)
	v := flows.Vars{LastSync: time.Date(2024, 1, 1, 0, 0, 0, 0, cst), Current: time.Date(2024, 1, 2, 12, 30, 0, 0, cst), Zone: cst}
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := flows.ParseTemplate(s)
		if err != nil {
			return
		}
		tmpl.Render(v)
		tmpl.Names()
	})
}
