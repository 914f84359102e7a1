package wdtsandbox

import (
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Account is the credentials the sandbox accepts, by the names of the
// vendor's settings in ferry's vendor table, its URL left out.
func (s *Sandbox) Account() map[string]string {
	c := s.Config()
	return map[string]string{"SID": c.SID, "APP_KEY": c.AppKey, "APP_SECRET": c.AppSecret}
}

// Default is the sandbox ferry up and ferry sandbox serve: 400 refunds that
// keep changing, some of them showing up late, behind a 120-a-minute quota.
func Default(o sandbox.Options) sandbox.Served {
	s := New(Config{Records: 400, CallsPerMinute: 120,
		Settings: sandbox.Settings{Seed: o.Seed, Since: o.Since, Now: o.Now, MutationsPerSecond: 0.5, CreationsPerSecond: 0.2, VisibilityLag: 30 * time.Second, Faults: o.Faults}})
	return sandbox.Served{Handler: s, Path: "/openapi", Account: s.Account(), Sandbox: s}
}
