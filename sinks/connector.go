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

// Write makes a Connector's Writer of a vendor's NewWriter, whose client
// is a *C.
func Write[C any, W RecordWriter](newWriter func(*C, *flows.Flow) (W, error)) func(vendors.Client, *flows.Flow) (RecordWriter, error) {
	return func(c vendors.Client, f *flows.Flow) (RecordWriter, error) {
		client, _ := c.(*C)
		return newWriter(client, f)
	}
}
