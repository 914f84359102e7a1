package processors

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ferry-data/ferry/schemas"
)

// FuzzNumbers holds the typed fast paths of integers and decimals to what
// big.Rat alone makes of the same text: the same value, or an error both
// times.
func FuzzNumbers(f *testing.F) {
	for _, s := range []string{"0", "-0", "986.1", "12.00005", "+5", "007", ".5", "5.", "1e3", "0x1F", "1_000",
		"12345678901234567890.5", "123456789012345.1234", "9223372036854775807", "9223372036854775808", "-9223372036854775808", " 12 ", ""} {
		f.Add(s)
	}
	amount := schemas.Field{Name: "amount", Kind: schemas.Decimal, Precision: 19, Scale: 4}
	f.Fuzz(func(t *testing.T, s string) {
		v := json.Number(s)
		fast, fastErr := toDecimal(amount, v)
		exact, exactErr := exactDecimal(amount, v)
		if (fastErr == nil) != (exactErr == nil) || fastErr == nil && fast.Cmp(exact) != 0 {
			t.Fatalf("decimal %q: fast path %v (%v), big.Rat %v (%v)", s, fast, fastErr, exact, exactErr)
		}
		n, err := integer(v)
		r, rerr := number(s)
		exactInt := rerr == nil && r.IsInt() && r.Num().IsInt64()
		if (err == nil) != exactInt || err == nil && big.NewInt(n).Cmp(r.Num()) != 0 {
			t.Fatalf("integer %q: fast path %d (%v), big.Rat %v (%v)", s, n, err, r, rerr)
		}
	})
}
