package vendorhttp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/internal/vendorhttp"
	"github.com/ferry-data/ferry/vendors"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestStatusOutcomes(t *testing.T) {
	for _, c := range []struct {
		status  int
		outcome string
		retried bool
	}{
		{200, vendorhttp.OK, false},
		{429, vendorhttp.Throttled, true},
		{502, vendorhttp.Failed, true},
		{401, vendorhttp.AuthRefused, false},
		{403, vendorhttp.AuthRefused, false},
		{404, vendorhttp.Failed, false},
	} {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(c.status) }))
			defer srv.Close()
			resp, err := vendorhttp.New("test", time.Second, 0, nil).R().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = fmt.Errorf("vendor call: %w", vendorhttp.Status(resp))
			if c.status == 200 {
				err = vendorhttp.Status(resp)
			}
			if got := vendorhttp.Outcome(err); got != c.outcome {
				t.Errorf("outcome %q, want %q", got, c.outcome)
			}
			if _, retried := backoff.Retryable(err); retried != c.retried {
				t.Errorf("retried %v, want %v", retried, c.retried)
			}
		})
	}
	if o := vendorhttp.Outcome(vendorhttp.Unreadable("no data")); o != vendorhttp.BadAnswer {
		t.Errorf("unreadable: %q", o)
	}
	if o := vendorhttp.Outcome(errors.New("refused")); o != vendorhttp.Failed {
		t.Errorf("a plain error: %q", o)
	}
}

// TestCallerCountsForTheFlow: a call made for a flow counts each attempt's
// outcome, each HTTP request and each wait for that flow.
func TestCallerCountsForTheFlow(t *testing.T) {
	answers := []int{429, 502, 200}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(answers[0])
		answers = answers[1:]
	}))
	defer srv.Close()
	c := vendorhttp.NewCaller("acme", vendors.Options{Limit: 1000, Timeout: time.Second,
		Backoff: backoff.Policy{Base: time.Millisecond, Max: time.Millisecond}, Logger: slog.New(slog.DiscardHandler)})
	f := &stats.Flow{}
	ctx := stats.WithFlow(context.Background(), f)
	err := c.Do(ctx, func() error {
		resp, err := c.HTTP.R().SetContext(ctx).Get(srv.URL)
		if err != nil {
			return err
		}
		return vendorhttp.Status(resp)
	})
	if err != nil {
		t.Fatal(err)
	}
	v := f.Vendors()["acme"]
	for i, want := range []int64{1, 1, 1, 0, 0} { // ok, throttled, failed, auth_refused, bad_answer
		if got := v.Outcomes[i].Load(); got != want {
			t.Errorf("%s: %d, want %d", stats.Outcomes[i], got, want)
		}
	}
	if n, _, _ := v.Requests.Snapshot(); n != 3 {
		t.Errorf("%d requests timed, want 3", n)
	}
	if v.Backoff() <= 0 {
		t.Error("no wait counted")
	}
}

// TestHostileAnswers: an answer over the size limit is refused with a
// clear, retried error; one in GBK reads as the UTF-8 it stands for; one
// that claims GBK but is not decodes with replacement, never crashing.
func TestHostileAnswers(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(`{"message":"超过每分钟最大调用频率限制"}`))
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]struct {
		contentType string
		body        []byte
	}{
		"/big": {"application/json", bytes.Repeat([]byte("x"), 2048)},
		"/gbk": {"application/json; charset=GBK", gbk},
		"/bad": {"application/json; charset=gb2312", []byte("{\"m\":\"\xff\xfe\x81\"}")},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", a.contentType)
		w.Write(a.body)
	}))
	defer srv.Close()
	c := vendorhttp.New("test", time.Second, 1024, nil)
	ctx := context.Background()

	_, err = c.R().SetContext(ctx).Get(srv.URL + "/big")
	err = vendorhttp.Unanswered(ctx, err)
	if _, retried := backoff.Retryable(err); !retried || vendorhttp.Outcome(err) != vendorhttp.BadAnswer || !strings.Contains(err.Error(), "over the size limit") {
		t.Errorf("an answer over the limit: %v", err)
	}
	resp, err := c.R().SetContext(ctx).Get(srv.URL + "/gbk")
	if err != nil || string(resp.Body()) != `{"message":"超过每分钟最大调用频率限制"}` {
		t.Errorf("a GBK answer read as %q, %v", resp.Body(), err)
	}
	resp, err = c.R().SetContext(ctx).Get(srv.URL + "/bad")
	if err != nil || !utf8.Valid(resp.Body()) || !strings.Contains(string(resp.Body()), "\uFFFD") {
		t.Errorf("a broken GB2312 answer read as %q, %v", resp.Body(), err)
	}
}
