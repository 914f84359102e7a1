package processors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/schemas"
)

// Map turns a raw vendor record into a plain canonical record of schema s,
// as the flow's processor block says: records its filter rejects yield
// keep == false; each field takes its mapped expression's value, or the raw
// field of the same name, converted to the field's kind. Date-time text
// without a zone is read in the processor's zone. A record that cannot be
// mapped yields an error naming the field and the value.
//
// Without expressions, only the raw fields the schema names are decoded:
// the rest (a refund's item lists, most of its bytes) is skipped unread.
func Map(s *schemas.Schema, p *flows.Processor, raw []byte) (rec map[string]any, keep bool, err error) {
	var in, env map[string]any
	if p.Filter != "" || len(p.Map) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			return nil, false, fmt.Errorf("not a JSON object: %w", err)
		}
		env = plain(in).(map[string]any)
	} else if in, err = decodeFields(raw, fieldSet(s)); err != nil {
		return nil, false, fmt.Errorf("not a JSON object: %w", err)
	}
	if keep, err := p.Keep(env); err != nil || !keep {
		return nil, false, err
	}
	zone := p.Zone.Loc()
	out := make(map[string]any, len(s.Fields))
	for _, f := range s.Fields {
		v, mapped, err := p.Mapped(f.Name, env)
		if err != nil {
			return nil, false, err
		}
		if !mapped {
			v = in[f.Name]
		}
		if v, err = convert(f, v, zone); err != nil {
			return nil, false, fmt.Errorf("field %s: %w", f.Name, err)
		}
		if v == nil && !f.Nullable {
			return nil, false, fmt.Errorf("field %s: missing", f.Name)
		}
		out[f.Name] = v
	}
	return out, true, nil
}

// fieldSets holds each schema's field names, for decodeFields.
var fieldSets sync.Map // *schemas.Schema → map[string]bool

func fieldSet(s *schemas.Schema) map[string]bool {
	if set, ok := fieldSets.Load(s); ok {
		return set.(map[string]bool)
	}
	set := make(map[string]bool, len(s.Fields))
	for _, f := range s.Fields {
		set[f.Name] = true
	}
	fieldSets.Store(s, set)
	return set
}

// decoder is a reusable jsontext decoder of a byte slice; it keeps its
// buffer between records.
type decoder struct {
	in  bytes.Reader
	dec *jsontext.Decoder
}

var decoders = sync.Pool{New: func() any {
	d := &decoder{}
	d.dec = jsontext.NewDecoder(&d.in, jsonOptions...)
	return d
}}

// jsonOptions read JSON as encoding/json does: invalid UTF-8 becomes
// U+FFFD, and of a name given twice the last value counts.
var jsonOptions = []jsontext.Options{jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)}

// decodeFields decodes the members of a JSON object that want names, as
// encoding/json with UseNumber would (numbers as json.Number), and skips
// the others without building their values.
func decodeFields(raw []byte, want map[string]bool) (map[string]any, error) {
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	d.in.Reset(raw)
	defer d.in.Reset(nil) // the pool keeps no record
	dec := d.dec
	dec.Reset(&d.in, jsonOptions...)
	if tok, err := dec.ReadToken(); err != nil {
		return nil, err
	} else if tok.Kind() != '{' {
		return nil, fmt.Errorf("a JSON %s", tok.Kind())
	}
	out := make(map[string]any, len(want))
	for dec.PeekKind() != '}' {
		quoted, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		name := []byte(quoted[1 : len(quoted)-1])
		if bytes.IndexByte(name, '\\') >= 0 {
			if name, err = jsontext.AppendUnquote(nil, quoted); err != nil {
				return nil, err
			}
		}
		if !want[string(name)] {
			if err := dec.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		key := string(name)
		var v any
		switch dec.PeekKind() {
		case '{', '[':
			value, err := dec.ReadValue()
			if err != nil {
				return nil, err
			}
			d := json.NewDecoder(bytes.NewReader(value))
			d.UseNumber()
			if err := d.Decode(&v); err != nil {
				return nil, err
			}
		default:
			tok, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			switch tok.Kind() {
			case '"':
				v = tok.String()
			case '0':
				v = json.Number(tok.String())
			case 't', 'f':
				v = tok.Bool()
			}
		}
		out[key] = v
	}
	return out, nil
}

// plain turns json.Numbers into int64 or float64, for expressions.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

func convert(f schemas.Field, v any, zone *time.Location) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && s == "" && f.Kind != schemas.String {
		return nil, nil // vendors send "" for an empty time or amount
	}
	switch f.Kind {
	case schemas.Long, schemas.Int:
		n, err := integer(v)
		if err != nil {
			return nil, err
		}
		if f.Kind == schemas.Int {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, fmt.Errorf("%d does not fit an int", n)
			}
			return int32(n), nil
		}
		return n, nil
	case schemas.Double:
		if s, ok := numberText(v); ok && plainDecimal(s) >= 0 {
			if x, err := strconv.ParseFloat(s, 64); err == nil {
				return x, nil // correctly rounded, as big.Rat's Float64
			}
		}
		r, err := decimal(v)
		if err != nil {
			return nil, err
		}
		x, _ := r.Float64()
		return x, nil
	case schemas.Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if n, ok := numberText(v); ok {
			return n != "0", nil
		}
		return nil, fmt.Errorf("%v is not a boolean", v)
	case schemas.String:
		if x, ok := v.(string); ok {
			return x, nil
		}
		if x, ok := numberText(v); ok {
			return x, nil
		}
		if x, ok := v.(bool); ok {
			return fmt.Sprint(x), nil
		}
		b, _ := json.Marshal(v)
		return string(b), nil
	case schemas.Decimal:
		r, err := toDecimal(f, v)
		if err != nil {
			return nil, err
		}
		return r, nil
	case schemas.Timestamp:
		return timestamp(v, zone)
	case schemas.Record:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%v is not an object", v)
		}
		out := make(map[string]any, len(f.Fields))
		for _, sub := range f.Fields {
			x, err := convert(sub, m[sub.Name], zone)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sub.Name, err)
			}
			if x == nil && !sub.Nullable {
				return nil, fmt.Errorf("%s: missing", sub.Name)
			}
			out[sub.Name] = x
		}
		return out, nil
	case schemas.Array:
		xs, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%v is not an array", v)
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			c, err := convert(*f.Items, x, zone)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported kind %v", f.Kind)
}

// numberText is the text of a number from JSON or from an expression.
func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return x.String(), true
	case string:
		return strings.TrimSpace(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func integer(v any) (int64, error) {
	s, ok := numberText(v)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil // the common case, without big.Rat
	}
	r, err := number(s)
	if err != nil || !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return r.Num().Int64(), nil
}

// toDecimal reads v as a decimal of f's precision and scale, rounded half
// away from zero to the scale.
func toDecimal(f schemas.Field, v any) (*big.Rat, error) {
	if s, ok := numberText(v); ok {
		// A plain decimal within the scale needs no rounding, and its
		// digits can be counted on its text.
		if ints, fracs := decimalDigits(s); ints >= 0 && fracs <= f.Scale && f.Precision >= f.Scale {
			if f.Precision > 0 && ints+f.Scale > f.Precision {
				return nil, fmt.Errorf("%s has %d digits, more than decimal(%d,%d) holds", s, ints+f.Scale, f.Precision, f.Scale)
			}
			if r, ok := new(big.Rat).SetString(s); ok {
				return r, nil
			}
		}
	}
	return exactDecimal(f, v)
}

// exactDecimal is toDecimal through big.Rat alone, for any number.
func exactDecimal(f schemas.Field, v any) (*big.Rat, error) {
	r, err := decimal(v)
	if err != nil {
		return nil, err
	}
	r = round(r, f.Scale)
	if n := digits(r, f.Scale); f.Precision > 0 && n > f.Precision {
		return nil, fmt.Errorf("%s has %d digits, more than decimal(%d,%d) holds", r.FloatString(f.Scale), n, f.Precision, f.Scale)
	}
	return r, nil
}

// decimalDigits counts the digits of a plain decimal's text (an optional
// sign, digits, and optionally a point and digits): those of its integer
// part without leading zeros, and those after the point. ints is -1 for
// any other text (an exponent, a hex number, spaces).
func decimalDigits(s string) (ints, fracs int) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	point, digits := -1, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && point < 0:
			point = i
		default:
			return -1, 0
		}
	}
	if digits == 0 {
		return -1, 0
	}
	intPart := s
	if point >= 0 {
		intPart, fracs = s[:point], len(s)-point-1
	}
	return len(strings.TrimLeft(intPart, "0")), fracs
}

// plainDecimal is decimalDigits' ints: -1 for text that is not a plain
// decimal.
func plainDecimal(s string) int {
	ints, _ := decimalDigits(s)
	return ints
}

// maxExponent bounds the exponent of a number ferry reads: big.Rat would
// spend minutes and gigabytes on 1e1000000000, and no field needs more.
const maxExponent = 400

// number reads a number's text, refusing exponents beyond maxExponent.
func number(s string) (*big.Rat, error) {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if exp, err := strconv.Atoi(s[i+1:]); err != nil || exp > maxExponent || exp < -maxExponent {
			return nil, fmt.Errorf("%q: an exponent beyond ±%d", s, maxExponent)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return r, nil
}

// digits counts the digits of r written with scale decimals (r is
// rounded to them).
func digits(r *big.Rat, scale int) int {
	unscaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	return len(new(big.Int).Abs(unscaled.Num()).String())
}

func decimal(v any) (*big.Rat, error) {
	s, ok := numberText(v)
	if !ok {
		return nil, fmt.Errorf("%v is not a number", v)
	}
	return number(s)
}

// round rounds r half away from zero to scale digits.
func round(r *big.Rat, scale int) *big.Rat {
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(unit))
	num, den := x.Num(), x.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return new(big.Rat).SetFrac(q, unit)
}

var layouts = []string{time.DateTime, "2006-01-02 15:04:05.000", time.RFC3339Nano, time.DateOnly}

func timestamp(v any, zone *time.Location) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case json.Number, int, int64, float64:
		n, _ := numberText(x)
		ms, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not epoch milliseconds", n)
		}
		return time.UnixMilli(ms).UTC(), nil
	case string:
		if strings.HasPrefix(x, "0000-00-00") {
			return nil, nil
		}
		for _, l := range layouts {
			if t, err := time.ParseInLocation(l, x, zone); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, fmt.Errorf("%q is not a time", x)
	}
	return nil, fmt.Errorf("%v is not a time", v)
}
