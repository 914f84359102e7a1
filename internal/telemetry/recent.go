package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Recent keeps the last warnings and errors a process logged, by the flow
// they name (the "flow" attribute), for the status page. Its Handler tees
// a log into it. The zero value is ready.
type Recent struct {
	mu     sync.Mutex
	byFlow map[string][]Logged
}

// Logged is one warning or error.
type Logged struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

// recentKeep is how many records Recent keeps a flow.
const recentKeep = 5

// Of returns the flow's last warnings and errors, newest first.
func (r *Recent) Of(flow string) []Logged {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.byFlow[flow]
	out := make([]Logged, len(l))
	for i, e := range l {
		out[len(l)-1-i] = e
	}
	return out
}

func (r *Recent) add(flow string, e Logged) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byFlow == nil {
		r.byFlow = map[string][]Logged{}
	}
	l := append(r.byFlow[flow], e)
	if len(l) > recentKeep {
		l = l[len(l)-recentKeep:]
	}
	r.byFlow[flow] = l
}

// Handler returns next, with every warning and error that names a flow
// kept in r too.
func (r *Recent) Handler(next slog.Handler) slog.Handler { return &recentHandler{next: next, r: r} }

type recentHandler struct {
	next  slog.Handler
	r     *Recent
	flow  string // a flow attribute given by With
	group bool   // attributes now go into a group
}

func (h *recentHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *recentHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		flow, msg := h.flow, rec.Message
		rec.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "flow":
				if !h.group {
					flow = a.Value.String()
				}
			case "err":
				msg += ": " + a.Value.String()
			}
			return true
		})
		if flow != "" {
			h.r.add(flow, Logged{At: rec.Time, Message: msg})
		}
	}
	if !h.next.Enabled(ctx, rec.Level) {
		return nil
	}
	return h.next.Handle(ctx, rec)
}

func (h *recentHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	for _, a := range as {
		if a.Key == "flow" && !h.group {
			c.flow = a.Value.String()
		}
	}
	return &c
}

func (h *recentHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next, c.group = h.next.WithGroup(name), true
	return &c
}
