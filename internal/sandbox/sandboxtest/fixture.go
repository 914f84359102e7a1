package sandboxtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Fixture is a vendor sandbox on a settable clock, served over HTTP until
// its test ends.
type Fixture[S http.Handler] struct {
	T     *testing.T
	Clock *sandbox.Clock
	SB    S
	Srv   *httptest.Server
}

// Serve builds a sandbox with mk, on a clock that starts at start and
// moves only when the test moves it, and serves it.
func Serve[S http.Handler](t *testing.T, start time.Time, mk func(now func() time.Time) S) *Fixture[S] {
	t.Helper()
	clock := sandbox.NewClock(start)
	sb := mk(clock.Now)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &Fixture[S]{T: t, Clock: clock, SB: sb, Srv: srv}
}

// Do sends req to the sandbox and reads the whole answer.
func (f *Fixture[S]) Do(req *http.Request) (*http.Response, []byte, error) {
	resp, err := f.Srv.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}
