package mysql

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFixed checks the fast decimal rendering against big.Rat.FloatString.
func TestFixed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nums := []int64{0, 1, -1, 5, -5, 99999, math.MaxInt64, math.MinInt64 + 1, math.MinInt64}
	for range 2000 {
		nums = append(nums, rng.Int64()>>rng.IntN(64))
	}
	dens := []int64{1, 2, 3, 4, 5, 8, 10, 16, 20, 25, 100, 625, 1000, 10000, 100000, 7, 1 << 20}
	for _, scale := range []int{0, 2, 4, 18, 19} {
		for _, n := range nums {
			for _, d := range dens {
				r := big.NewRat(n, d)
				s, ok := fixed(r, scale)
				if ok != (exact(r, scale) && fitsScaled(r, scale)) {
					t.Fatalf("fixed(%s, %d): ok %v, exact %v", r.RatString(), scale, ok, exact(r, scale))
				}
				if ok && s != r.FloatString(scale) {
					t.Fatalf("fixed(%s, %d) = %s, want %s", r.RatString(), scale, s, r.FloatString(scale))
				}
			}
		}
	}
}

// fitsScaled reports whether scale ≤ 18 and r·10^scale is an integer of at
// most 63 bits, as fixed needs.
func fitsScaled(r *big.Rat, scale int) bool {
	if scale > 18 {
		return false
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(p))
	return x.IsInt() && x.Num().IsInt64() && x.Num().Int64() != math.MinInt64
}
