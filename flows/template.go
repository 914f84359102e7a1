package flows

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Vars are the values a request template can refer to.
type Vars struct {
	LastSync time.Time // LAST_SYNC_TIME: the start of the window
	Current  time.Time // CURRENT_TIME: the end of the window
	Zone     *time.Location
}

// Template is a parsed request value: literal text with placeholders in the
// seed's syntax, {{NAME|filter}} or {NAME}. Times render as unix seconds
// unless a filter says otherwise: datetime (yyyy-MM-dd HH:mm:ss in the
// vendor's zone), date (yyyy-MM-dd), millis (unix milliseconds).
type Template struct {
	parts []part
}

type part struct {
	lit    string
	name   string
	filter string
}

var (
	placeholderRE = regexp.MustCompile(`\{\{\s*([A-Z_]+)\s*(?:\|\s*([a-z]+)\s*)?\}\}|\{([A-Z_]+)\}`)
	knownVars     = map[string]bool{"LAST_SYNC_TIME": true, "CURRENT_TIME": true}
	knownFilters  = map[string]bool{"": true, "datetime": true, "date": true, "millis": true, "timestamp": true}
)

// ParseTemplate parses a request value.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{}
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			t.parts = append(t.parts, part{lit: s[last:m[0]]})
		}
		var p part
		if m[2] >= 0 {
			p.name = s[m[2]:m[3]]
			if m[4] >= 0 {
				p.filter = s[m[4]:m[5]]
			}
		} else {
			p.name = s[m[6]:m[7]]
		}
		if !knownVars[p.name] {
			return nil, fmt.Errorf("unknown variable %s in %q (known: LAST_SYNC_TIME, CURRENT_TIME)", p.name, s)
		}
		if !knownFilters[p.filter] {
			return nil, fmt.Errorf("unknown filter %q in %q (known: datetime, date, millis, timestamp)", p.filter, s)
		}
		t.parts = append(t.parts, p)
		last = m[1]
	}
	if last < len(s) {
		t.parts = append(t.parts, part{lit: s[last:]})
	}
	return t, nil
}

// Render fills the template.
func (t *Template) Render(v Vars) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.name == "" {
			b.WriteString(p.lit)
			continue
		}
		tm := v.LastSync
		if p.name == "CURRENT_TIME" {
			tm = v.Current
		}
		if v.Zone != nil {
			tm = tm.In(v.Zone)
		}
		switch p.filter {
		case "datetime":
			b.WriteString(tm.Format(time.DateTime))
		case "date":
			b.WriteString(tm.Format(time.DateOnly))
		case "millis":
			b.WriteString(strconv.FormatInt(tm.UnixMilli(), 10))
		default:
			b.WriteString(strconv.FormatInt(tm.Unix(), 10))
		}
	}
	return b.String()
}

// Render fills the field's value template.
func (r *RequestField) Render(v Vars) string {
	if r.tmpl == nil {
		return r.Value
	}
	return r.tmpl.Render(v)
}
