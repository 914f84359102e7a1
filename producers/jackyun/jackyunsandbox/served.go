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
func Default(s sandbox.Settings) sandbox.Served {
	s.Since = s.Since.Add(-24 * time.Hour)
	s.MutationsPerSecond, s.CreationsPerSecond, s.VisibilityLag = 0.5, 0.2, 30*time.Second
	sb := New(Config{Trades: 400, Settings: s})
	return sandbox.Served{Handler: sb, Path: "/open/openapi/do", Account: sb.Account(), Sandbox: sb}
}
