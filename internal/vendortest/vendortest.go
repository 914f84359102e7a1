// Package vendortest holds what the vendor client tests share: a log that
// tells when a line was written (so a test waits on the client instead of
// sleeping), a server that counts the calls to a sandbox and runs hooks
// before it answers them, and the check that secrets stay out of what the
// client logs and returns.
package vendortest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// LogWatch is a log sink that tells when a line containing some text was
// written. Its zero value is ready to use; it is safe for concurrent use.
type LogWatch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	waits []wait
}

type wait struct {
	text string
	ch   chan struct{}
}

// Write appends b to the log and closes the channels of Seen whose text
// the log now holds.
func (w *LogWatch) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	waiting := w.waits[:0]
	for _, wt := range w.waits {
		if bytes.Contains(w.buf.Bytes(), []byte(wt.text)) {
			close(wt.ch)
		} else {
			waiting = append(waiting, wt)
		}
	}
	clear(w.waits[len(waiting):])
	w.waits = waiting
	return len(b), nil
}

// String returns all that was written so far.
func (w *LogWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Seen returns a channel that is closed once the log holds text: at once
// if it already does.
func (w *LogWatch) Seen(text string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan struct{})
	if bytes.Contains(w.buf.Bytes(), []byte(text)) {
		close(ch)
		return ch
	}
	w.waits = append(w.waits, wait{text, ch})
	return ch
}

// CancelWhenSeen returns a copy of parent that is cancelled once the log
// holds text, as a caller gives up on a client it sees failing.
func (w *LogWatch) CancelWhenSeen(parent context.Context, text string) context.Context {
	ctx, cancel := context.WithCancel(parent)
	seen := w.Seen(text)
	go func() {
		select {
		case <-seen:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx
}

// Logger returns a logger writing text lines (slog.TextHandler, level
// Info) into w.
func (w *LogWatch) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

// Server serves a handler through httptest, counting the calls and
// running hooks before the handler answers them.
type Server struct {
	*httptest.Server
	calls atomic.Int64

	mu        sync.Mutex
	at        map[int64]func()
	intercept func(n int64, w http.ResponseWriter, r *http.Request) bool
	bodies    [][]byte
}

// maxBodies is how many answers a Server keeps for Bodies.
const maxBodies = 64

// Bodies returns the bodies of the first answers the handler gave (up to
// 64): a fuzz target's seed corpus, as the sandbox answers.
func (s *Server) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// recording tees what a handler writes.
type recording struct {
	http.ResponseWriter
	body []byte
}

func (r *recording) Write(b []byte) (int, error) {
	r.body = append(r.body, b...)
	return r.ResponseWriter.Write(b)
}

// Serve starts a Server for h, closed when t's test ends.
func Serve(t testing.TB, h http.Handler) *Server {
	t.Helper()
	s := &Server{at: map[int64]func(){}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.calls.Add(1)
		s.mu.Lock()
		at, intercept := s.at[n], s.intercept
		delete(s.at, n)
		s.mu.Unlock()
		if at != nil {
			at()
		}
		if intercept != nil && intercept(n, w, r) {
			return
		}
		rec := &recording{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		if len(s.bodies) < maxBodies {
			s.bodies = append(s.bodies, rec.body)
		}
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

// Calls returns how many requests have reached the server.
func (s *Server) Calls() int64 { return s.calls.Load() }

// At makes fn run before the handler answers call n (the calls are
// numbered from 1 as they arrive). It replaces an earlier fn for the same
// n, and never runs if call n has already arrived.
func (s *Server) At(n int64, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at[n] = fn
}

// Intercept makes fn see every call (n as for At) after At's hook and
// before the handler; when fn returns true it has answered on w instead,
// and the handler is not called. It replaces an earlier fn; nil removes it.
func (s *Server) Intercept(fn func(n int64, w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = fn
}

// Answer makes the server answer the calls when picks (n as for At) with
// body, as JSON with HTTP 200, instead of the handler: an answer that
// looks like success. It replaces Intercept's fn.
func (s *Server) Answer(body string, when func(n int64, r *http.Request) bool) {
	s.Intercept(func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if !when(n, r) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
		return true
	})
}

// Exposed is what a caller or an operator gets to read: the log, then the
// message of each error that is not nil.
func Exposed(log string, errs ...error) string {
	var b strings.Builder
	b.WriteString(log)
	for _, err := range errs {
		if err != nil {
			b.WriteString(err.Error())
		}
	}
	return b.String()
}

// NoLeak fails t at the first of secrets that stands in out.
func NoLeak(t testing.TB, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Fatalf("%q leaked into the logs or errors:\n%s", s, out)
		}
	}
}
