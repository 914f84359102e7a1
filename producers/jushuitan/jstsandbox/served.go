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
func Default(o sandbox.Options) sandbox.Served {
	s := New(Config{Orders: 400, Shops: 30,
		Settings: sandbox.Settings{Seed: o.Seed, Since: o.Since, Now: o.Now, MutationsPerSecond: 0.5, CreationsPerSecond: 0.2, VisibilityLag: 30 * time.Second, Faults: o.Faults}})
	return sandbox.Served{Handler: s, Path: "", Account: s.Account(), Sandbox: s}
}
