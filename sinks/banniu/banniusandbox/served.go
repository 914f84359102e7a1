package banniusandbox

import (
	"github.com/ferry-data/ferry/internal/sandbox"
)

// Account is the credentials the sandbox accepts, by the names of the
// vendor's settings in ferry's vendor table, its URL left out.
func (s *Sandbox) Account() map[string]string {
	c := s.Config()
	return map[string]string{"APP_KEY": c.AppKey, "APP_SECRET": c.AppSecret, "ACCESS_TOKEN": c.AccessToken}
}

// Default is the sandbox ferry up and ferry sandbox serve: the after-sales
// project with no tasks yet: the tasks come from what the sources sell (see
// AddTask).
func Default(o sandbox.Options) sandbox.Served {
	s := New(Config{Tasks: -1,
		Settings: sandbox.Settings{Seed: o.Seed, Now: o.Now, Faults: o.Faults}})
	return sandbox.Served{Handler: s, Path: "/gateway/api/miniAPI", Account: s.Account(), Sandbox: s}
}
