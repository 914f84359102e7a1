package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/vendors"
)

// vendorTable is the shape of ferry's table of vendors (table.go).
type vendorTable struct {
	Sources []producers.Connector
	Targets []sinks.Connector
	// Sandboxes imitate each vendor, by name.
	Sandboxes map[string]func(sandbox.Settings) sandbox.Served
	// Link, when set, makes the served sandboxes' data agree across
	// vendors.
	Link func(map[string]sandbox.Served)
}

// vendors are all the table's vendors, sources first.
func (t vendorTable) vendors() []vendors.Vendor {
	var out []vendors.Vendor
	for _, c := range t.Sources {
		out = append(out, c.Vendor)
	}
	for _, c := range t.Targets {
		out = append(out, c.Vendor)
	}
	return out
}

func (t vendorTable) source(name string) (producers.Connector, bool) {
	i := slices.IndexFunc(t.Sources, func(c producers.Connector) bool { return c.Name == name })
	if i < 0 {
		return producers.Connector{}, false
	}
	return t.Sources[i], true
}

func (t vendorTable) target(name string) (sinks.Connector, bool) {
	i := slices.IndexFunc(t.Targets, func(c sinks.Connector) bool { return c.Name == name })
	if i < 0 {
		return sinks.Connector{}, false
	}
	return t.Targets[i], true
}

// flows is what the flow loader and importer know of the table.
func (t vendorTable) flows() flows.Vendors {
	v := flows.Vendors{APIPrefixes: map[string]string{}}
	for _, c := range t.Sources {
		v.Sources = append(v.Sources, c.Name)
		if c.APIPrefix != "" {
			v.APIPrefixes[c.APIPrefix] = c.Name
		}
	}
	for _, c := range t.Targets {
		v.Targets = append(v.Targets, c.Name)
	}
	return v
}

// env lists the environment variables of every vendor's settings.
func (t vendorTable) env() []string {
	var out []string
	for _, v := range t.vendors() {
		out = append(out, v.Vars()...)
	}
	return out
}

// serve makes every vendor's sandbox and links their data.
func (t vendorTable) serve(o sandbox.Settings) map[string]sandbox.Served {
	out := map[string]sandbox.Served{}
	for name, mk := range t.Sandboxes {
		out[name] = mk(o)
	}
	if t.Link != nil {
		t.Link(out)
	}
	return out
}

// sandboxNames are the names of the vendors with a sandbox, in table order
// (TestEveryVendorHasASandbox holds every vendor to having one).
func (t vendorTable) sandboxNames() []string {
	var out []string
	for _, v := range t.vendors() {
		if t.Sandboxes[v.Name] != nil {
			out = append(out, v.Name)
		}
	}
	return out
}

// vendors is the process's vendor table: ferry's, or a test's.
func (p *pipeline) vendors() vendorTable {
	if p.table != nil {
		return *p.table
	}
	return table
}

// options are the client options of a vendor account: the tightest budget
// of the process's flows on it, as source or as target, and the vendor's
// clock.
func (p *pipeline) options(vendor string) vendors.Options {
	var limit rate.Limit
	for _, f := range p.flows {
		for _, r := range []struct {
			on    string
			limit rate.Limit
		}{{f.Source.Vendor, f.Source.Rate.Limit}, {f.Target.Kind, f.Target.Rate.Limit}} {
			if r.on == vendor && r.limit > 0 && (limit == 0 || r.limit < limit) {
				limit = r.limit
			}
		}
	}
	c := p.vendorClock(vendor)
	o := vendors.Options{Limit: limit, MaxAnswer: p.cfg.AnswerLimit, Now: c.Now, Observe: c.Observe, Logger: p.log}
	if p.tune != nil {
		p.tune(&o)
	}
	return o
}

// vendorClock is the vendor's clock, shared by its clients and producers.
func (p *pipeline) vendorClock(vendor string) *producers.VendorClock {
	if p.clocks == nil {
		p.clocks = map[string]*producers.VendorClock{}
	}
	c, ok := p.clocks[vendor]
	if !ok {
		c = producers.NewVendorClock(p.now)
		p.clocks[vendor] = c
	}
	return c
}

// client is the process's one client of a vendor's account, made on first
// use.
func (p *pipeline) client(f *flows.Flow, v vendors.Vendor) (vendors.Client, error) {
	if c, ok := p.clients[v.Name]; ok {
		return c, nil
	}
	a := p.cfg.Accounts[v.Name]
	if a[vendors.URL] == "" {
		return nil, fmt.Errorf("flow %s: no %s endpoint (set %s)", f.Name, v.Title, strings.Join(v.Vars(), ", "))
	}
	c, err := v.Connect(a, p.options(v.Name))
	if err != nil {
		return nil, fmt.Errorf("flow %s: %s: %w", f.Name, v.Title, err)
	}
	if p.clients == nil {
		p.clients = map[string]vendors.Client{}
	}
	p.clients[v.Name] = c
	return c, nil
}

// source returns the connector that polls a flow's source, through the
// process's client of the flow's vendor account.
func (p *pipeline) source(f *flows.Flow) (producers.Source, error) {
	conn, ok := p.vendors().source(f.Source.Vendor)
	if !ok {
		return nil, fmt.Errorf("flow %s: no connector for vendor %q", f.Name, f.Source.Vendor)
	}
	c, err := p.client(f, conn.Vendor)
	if err != nil {
		return nil, err
	}
	src, err := conn.Bind(c, f, p.log)
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	return src, nil
}

// targetWriter returns the writer of a flow whose target is a vendor's API.
func (p *pipeline) targetWriter(f *flows.Flow) (sinks.RecordWriter, error) {
	conn, ok := p.vendors().target(f.Target.Kind)
	if !ok {
		return nil, fmt.Errorf("flow %s: no sink for target %q", f.Name, f.Target.Kind)
	}
	c, err := p.client(f, conn.Vendor)
	if err != nil {
		return nil, err
	}
	w, err := conn.Writer(c, f)
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	return w, nil
}

// checkSource binds a flow to its vendor's connector without a client, as
// ferry flow import does: the connector logs where the vendor's rules win
// over the flow's metadata and refuses what the vendor cannot serve.
func checkSource(t vendorTable, f *flows.Flow, log *slog.Logger) error {
	conn, ok := t.source(f.Source.Vendor)
	if !ok {
		return fmt.Errorf("no connector for vendor %q", f.Source.Vendor)
	}
	_, err := conn.Bind(nil, f, log)
	return err
}
