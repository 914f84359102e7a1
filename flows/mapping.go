package flows

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// compile prepares the processor's filter and field expressions. They run
// on github.com/expr-lang/expr over the raw record: its fields are
// variables (absent ones are nil), and date_format(value, '%Y%m%d') renders
// a date-time text or epoch-millisecond stamp in the vendor's zone.
func (p *Processor) compile() error {
	zone := p.Zone.Loc()
	opts := []expr.Option{expr.AllowUndefinedVariables(), expr.Function("date_format", func(args ...any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("date_format(value, format) takes 2 arguments")
		}
		t, ok, err := asTime(args[0], zone)
		if err != nil || !ok {
			return nil, err
		}
		f, _ := args[1].(string)
		return t.In(zone).Format(mysqlLayout(f)), nil
	})}
	if p.Filter != "" {
		prog, err := expr.Compile(p.Filter, append(opts, expr.AsBool())...)
		if err != nil {
			return bad("processor.filter", "%v", err)
		}
		p.filter = prog
	}
	p.fields = map[string]*vm.Program{}
	for name, src := range p.Map {
		prog, err := expr.Compile(src, opts...)
		if err != nil {
			return bad("processor.map."+name, "%v", err)
		}
		p.fields[name] = prog
	}
	return nil
}

// Keep reports whether the filter lets a raw record through.
func (p *Processor) Keep(raw map[string]any) (bool, error) {
	if p.filter == nil {
		return true, nil
	}
	out, err := expr.Run(p.filter, raw)
	if err != nil {
		return false, fmt.Errorf("filter: %w", err)
	}
	return out.(bool), nil
}

// Mapped computes a canonical field from a raw record; ok is false when the
// flow does not map the field (it then takes the raw field of its name).
func (p *Processor) Mapped(field string, raw map[string]any) (v any, ok bool, err error) {
	prog, ok := p.fields[field]
	if !ok {
		return nil, false, nil
	}
	out, err := expr.Run(prog, raw)
	if err != nil {
		return nil, true, fmt.Errorf("map %s: %w", field, err)
	}
	return out, true, nil
}

// Reads reports whether the processor's filter or map expressions read
// the raw field name.
func (p *Processor) Reads(name string) bool {
	progs := []*vm.Program{p.filter}
	for _, prog := range p.fields {
		progs = append(progs, prog)
	}
	for _, prog := range progs {
		if prog == nil {
			continue
		}
		found := identifier{name: name}
		n := prog.Node()
		ast.Walk(&n, &found)
		if found.seen {
			return true
		}
	}
	return false
}

// identifier finds a variable in an expression.
type identifier struct {
	name string
	seen bool
}

func (v *identifier) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && id.Value == v.name {
		v.seen = true
	}
}

// asTime reads a date-time text (in zone) or an epoch-millisecond number.
func asTime(v any, zone *time.Location) (time.Time, bool, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x, true, nil
	case string:
		if x == "" {
			return time.Time{}, false, nil
		}
		for _, l := range []string{time.DateTime, "2006-01-02 15:04:05.000", time.RFC3339Nano, time.DateOnly} {
			if t, err := time.ParseInLocation(l, x, zone); err == nil {
				return t, true, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("%q is not a time", x)
	case json.Number:
		ms, err := x.Int64()
		if err != nil {
			return time.Time{}, false, fmt.Errorf("%s is not epoch milliseconds", x)
		}
		return time.UnixMilli(ms), true, nil
	}
	if f, ok := number(v); ok {
		return time.UnixMilli(int64(f)), true, nil
	}
	return time.Time{}, false, fmt.Errorf("%v is not a time", v)
}
