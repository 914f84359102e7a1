package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/deadletter"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/internal/telemetry"
)

func TestRecentKeepsEachFlowsWarnings(t *testing.T) {
	var r telemetry.Recent
	var out strings.Builder
	log := slog.New(r.Handler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError})))
	log.Info("fine", "flow", "a")
	log.Warn("call failed, backing off", "flow", "a", "err", errors.New("HTTP 502"))
	log.With("flow", "b").Error("partition failed")
	log.WithGroup("g").Warn("grouped", "flow", "a") // g.flow is not the flow
	for i := range 7 {
		log.Warn(fmt.Sprint("again ", i), "flow", "c")
	}
	if got := r.Of("a"); len(got) != 1 || got[0].Message != "call failed, backing off: HTTP 502" {
		t.Errorf("a: %+v", got)
	}
	if got := r.Of("b"); len(got) != 1 || got[0].Message != "partition failed" {
		t.Errorf("b: %+v", got)
	}
	if got := r.Of("c"); len(got) != 5 || got[0].Message != "again 6" || got[4].Message != "again 2" {
		t.Errorf("c: %+v", got)
	}
	if strings.Contains(out.String(), "fine") || strings.Contains(out.String(), "backing off") || !strings.Contains(out.String(), "partition failed") {
		t.Errorf("the log below lost its level: %s", out.String())
	}
}

// TestStatusSaysEachFlowsState: /status.json has a line for each flow of
// the process, with its figures and the state they add up to.
func TestStatusSaysEachFlowsState(t *testing.T) {
	reg := &stats.Registry{}
	var recent telemetry.Recent
	log := slog.New(recent.Handler(slog.DiscardHandler))
	busy := reg.Flow("busy")
	busy.Fetched.Add(10)
	busy.Window(time.Unix(0, 0), time.Unix(3600, 0))
	reg.Flow("standby")
	reg.Flow("retrying").Pulse().Beat()
	log.Warn("call failed, backing off", "flow", "retrying")
	p := stats.Partition{Flow: "lagging", Group: "g", Topic: "t", Partition: 1}
	reg.Consumers.Own(p)
	reg.Consumers.Update(p, func(o *stats.Owned) { o.Lag, o.Oldest = 7, time.Now().Add(-time.Minute) })
	now := time.Now()
	proc := telemetry.Process{
		Command: "producer", Stats: reg, Recent: &recent, Now: func() time.Time { return now },
		Flows:       []telemetry.Flow{{Name: "busy"}, {Name: "standby"}, {Name: "retrying"}, {Name: "lagging"}},
		Checkpoints: ends{"busy": now.Add(-time.Minute), "retrying": now, "lagging": now},
		Depths: func(context.Context) ([]telemetry.Depth, error) {
			return []telemetry.Depth{{Flow: "busy", DeadLetters: 2}}, nil
		},
	}
	busy.Pulse().Beat()
	srv := httptest.NewServer(proc.Handler())
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var s telemetry.Status
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	byName := map[string]telemetry.FlowStatus{}
	for _, f := range s.Flows {
		byName[f.Name] = f
	}
	for name, want := range map[string]string{"busy": "working", "standby": "standby", "retrying": "retrying", "lagging": "working"} {
		if got := byName[name].State; got != want {
			t.Errorf("%s: state %q, want %q", name, got, want)
		}
	}
	b := byName["busy"]
	if b.Records["fetched"] != 10 || b.Window == nil || b.Window.To.Unix() != 3600 || b.CheckpointAge == nil || *b.CheckpointAge != 60 ||
		b.DeadLetters == nil || *b.DeadLetters != 2 {
		t.Errorf("busy: %+v", b)
	}
	if l := byName["lagging"].Lag; l == nil || l.Records != 7 || l.Seconds < 60 {
		t.Errorf("lagging: lag %+v", l)
	}
	if e := byName["retrying"].Errors; len(e) != 1 || e[0].Message != "call failed, backing off" {
		t.Errorf("retrying: errors %+v", e)
	}
	page, err := srv.Client().Get(srv.URL + "/")
	if err != nil || page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %v %v", page, err)
	}
	page.Body.Close()
}

type ends map[string]time.Time

func (e ends) Ends() map[string]time.Time { return e }

// TestDeadLettersAnswerForTheProcessFlowsOnly: the grouping the status
// page links to is served for the process's own flows, and says why when
// the topic cannot be read.
func TestDeadLettersAnswerForTheProcessFlowsOnly(t *testing.T) {
	groups := []deadletter.Group{{Reason: `field status: "…" is not an integer`, Stage: "processor", Count: 2, New: 1}}
	p := telemetry.Process{Stats: &stats.Registry{}, Flows: []telemetry.Flow{{Name: "wdt_refunds"}, {Name: "broken"}},
		DeadLetters: func(_ context.Context, flow string) ([]deadletter.Group, error) {
			if flow == "broken" {
				return nil, errors.New("dead letters: broker unreachable")
			}
			return groups, nil
		}}
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	for _, c := range []struct {
		flow string
		code int
		body string
	}{
		{"wdt_refunds", http.StatusOK, `"count":2,"new":1`},
		{"jst_orders", http.StatusNotFound, `no dead letters of flow "jst_orders" here`},
		{"broken", http.StatusBadGateway, "broker unreachable"},
	} {
		res, err := http.Get(srv.URL + "/dead-letters.json?flow=" + c.flow)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.code || !strings.Contains(string(body), c.body) {
			t.Errorf("%s: %d %s, want %d with %q", c.flow, res.StatusCode, body, c.code, c.body)
		}
	}
}
