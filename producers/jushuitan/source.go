package jushuitan

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/producers"
)

// Paging and window rules of the queries (vendors.md §1.4).
const (
	// MaxOrdersPageSize is the largest page_size of the orders-out query.
	MaxOrdersPageSize = 50
	// MaxShopsPageSize is the largest page_size of the shop query.
	MaxShopsPageSize = 100
	// MaxWindow is the longest modified_begin..modified_end span the
	// orders-out query accepts.
	MaxWindow = 7 * 24 * time.Hour
	// FirstPage is where page_index counts from.
	FirstPage = 1
)

// paths maps the legacy method names that seed schemes use to the new
// protocol's paths.
var paths = map[string]string{
	"orders.out.simple.query": OrdersPath,
}

// maxPageSizes are the page_size caps by path.
var maxPageSizes = map[string]int{
	OrdersPath: MaxOrdersPageSize,
	ShopsPath:  MaxShopsPageSize,
}

// Source walks one flow's query through a client. It implements
// producers.Source.
type Source struct {
	client *Client
	path   string
	flow   *flows.Flow
	zone   *time.Location
	size   int
}

// NewSource binds a flow to a client. Where the flow's seed metadata and
// Jushuitan's documented rules differ (legacy method name, page base, page
// size cap, zone), the vendor's rules win, and each difference is logged
// once here. A flow whose windows are longer than the vendor accepts is
// refused.
func NewSource(c *Client, f *flows.Flow, log *slog.Logger) (*Source, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := f.Source.API
	if p, ok := paths[path]; ok {
		log.Info("calling the openapi path for the flow's legacy method name", "flow", f.Name, "api", f.Source.API, "path", p)
		path = p
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("flow %s: jushuitan api %q: want an openapi path such as %s", f.Name, f.Source.API, OrdersPath)
	}
	size := int(f.Source.Pagination.PageSize)
	switch limit, ok := maxPageSizes[path]; {
	case size == 0 && !ok:
		return nil, fmt.Errorf("flow %s: jushuitan api %s: ferry knows no page size for it; set source.pagination.pageSize", f.Name, path)
	case size == 0:
		size = limit // the flow leaves the page to the vendor
	case ok && size > limit:
		log.Info("flow asks for larger pages than Jushuitan serves; using Jushuitan's maximum", "flow", f.Name, "flow_page_size", size, "page_size", limit)
		size = limit
	}
	if f.Source.Pagination.PageStart != FirstPage {
		log.Info("flow counts pages from its seed's base; Jushuitan counts page_index from 1, and ferry follows Jushuitan",
			"flow", f.Name, "flow_page_start", f.Source.Pagination.PageStart, "page_start", FirstPage)
	}
	for _, r := range f.Source.Request {
		if r.Field == "page_index" || r.Field == "page_size" {
			log.Info("flow sets a paging field; ferry sets it on each call instead", "flow", f.Name, "field", r.Field)
		}
	}
	zone := f.Processor.Zone.Loc()
	if span := f.Source.Window.Max.D(); path == OrdersPath && span > MaxWindow {
		return nil, fmt.Errorf("flow %s: source.window.max %s exceeds the %s Jushuitan accepts", f.Name, span, MaxWindow)
	}
	return &Source{client: c, path: path, flow: f, zone: zone, size: size}, nil
}

// PageSize is the page size in use.
func (s *Source) PageSize() int { return s.size }

// Page fetches ferry's page pg (0-based), page_index pg+1, of the window.
// The business params come from the flow's request fields; page_index and
// page_size are the connector's.
func (s *Source) Page(ctx context.Context, w producers.Window, pg int) (producers.Page, error) {
	vars := flows.Vars{LastSync: w.From, Current: w.To, Zone: s.zone, PageSize: s.size, StartPage: FirstPage}
	biz := make(map[string]any, len(s.flow.Source.Request)+2)
	for i := range s.flow.Source.Request {
		r := &s.flow.Source.Request[i]
		if r.Field == "page_index" || r.Field == "page_size" {
			continue
		}
		v, err := r.Eval(vars)
		if err != nil {
			return producers.Page{}, fmt.Errorf("page %d: %w", pg, err)
		}
		if v != nil {
			biz[r.Field] = v
		}
	}
	biz["page_index"] = pg + FirstPage
	biz["page_size"] = s.size
	page, err := s.client.Query(ctx, s.path, biz)
	if err != nil {
		return producers.Page{}, fmt.Errorf("page %d: %w", pg, err)
	}
	return producers.Page{Total: page.Total, Records: page.Records, More: page.More}, nil
}
