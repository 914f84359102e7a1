package jackyunsandbox

import (
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Account is the credentials the sandbox accepts, by the names of the
// vendor's settings in ferry's vendor table, its URL left out.
func (s *Sandbox) Account() map[string]string {
	c := s.Config()
	return map[string]string{"APP_KEY": c.AppKey, "SECRET": c.Secret}
}

// Default is the sandbox ferry up and ferry sandbox serve: 400 trades, from
// a day before Since, that keep changing, some of them showing up late.
func Default(o sandbox.Options) sandbox.Served {
	s := New(Config{Trades: 400,
		Settings: sandbox.Settings{Seed: o.Seed, Since: o.Since.Add(-24 * time.Hour), Now: o.Now, MutationsPerSecond: 0.5, CreationsPerSecond: 0.2, VisibilityLag: 30 * time.Second, Faults: o.Faults}})
	return sandbox.Served{Handler: s, Path: "/open/openapi/do", Account: s.Account(), Sandbox: s}
}
