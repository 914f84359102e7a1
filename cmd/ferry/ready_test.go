package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/stats"
)

// tcpProxy forwards connections to a target until it is stopped; started
// again, it listens on the same address.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, addr: "127.0.0.1:0", target: target}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

// stop closes the listener and cuts every connection.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestReadyzFollowsTheBroker: /readyz answers ok while the broker answers,
// 503 naming Kafka once its listener is gone, and ok again when it is
// back; /healthz answers ok throughout.
func TestReadyzFollowsTheBroker(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	proxy := newTCPProxy(t, cluster.ListenAddrs()[0])
	f, err := flows.Named("wdt_refunds")
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{cfg: Config{Brokers: []string{proxy.addr}, Metrics: "127.0.0.1:0"}, flows: []*flows.Flow{f},
		log: slog.New(slog.DiscardHandler), stats: &stats.Registry{}}
	ctx, cancel := context.WithCancel(context.Background())
	g, ctx := errgroup.WithContext(ctx)
	if err := p.serveMetrics(ctx, g); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
	})
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get("http://" + p.metricsAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, step := range []struct {
		name string
		do   func()
		code int
		body string
	}{
		{"broker up", func() {}, 200, "ok"},
		{"broker's listener gone", proxy.stop, 503, "kafka: "},
		{"broker back", proxy.start, 200, "ok"},
	} {
		step.do()
		if code, body := get("/readyz"); code != step.code || !strings.HasPrefix(body, step.body) {
			t.Fatalf("%s: /readyz %d %q, want %d %q…", step.name, code, body, step.code, step.body)
		}
		if code, _ := get("/healthz"); code != 200 {
			t.Fatalf("%s: /healthz %d", step.name, code)
		}
	}
}
