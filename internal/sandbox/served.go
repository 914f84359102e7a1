package sandbox

import (
	"net/http"
	"time"
)

// Served is one vendor sandbox as ferry serves it.
type Served struct {
	Handler http.Handler
	// Path is the endpoint's path after http://host:port, as the vendor's
	// client wants it in its URL setting.
	Path string
	// Account is the credentials the sandbox accepts, by the name of the
	// vendor's settings (APP_KEY, …), its URL left out.
	Account map[string]string
	// Sandbox is the sandbox itself, for what only its own package knows
	// (its truth, its tasks).
	Sandbox any
}

// Settings are what every sandbox is configured with beside its
// protocol's own settings. Each sandbox's Config embeds them, and the
// vendor table serves each sandbox's Default with them.
type Settings struct {
	// Seed seeds every random choice (math/rand/v2 PCG).
	Seed int64
	// Since is where the start records' stamps begin; they spread over
	// [Since, Now()). Default Now()-72h.
	Since time.Time
	// Now is the sandbox's clock (default time.Now). Everything that moves
	// (changes, visibility, quotas, timestamp checks, Date headers)
	// follows it; only Faults.SlowDelay is wall time.
	Now func() time.Time
	// MutationsPerSecond is how many existing records change per second
	// of clock time, CreationsPerSecond how many new ones appear.
	MutationsPerSecond, CreationsPerSecond float64
	// MutationsPerCall is how many records a page call changes before it
	// answers, chosen among those the caller's walk has already passed
	// (matches of the query before the page's offset), so that a forward
	// walk skips one. The first page changes nothing.
	MutationsPerCall int
	// VisibilityLag bounds how long a change stays invisible to queries:
	// each creation or change shows after a random delay in [0,
	// VisibilityLag] after its stamp; until then queries see the version
	// before.
	VisibilityLag time.Duration
	// Faults are the injected failures; SetFaults changes them later.
	Faults
}

// WithDefaults fills the clock, Since and the faults' defaults.
func (s Settings) WithDefaults() Settings {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Since.IsZero() {
		s.Since = s.Now().Add(-72 * time.Hour)
	}
	s.Faults = s.Faults.WithDefaults()
	return s
}
