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
func Default(s sandbox.Settings) sandbox.Served {
	sb := New(Config{Tasks: -1, Settings: s})
	return sandbox.Served{Handler: sb, Path: "/gateway/api/miniAPI", Account: sb.Account(), Sandbox: sb}
}
