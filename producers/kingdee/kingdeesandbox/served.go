package kingdeesandbox

import (
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Account is the credentials the sandbox accepts, by the names of the
// vendor's settings in ferry's vendor table, its URL left out.
func (s *Sandbox) Account() map[string]string {
	c := s.Config()
	return map[string]string{"CLIENT_ID": c.ClientID, "CLIENT_SECRET": c.ClientSecret, "OUTER_INSTANCE_ID": c.OuterInstanceID}
}

// Default is the sandbox ferry up and ferry sandbox serve: 300 customers
// that keep changing, some of them showing up late.
func Default(s sandbox.Settings) sandbox.Served {
	s.MutationsPerSecond, s.CreationsPerSecond, s.VisibilityLag = 0.2, 0.1, 30*time.Second
	sb := New(Config{Customers: 300, Settings: s})
	return sandbox.Served{Handler: sb, Path: "", Account: sb.Account(), Sandbox: sb}
}
