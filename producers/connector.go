package producers

import (
	"log/slog"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/vendors"
)

// Connector is a source vendor in ferry's vendor table.
type Connector struct {
	vendors.Vendor
	// APIPrefix starts the names of the vendor's APIs ("shop."); ferry flow
	// import tells a seed scheme's vendor by it.
	APIPrefix string
	// Bind binds a flow to the vendor's source, through the client of the
	// flow's account. It logs where the vendor's rules win over the flow's
	// metadata and refuses what the vendor cannot serve; with a nil client
	// (ferry flow import) it only checks.
	Bind func(c vendors.Client, f *flows.Flow, log *slog.Logger) (Source, error)
}

// Bind makes a Connector's Bind of a vendor's NewSource, whose client is
// a *C.
func Bind[C any, S Source](newSource func(*C, *flows.Flow, *slog.Logger) (S, error)) func(vendors.Client, *flows.Flow, *slog.Logger) (Source, error) {
	return func(c vendors.Client, f *flows.Flow, log *slog.Logger) (Source, error) {
		client, _ := c.(*C)
		return newSource(client, f, log)
	}
}
