package vendortest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-data/ferry/internal/vendortest"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestLogWatchSeen(t *testing.T) {
	var w vendortest.LogWatch
	first, again, other := w.Seen("backing off"), w.Seen("backing off"), w.Seen("gave up")
	fmt.Fprint(&w, "level=WARN msg=\"backing ")
	if closed(first) {
		t.Fatal("closed before the text was whole")
	}
	fmt.Fprint(&w, "off\"\n")
	if !closed(first) || !closed(again) {
		t.Fatal("a wait on text that straddles two writes was not closed")
	}
	if closed(other) {
		t.Fatal("a wait on text never written was closed")
	}
	if !closed(w.Seen("backing off")) {
		t.Fatal("a wait on text already written was not closed at once")
	}
	if got := w.String(); got != "level=WARN msg=\"backing off\"\n" {
		t.Fatalf("String() = %q", got)
	}
}

func TestLogWatchConcurrent(t *testing.T) {
	var w vendortest.LogWatch
	log := w.Logger()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { log.Info("call", "n", i) })
	}
	<-w.Seen("n=7")
	wg.Wait()
	if n := strings.Count(w.String(), "msg=call"); n != 8 {
		t.Fatalf("%d lines, want 8:\n%s", n, &w)
	}
}

func TestLogWatchCancelWhenSeen(t *testing.T) {
	var w vendortest.LogWatch
	ctx := w.CancelWhenSeen(context.Background(), "dial tcp 127.0.0.1:1")
	w.Logger().Warn("backing off", "err", "dial tcp 127.0.0.1:2")
	if ctx.Err() != nil {
		t.Fatal("cancelled on other text")
	}
	w.Logger().Warn("backing off", "err", "dial tcp 127.0.0.1:1: connection refused")
	<-ctx.Done()
	parent, cancel := context.WithCancel(context.Background())
	ctx = w.CancelWhenSeen(parent, "never")
	cancel()
	<-ctx.Done()
}

func TestServer(t *testing.T) {
	s := vendortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "handler")
	}))
	get := func() string {
		t.Helper()
		resp, err := s.Client().Get(s.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var at []int64
	s.At(2, func() { at = append(at, 2) })
	s.At(3, func() { t.Error("an At hook replaced for the same call ran") })
	s.At(3, func() { at = append(at, 3) })
	get()
	get()
	s.At(1, func() { t.Error("an At hook for a call gone by ran") })
	s.Intercept(func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/x" || n != 3 || fmt.Sprint(at) != "[2 3]" {
			t.Errorf("call %d to %s after the At hooks %v", n, r.URL.Path, at)
		}
		io.WriteString(w, "hook")
		return true
	})
	if got := get(); got != "hook" {
		t.Fatalf("intercepted call answered %q", got)
	}
	s.Intercept(nil)
	if got := get(); got != "handler" {
		t.Fatalf("call after the hook went answered %q", got)
	}
	if s.Calls() != 4 || fmt.Sprint(at) != "[2 3]" {
		t.Fatalf("%d calls, At hooks ran for %v", s.Calls(), at)
	}
}

// fatalRecorder keeps the first message NoLeak fails with.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	if r.msg == "" {
		r.msg = fmt.Sprintf(format, args...)
	}
}

func TestExposedAndNoLeak(t *testing.T) {
	out := vendortest.Exposed("log;", nil, errors.New("refused;"), nil, errors.New("dead"))
	if out != "log;refused;dead" {
		t.Fatalf("Exposed = %q", out)
	}
	var r fatalRecorder
	vendortest.NoLeak(&r, out, "secret", "sign=")
	if r.msg != "" {
		t.Fatalf("no secret stands in %q, yet: %s", out, r.msg)
	}
	vendortest.NoLeak(&r, out, "secret", "refused")
	if !strings.HasPrefix(r.msg, `"refused" leaked`) {
		t.Fatalf("NoLeak failed with %q", r.msg)
	}
}
