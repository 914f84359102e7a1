// Package sandbox is the engine ferry's vendor sandboxes share: the clock,
// the seeded change engine that keeps records changing (and some changes
// showing late), the faults (throttling, 5xx, slow and truncated answers),
// the counters, and the signing vocabulary several vendors have in common.
//
// Each vendor's sandbox lives beside its connector, in the <vendor>sandbox
// folder of the vendor's package, and is an independent reading of the
// vendor's protocol from ../shared/vendors.md: it never imports the client
// it is there to test. Tests mount a sandbox with httptest; ferry sandbox
// and ferry up serve them locally. A sandbox speaks the vendor's wire
// protocol, checks signatures the way the vendor does, and sets the traps
// that make incremental polling lose data, so that ferry's connectors can
// be shown to survive them.
package sandbox
