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
func Default(s sandbox.Settings) sandbox.Served {
	s.MutationsPerSecond, s.CreationsPerSecond, s.VisibilityLag = 0.5, 0.2, 30*time.Second
	sb := New(Config{Records: 400, CallsPerMinute: 120, Settings: s})
	return sandbox.Served{Handler: sb, Path: "/openapi", Account: sb.Account(), Sandbox: sb}
}
