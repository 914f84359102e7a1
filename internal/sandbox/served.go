package sandbox

import (
	"net/http"
	"time"
)

// Options are what ferry up, ferry sandbox and the tests ask of every
// vendor sandbox they serve from the vendor table.
type Options struct {
	// Seed seeds the sandbox's data and answers.
	Seed int64
	// Since is when the sandbox's history begins: its records were made
	// and changed after it.
	Since time.Time
	// Faults is the trouble it puts on top of correct answers.
	Faults Faults
	// Now is its clock; default time.Now.
	Now func() time.Time
}

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
