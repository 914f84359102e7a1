package vendortest

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"testing"
)

// The field tests hold each sandbox's field set to the examples of
// shared/vendors.md: (a) every key of the example is served, and (b) every key served
// is in the example or in a field list vendors.md documents for the API.

// DecodeObject decodes a JSON object.
func DecodeObject(t *testing.T, what string, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: decode %.300s: %v", what, b, err)
	}
	return m
}

// Object is v as a JSON object.
func Object(t *testing.T, what string, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, not an object", what, v)
	}
	return m
}

// Records is v as a non-empty array of JSON objects.
func Records(t *testing.T, what string, v any) []map[string]any {
	t.Helper()
	xs, ok := v.([]any)
	if !ok || len(xs) == 0 {
		t.Fatalf("%s is %v, not a non-empty array", what, v)
	}
	out := make([]map[string]any, len(xs))
	for i, x := range xs {
		out[i] = Object(t, what+"["+strconv.Itoa(i)+"]", x)
	}
	return out
}

// ServesExample is (a): served holds every key of the vendors.md
// example.
func ServesExample(t *testing.T, what string, served, example map[string]any) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(example)) {
		if _, ok := served[k]; !ok {
			t.Fatalf("%s lacks %q of the vendors.md example\nserved keys %v", what, k, slices.Sorted(maps.Keys(served)))
		}
	}
}

// OnlyDocumented is (b): every key served is in the example or in
// documented, a field list vendors.md gives for the API.
func OnlyDocumented(t *testing.T, what string, served, example map[string]any, documented ...string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(served)) {
		if _, ok := example[k]; !ok && !slices.Contains(documented, k) {
			t.Fatalf("%s serves %q, which is neither in the vendors.md example %v nor in its documented fields %v",
				what, k, slices.Sorted(maps.Keys(example)), documented)
		}
	}
}

// MatchFields is (a) and (b).
func MatchFields(t *testing.T, what string, served, example map[string]any, documented ...string) {
	t.Helper()
	ServesExample(t, what, served, example)
	OnlyDocumented(t, what, served, example, documented...)
}
