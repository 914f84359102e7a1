package wdt

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/producers"
)

// methods maps the Qimen names that seed schemes use to the direct API's
// method names.
var methods = map[string]string{
	"wdt.aftersales.refund.refund.search": "aftersales.refund.Refund.search",
}

// Source walks one flow's search through a client. It implements
// producers.Source.
type Source struct {
	client *Client
	method string
	flow   *flows.Flow
	size   int
}

// NewSource binds a flow to a client. Where the flow's seed metadata and
// WDT's documented rules differ (page base, page size), the vendor's rules
// win, and the difference is logged once here.
func NewSource(c *Client, f *flows.Flow, log *slog.Logger) (*Source, error) {
	method, ok := methods[f.Source.API]
	if !ok {
		method = f.Source.API
	}
	size := int(f.Source.Pagination.PageSize)
	if size == 0 {
		size = MaxPageSize // the flow leaves the page to the vendor
	} else if size > MaxPageSize {
		log.Info("flow asks for larger pages than WDT serves; using WDT's maximum", "flow", f.Name, "flow_page_size", size, "page_size", MaxPageSize)
		size = MaxPageSize
	}
	if f.Source.Pagination.PageStart != 0 {
		log.Info("flow counts pages from its seed's base; WDT's direct API counts page_no from 0, and ferry follows WDT",
			"flow", f.Name, "flow_page_start", f.Source.Pagination.PageStart, "page_start", 0)
	}
	if method != f.Source.API {
		log.Info("calling the direct API method for the flow's Qimen name", "flow", f.Name, "api", f.Source.API, "method", method)
	}
	return &Source{client: c, method: method, flow: f, size: size}, nil
}

// PageSize is the page size in use.
func (s *Source) PageSize() int { return s.size }

// Page fetches page pg (0-based) of the window.
func (s *Source) Page(ctx context.Context, w producers.Window, pg int) (producers.Page, error) {
	vars := flows.Vars{LastSync: w.From, Current: w.To, Zone: s.flow.Processor.Zone.Loc(), PageSize: s.size}
	params := make(map[string]any, len(s.flow.Source.Request))
	for i := range s.flow.Source.Request {
		r := &s.flow.Source.Request[i]
		v, err := r.Eval(vars)
		if err != nil {
			return producers.Page{}, err
		}
		if v != nil {
			params[r.Field] = v
		}
	}
	page, err := s.client.Search(ctx, s.method, params, pg, s.size)
	if err != nil {
		return producers.Page{}, fmt.Errorf("page %d: %w", pg, err)
	}
	return producers.Page{Total: page.Total, Records: page.Records}, nil
}
