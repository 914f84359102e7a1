// Package vendors describes a SaaS vendor ferry speaks to, for ferry's
// vendor table (cmd/ferry/table.go): its name in flow files, one account's
// settings and their environment variables, and how to make the client of
// an account. A source vendor's package adds how a flow binds to it
// (producers.Connector), a target vendor's how a flow writes to it
// (sinks.Connector), and the vendor's sandbox package how ferry serves an
// imitation of it. Everything that lists vendors derives from the table:
// settings, clients, sandboxes, the deploy and compose environments, the
// README's settings table.
package vendors

import (
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/internal/backoff"
)

// Vendor is one vendor ferry speaks to.
type Vendor struct {
	// Name is the vendor in flow files (source.vendor, target.kind).
	Name string
	// Title names it for people, in Chinese and in Latin letters.
	Title string
	// Env is the middle of its settings' environment variables:
	// FERRY_<Env>_<setting>.
	Env string
	// Settings are one account's settings, URL (the endpoint) first.
	Settings []Setting
	// About is what the README's settings table says of them.
	About string
	// Connect makes the client of one account. All the flows of an account
	// share it, and with it one call budget.
	Connect func(Account, Options) (Client, error)
}

// Setting is one setting of a vendor account.
type Setting struct {
	// Name is the setting in its environment variable: APP_KEY.
	Name string
	// Secret settings are credentials: never logged, and kept in Secrets
	// rather than ConfigMaps.
	Secret bool
}

// Client is the client of one vendor account; only the vendor's own
// connectors know its type.
type Client any

// Account is one account's settings, by setting name.
type Account map[string]string

// DefaultMaxAnswer is the largest answer a client reads unless told
// otherwise: 32 MiB, some hundred times a full page of any vendor's.
const DefaultMaxAnswer = 32 << 20

// URL is the setting that holds an account's endpoint.
const URL = "URL"

// Options are what every vendor client is told beside its account: its
// call budget, the timeout of one call (default 30s), the largest answer
// it reads (default DefaultMaxAnswer), its retry waits (default 500ms
// growing to 30s), the vendor's clock (default time.Now), its log and the
// observer of every answer's headers. Clients embed them in their Config;
// Defaults fills what is unset.
type Options struct {
	// Limit is the account's call budget: the tightest of its flows'.
	Limit   rate.Limit
	Timeout time.Duration
	// MaxAnswer is the most bytes of an answer a client reads; a larger
	// answer is refused, and the call retried.
	MaxAnswer int
	Backoff   backoff.Policy
	// Now is the vendor's clock as ferry reads it; Observe sees the
	// headers of every answer, from whose Date ferry learns that clock.
	Now     func() time.Time
	Observe func(http.Header)
	Logger  *slog.Logger
}

// Defaults fills what is unset: the call budget with limit, a 30s
// timeout, time.Now and a log that discards.
func (o Options) Defaults(limit rate.Limit) Options {
	if o.Limit <= 0 {
		o.Limit = limit
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxAnswer <= 0 {
		o.MaxAnswer = DefaultMaxAnswer
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Var is the environment variable of one of the vendor's settings.
func (v Vendor) Var(setting string) string { return "FERRY_" + v.Env + "_" + setting }

// Vars are the environment variables of all its settings, in order.
func (v Vendor) Vars() []string {
	out := make([]string, len(v.Settings))
	for i, s := range v.Settings {
		out[i] = v.Var(s.Name)
	}
	return out
}
