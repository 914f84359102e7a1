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
func Default(o sandbox.Options) sandbox.Served {
	s := New(Config{Customers: 300,
		Settings: sandbox.Settings{Seed: o.Seed, Since: o.Since, Now: o.Now, MutationsPerSecond: 0.2, CreationsPerSecond: 0.1, VisibilityLag: 30 * time.Second, Faults: o.Faults}})
	return sandbox.Served{Handler: s, Path: "", Account: s.Account(), Sandbox: s}
}
