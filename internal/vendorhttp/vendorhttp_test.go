package vendorhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/vendorhttp"
)

func TestObserveAndRedact(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Date", "Fri, 01 Mar 2024 12:00:00 GMT")
	}))
	defer srv.Close()
	var seen string
	c := vendorhttp.New("test", time.Second, 0, func(h http.Header) { seen = h.Get("Date") })
	if _, err := c.R().Get(srv.URL); err != nil {
		t.Fatal(err)
	}
	if seen != "Fri, 01 Mar 2024 12:00:00 GMT" {
		t.Fatalf("observed Date %q", seen)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.R().SetContext(ctx).Get("http://user:pw@127.0.0.1:1/api?sign=abc&access_token=tok#frag")
	red := vendorhttp.Redact(err).Error()
	for _, secret := range []string{"sign=", "tok", "pw", "frag"} {
		if strings.Contains(red, secret) {
			t.Fatalf("%q left in %q", secret, red)
		}
	}
	if !strings.Contains(red, "127.0.0.1:1/api") {
		t.Fatalf("redacted too much: %q", red)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"Fri, 01 Mar 2024 12:00:30 GMT", 30 * time.Second},
		{"Fri, 01 Mar 2024 11:00:00 GMT", 0},
		{"soon", 0},
	} {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		if got := vendorhttp.RetryAfter(h, now); got != tc.want {
			t.Errorf("Retry-After %q: %v, want %v", tc.v, got, tc.want)
		}
	}
}
