package sinks

import (
	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/vendors"
)

// Connector is a target vendor in ferry's vendor table: flows whose
// target.kind is its name write to it through an APISink.
type Connector struct {
	vendors.Vendor
	// Writer makes the writer of a flow, through the client of the flow's
	// target account.
	Writer func(c vendors.Client, f *flows.Flow) (RecordWriter, error)
}
