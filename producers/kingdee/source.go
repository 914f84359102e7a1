package kingdee

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/producers"
)

// MaxPageSize is the largest page ferry asks for. The vendor silently cuts
// larger pages to 100 rows while it still computes total_page from the size
// asked for, which loses rows without an error (vendors.md §4.3).
const MaxPageSize = 100

// FirstPage is where the vendor's page parameter starts.
const FirstPage = 1

// pagingFields are the params the connector sets on every call, whatever
// the flow's request says.
var pagingFields = map[string]bool{"page": true, "page_size": true}

// detailFields are customer fields only the detail call returns: the
// street address, the district and the contacts (vendors.md §4.4), and
// the invoice phone.
var detailFields = []string{"addr", "district_name", "bomentity", "invoice_phone"}

// Source walks one flow's list API through a client. It implements
// producers.Source.
type Source struct {
	client *Client
	path   string
	flow   *flows.Flow
	size   int
}

// DetailSource is a Source whose customers are read again with the detail
// call before they are published, because the flow reads fields only that
// call returns. It implements producers.Enricher: the producer walks the
// list as usual and calls Enrich once per customer after the walk.
type DetailSource struct{ *Source }

// Enrich replaces each listed customer with its detail, sensitive fields
// decrypted.
func (s DetailSource) Enrich(ctx context.Context, recs []json.RawMessage) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(recs))
	for i, rec := range recs {
		var row struct {
			ID json.Number `json:"id"` // a string in the vendor's example; a number reads too
		}
		if err := json.Unmarshal(rec, &row); err != nil || row.ID == "" {
			out[i] = rec // no id: the processor dead-letters it as it is
			continue
		}
		d, err := s.client.Detail(ctx, row.ID.String())
		if err != nil {
			return nil, fmt.Errorf("customer %s: %w", row.ID, err)
		}
		out[i] = d
	}
	return out, nil
}

// NewSource binds a flow to a client: a DetailSource when the flow reads
// fields only the customer detail call returns, else a *Source. Where the flow's seed metadata and
// the vendor's documented rules differ (page base, page-size cap), the
// vendor's rules win, and the difference is logged once here. The flow's
// page and page_size request fields are replaced on every call.
func NewSource(c *Client, f *flows.Flow, log *slog.Logger) (producers.Source, error) {
	if m := f.Source.Method; m != "" && !strings.EqualFold(m, "GET") {
		return nil, fmt.Errorf("flow %s: kingdee list APIs are called with GET, not %s", f.Name, m)
	}
	if !strings.HasPrefix(f.Source.API, "/") {
		return nil, fmt.Errorf("flow %s: kingdee api %q is not a path such as %s", f.Name, f.Source.API, CustomerPath)
	}
	size := int(f.Source.Pagination.PageSize)
	if size == 0 {
		size = MaxPageSize // the flow leaves the page to the vendor
	} else if size > MaxPageSize {
		log.Info("flow asks for larger pages than Kingdee serves (it cuts them to 100 rows but counts total_page on the size asked); using Kingdee's maximum",
			"flow", f.Name, "flow_page_size", size, "page_size", MaxPageSize)
		size = MaxPageSize
	}
	if f.Source.Pagination.PageStart != FirstPage {
		log.Info("flow counts pages from its seed's base; Kingdee counts page from 1, and ferry follows Kingdee",
			"flow", f.Name, "flow_page_start", f.Source.Pagination.PageStart, "page_start", FirstPage)
	}
	src := &Source{client: c, path: f.Source.API, flow: f, size: size}
	if f.Source.API == CustomerPath && slices.ContainsFunc(detailFields, f.Processor.Reads) {
		log.Info("flow reads fields only the customer detail call returns; each customer costs one more call",
			"flow", f.Name, "fields", detailFields, "detail", DetailPath)
		return DetailSource{src}, nil
	}
	return src, nil
}

// PageSize is the page size in use.
func (s *Source) PageSize() int { return s.size }

// Page fetches page pg (0-based; the vendor's page pg+1) of the window.
// Total is the vendor's count.
func (s *Source) Page(ctx context.Context, w producers.Window, pg int) (producers.Page, error) {
	vars := flows.Vars{LastSync: w.From, Current: w.To, Zone: s.flow.Processor.Zone.Loc(), PageSize: s.size, StartPage: FirstPage}
	params := make(map[string]string, len(s.flow.Source.Request)+2)
	for i := range s.flow.Source.Request {
		r := &s.flow.Source.Request[i]
		if pagingFields[r.Field] {
			continue
		}
		v, err := r.Eval(vars)
		if err != nil {
			return producers.Page{}, err
		}
		if v == nil {
			continue
		}
		text, err := paramText(v)
		if err != nil {
			return producers.Page{}, fmt.Errorf("%s: %w", r.Field, err)
		}
		params[r.Field] = text
	}
	params["page"] = strconv.Itoa(pg + FirstPage)
	params["page_size"] = strconv.Itoa(s.size)
	page, err := s.client.List(ctx, s.path, params)
	if err != nil {
		return producers.Page{}, fmt.Errorf("page %d: %w", pg, err)
	}
	return producers.Page{Total: page.Total, Records: page.Records}, nil
}

// paramText renders a request value as a query parameter: lists joined
// with commas, objects as JSON.
func paramText(v any) (string, error) {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, ","), nil
	case map[string]any:
		b, err := json.Marshal(x)
		return string(b), err
	}
	return flows.Text(v), nil
}
