package jstsandbox

import (
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Account is the credentials the sandbox accepts, by the names of the
// vendor's settings in ferry's vendor table, its URL left out.
func (s *Sandbox) Account() map[string]string {
	c := s.Config()
	return map[string]string{"APP_KEY": c.AppKey, "APP_SECRET": c.AppSecret, "ACCESS_TOKEN": c.AccessToken, "REFRESH_TOKEN": c.RefreshToken}
}

// Default is the sandbox ferry up and ferry sandbox serve: 400 orders and 30
// shops that keep changing, some of them showing up late.
func Default(s sandbox.Settings) sandbox.Served {
	s.MutationsPerSecond, s.CreationsPerSecond, s.VisibilityLag = 0.5, 0.2, 30*time.Second
	sb := New(Config{Orders: 400, Shops: 30, Settings: s})
	return sandbox.Served{Handler: sb, Path: "", Account: sb.Account(), Sandbox: sb}
}
