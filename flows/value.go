package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Vars are what request values can refer to.
type Vars struct {
	// LastSync is LAST_SYNC_TIME, the start of the window.
	LastSync time.Time
	// Current is CURRENT_TIME, the end of the window.
	Current time.Time
	// Zone is the vendor's zone, for date-time text.
	Zone *time.Location
	// PageSize and StartPage are PAGINATION_PAGE_SIZE and
	// PAGINATION_START_PAGE.
	PageSize, StartPage int
	// Record is the record a target block writes; its fields are
	// {fieldName} in templates and plain names in expressions.
	Record map[string]any
}

func (v Vars) zone() *time.Location {
	if v.Zone == nil {
		return time.UTC
	}
	return v.Zone
}

// Template is a string in the seed's template syntax: literal text with
// placeholders {{NAME|filter}} or {NAME}. NAME is LAST_SYNC_TIME,
// CURRENT_TIME, PAGINATION_PAGE_SIZE, PAGINATION_START_PAGE or, in target
// blocks, a field of the record. Times render as unix seconds unless a
// filter says otherwise: datetime (yyyy-MM-dd HH:mm:ss in the vendor's
// zone), date (yyyy-MM-dd), millis (unix milliseconds).
type Template struct {
	parts []part
}

type part struct {
	lit    string
	name   string
	filter string
}

var (
	placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:\|\s*([a-z]+)\s*)?\}\}|\{([A-Za-z_][A-Za-z0-9_.]*)\}`)
	timeVars      = map[string]bool{"LAST_SYNC_TIME": true, "CURRENT_TIME": true}
	pageVars      = map[string]bool{"PAGINATION_PAGE_SIZE": true, "PAGINATION_START_PAGE": true}
	knownFilters  = map[string]bool{"": true, "datetime": true, "date": true, "millis": true, "timestamp": true}
)

// ParseTemplate parses a template of a source block: only the window and
// paging variables are known.
func ParseTemplate(s string) (*Template, error) { return parseTemplate(s, false) }

func parseTemplate(s string, record bool) (*Template, error) {
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
		if !timeVars[p.name] && !pageVars[p.name] && (!record || strings.ToUpper(p.name) == p.name) {
			return nil, fmt.Errorf("unknown variable %s in %q (known: LAST_SYNC_TIME, CURRENT_TIME, PAGINATION_PAGE_SIZE, PAGINATION_START_PAGE)", p.name, s)
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

// Names lists the variables the template refers to.
func (t *Template) Names() []string {
	var out []string
	for _, p := range t.parts {
		if p.name != "" {
			out = append(out, p.name)
		}
	}
	return out
}

// Render fills the template.
func (t *Template) Render(v Vars) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch {
		case p.name == "":
			b.WriteString(p.lit)
		case timeVars[p.name]:
			tm := v.LastSync
			if p.name == "CURRENT_TIME" {
				tm = v.Current
			}
			tm = tm.In(v.zone())
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
		case p.name == "PAGINATION_PAGE_SIZE":
			b.WriteString(strconv.Itoa(v.PageSize))
		case p.name == "PAGINATION_START_PAGE":
			b.WriteString(strconv.Itoa(v.StartPage))
		default:
			b.WriteString(Text(lookup(v.Record, p.name)))
		}
	}
	return b.String()
}

// lookup reads a dotted path in a record.
func lookup(rec map[string]any, path string) any {
	var cur any = rec
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// Text renders a value the way a vendor expects it in a string parameter:
// numbers without exponent, nil as "".
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// Expr is a compiled `_function` expression of the seed syntax: arithmetic
// and functions over {VAR} placeholders, as
// `from_unixtime(({LAST_SYNC_TIME}-86400),'%Y-%m-%d %H:%i:%s')` or
// `{CURRENT_TIME}*1000`. Time variables are unix seconds. It runs on
// github.com/expr-lang/expr; this type only translates the seed's syntax.
type Expr struct {
	src  string
	prog *vm.Program
	zone *time.Location
}

var braceRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// ParseExpr compiles a `_function` body; times render in zone. With
// record set, names other than the known variables are fields of the
// record.
func ParseExpr(src string, record bool, zone *time.Location) (*Expr, error) {
	code := braceRE.ReplaceAllString(src, "$1")
	for _, m := range braceRE.FindAllStringSubmatch(src, -1) {
		if !timeVars[m[1]] && !pageVars[m[1]] && !record {
			return nil, fmt.Errorf("unknown variable %s in %q", m[1], src)
		}
	}
	if zone == nil {
		zone = time.UTC
	}
	e := &Expr{src: src, zone: zone}
	opts := append(functions(e), expr.Env(map[string]any{
		"LAST_SYNC_TIME": int64(0), "CURRENT_TIME": int64(0),
		"PAGINATION_PAGE_SIZE": 0, "PAGINATION_START_PAGE": 0,
	}))
	if record {
		opts = append(opts, expr.AllowUndefinedVariables())
	}
	prog, err := expr.Compile(code, opts...)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", src, err)
	}
	e.prog = prog
	return e, nil
}

// Eval runs the expression.
func (e *Expr) Eval(v Vars) (any, error) {
	env := map[string]any{}
	for k, x := range v.Record {
		env[k] = x
	}
	env["LAST_SYNC_TIME"] = v.LastSync.Unix()
	env["CURRENT_TIME"] = v.Current.Unix()
	env["PAGINATION_PAGE_SIZE"] = v.PageSize
	env["PAGINATION_START_PAGE"] = v.StartPage
	out, err := expr.Run(e.prog, env)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", e.src, err)
	}
	return out, nil
}

// functions are the seed platform's functions an expression may call.
func functions(e *Expr) []expr.Option {
	return []expr.Option{
		expr.Function("from_unixtime", func(args ...any) (any, error) {
			sec, ok := number(args[0])
			if !ok {
				return nil, fmt.Errorf("from_unixtime: %v is not a number", args[0])
			}
			layout := time.DateTime
			if len(args) > 1 {
				f, _ := args[1].(string)
				layout = mysqlLayout(f)
			}
			return time.Unix(int64(sec), 0).In(e.zone).Format(layout), nil
		}),
		expr.Function("unix_timestamp", func(args ...any) (any, error) {
			s, _ := args[0].(string)
			t, err := time.ParseInLocation(time.DateTime, s, e.zone)
			if err != nil {
				return nil, fmt.Errorf("unix_timestamp: %w", err)
			}
			return t.Unix(), nil
		}),
	}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// mysqlLayout turns a MySQL date format (%Y-%m-%d %H:%i:%s) into a Go
// layout.
func mysqlLayout(f string) string {
	r := strings.NewReplacer("%Y", "2006", "%y", "06", "%m", "01", "%c", "1", "%d", "02", "%e", "2",
		"%H", "15", "%h", "03", "%i", "04", "%s", "05", "%S", "05", "%T", "15:04:05", "%f", "000000", "%%", "%")
	return r.Replace(f)
}

// Lookup is a value found by searching the target, the seed's
// `_mongoQuery <collection> findField=<field> where={"<column>":{"$eq":"<template>"}}`:
// the record whose Column equals the rendered Value gives its Find field.
type Lookup struct {
	Collection string
	Find       string
	Column     string
	Value      *Template
}

var lookupRE = regexp.MustCompile(`^_mongoQuery\s+(\S+)\s+findField=(\S+)\s+where=(\{.*\})\s*$`)

func parseLookup(s string) (*Lookup, error) {
	m := lookupRE.FindStringSubmatch(s)
	if m == nil {
		return nil, errors.New(`want _mongoQuery <collection> findField=<field> where={"<column>":{"$eq":"<value>"}}`)
	}
	var where map[string]map[string]string
	if err := json.Unmarshal([]byte(m[3]), &where); err != nil || len(where) != 1 {
		return nil, fmt.Errorf("where %s: want one column compared with $eq", m[3])
	}
	l := &Lookup{Collection: m[1], Find: m[2]}
	for col, cond := range where {
		v, ok := cond["$eq"]
		if !ok || len(cond) != 1 {
			return nil, fmt.Errorf("where %s: only $eq is supported", m[3])
		}
		t, err := parseTemplate(v, true)
		if err != nil {
			return nil, err
		}
		l.Column, l.Value = col, t
	}
	return l, nil
}

// Eval computes the field's value: the literal, the rendered template, the
// expression's result, or, for an object, its children; then the parser,
// and the declared type. It returns nil for a field with no value (such
// fields are left out of the call). Lookup fields are the target's to
// resolve.
func (r *RequestField) Eval(v Vars) (any, error) {
	var out any
	switch {
	case r.Children != nil:
		obj := make(map[string]any, len(r.Children))
		for i := range r.Children {
			c := &r.Children[i]
			x, err := c.Eval(v)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", r.Field, err)
			}
			if x != nil {
				obj[c.Field] = x
			}
		}
		return obj, nil
	case r.fn != nil:
		x, err := r.fn.Eval(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Field, err)
		}
		out = x
	case r.tmpl != nil:
		out = r.tmpl.Render(v)
	case r.lookup != nil:
		return nil, fmt.Errorf("%s: a lookup is resolved by the target", r.Field)
	default:
		out = r.Value
	}
	if s, ok := out.(string); out == nil || ok && s == "" {
		return nil, nil
	}
	if r.Parser.Name == "StringToArray" {
		sep := r.Parser.Params
		if sep == "" {
			sep = ","
		}
		var items []string
		for _, s := range strings.Split(Text(out), sep) {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		if len(items) == 0 {
			return nil, nil
		}
		return items, nil
	}
	switch r.Type {
	case "int":
		f, ok := number(out)
		if !ok {
			n, err := strconv.ParseFloat(Text(out), 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not an int", r.Field, Text(out))
			}
			f = n
		}
		if f != math.Trunc(f) {
			return nil, fmt.Errorf("%s: %v is not an int", r.Field, out)
		}
		return int64(f), nil
	case "string", "datetime":
		return Text(out), nil
	}
	return out, nil
}

// Lookup returns the field's lookup, if its value is one.
func (r *RequestField) Lookup() *Lookup { return r.lookup }
