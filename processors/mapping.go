package processors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/ferry-data/ferry/schemas"
)

// Map turns a raw vendor record into a plain canonical record of schema s:
// each field takes the raw field of the same name, converted to the field's
// kind. Date-time strings without a zone are read in zone. A record that
// cannot be mapped yields an error naming the field and the value.
func Map(s *schemas.Schema, raw []byte, zone *time.Location) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	out := make(map[string]any, len(s.Fields))
	for _, f := range s.Fields {
		v, err := convert(f, in[f.Name], zone)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		if v == nil && !f.Nullable {
			return nil, fmt.Errorf("field %s: missing", f.Name)
		}
		out[f.Name] = v
	}
	return out, nil
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
		r, err := decimal(v)
		if err != nil {
			return nil, err
		}
		x, _ := r.Float64()
		return x, nil
	case schemas.Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case json.Number:
			return b.String() != "0", nil
		}
		return nil, fmt.Errorf("%v is not a boolean", v)
	case schemas.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return fmt.Sprint(x), nil
		}
		b, _ := json.Marshal(v)
		return string(b), nil
	case schemas.Decimal:
		r, err := decimal(v)
		if err != nil {
			return nil, err
		}
		return round(r, f.Scale), nil
	case schemas.Timestamp:
		return timestamp(v, zone)
	}
	return nil, fmt.Errorf("unsupported kind %v", f.Kind)
}

func integer(v any) (int64, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, fmt.Errorf("%v is not a number", v)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return r.Num().Int64(), nil
}

func decimal(v any) (*big.Rat, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return nil, fmt.Errorf("%v is not a number", v)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return r, nil
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
	case json.Number:
		ms, err := x.Int64()
		if err != nil {
			return nil, fmt.Errorf("%s is not epoch milliseconds", x)
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
