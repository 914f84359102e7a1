package jackyun

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/producers"
)

// TradeSearch is the method the seed schemes call, on the own gateway.
const TradeSearch = "jackyun.tradenotsensitiveinfos.list.get"

// pagingFields are the business params the connector sets on every call,
// whatever the flow's request says.
var pagingFields = map[string]bool{"pageIndex": true, "pageSize": true, "hasTotal": true}

// Source walks one flow's search through a client. It implements
// producers.Source.
type Source struct {
	client *Client
	method string
	flow   *flows.Flow
	size   int
}

// NewSource binds a flow to a client. Where the flow's seed metadata and
// Jackyun's documented rules differ (page base, page size, paging fields in
// the request), the vendor's rules win, and the difference is logged once
// here, as is a flow whose times would not render in Beijing time. A flow
// whose windows may be longer than the vendor's 7 days is refused: every
// such window would be.
func NewSource(c *Client, f *flows.Flow, log *slog.Logger) (*Source, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if w := f.Source.Window.Max.D(); w > MaxWindow {
		return nil, fmt.Errorf("flow %s: source.window.max %s is longer than Jackyun's %s limit on a time-filter pair", f.Name, w, MaxWindow)
	}
	size := int(f.Source.Pagination.PageSize)
	if size == 0 {
		size = MaxPageSize // the flow leaves the page to the vendor
	} else if size > MaxPageSize {
		log.Info("flow asks for larger pages than Jackyun serves; using Jackyun's maximum",
			"flow", f.Name, "flow_page_size", size, "page_size", MaxPageSize)
		size = MaxPageSize
	}
	if f.Source.Pagination.PageStart != 0 {
		log.Info("flow counts pages from its seed's base; Jackyun counts pageIndex from 0, and ferry follows Jackyun",
			"flow", f.Name, "flow_page_start", f.Source.Pagination.PageStart, "page_start", 0)
	}
	if _, off := time.Now().In(f.Processor.Zone.Loc()).Zone(); off != 8*3600 {
		log.Warn("flow renders times outside Beijing time; Jackyun reads yyyy-MM-dd HH:mm:ss as Asia/Shanghai",
			"flow", f.Name, "zone", f.Processor.Zone.Loc().String())
	}
	for _, r := range f.Source.Request {
		if pagingFields[r.Field] {
			log.Info("flow sets a paging parameter; the connector sets it on every call instead",
				"flow", f.Name, "field", r.Field)
		}
	}
	return &Source{client: c, method: f.Source.API, flow: f, size: size}, nil
}

// PageSize is the page size in use.
func (s *Source) PageSize() int { return s.size }

// Page fetches page pg (0-based) of the window.
func (s *Source) Page(ctx context.Context, w producers.Window, pg int) (producers.Page, error) {
	vars := flows.Vars{LastSync: w.From, Current: w.To, Zone: s.flow.Processor.Zone.Loc(), PageSize: s.size, StartPage: 0}
	params := make(map[string]any, len(s.flow.Source.Request))
	for i := range s.flow.Source.Request {
		r := &s.flow.Source.Request[i]
		if pagingFields[r.Field] {
			continue
		}
		v, err := r.Eval(vars)
		if err != nil {
			return producers.Page{}, fmt.Errorf("page %d: %w", pg, err)
		}
		if v != nil {
			params[r.Field] = v
		}
	}
	page, err := s.client.Search(ctx, s.method, params, pg, s.size)
	if err != nil {
		return producers.Page{}, fmt.Errorf("page %d: %w", pg, err)
	}
	out := producers.Page{Total: page.Total, Records: page.Records}
	if page.Total < 0 {
		out.More = len(page.Records) == s.size
	}
	return out, nil
}
