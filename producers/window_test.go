package producers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/producers"
)

func at(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

func show(ws []producers.Window) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, w.From.Format("01-02 15:04:05")+"→"+w.To.Format("01-02 15:04:05"))
	}
	return strings.Join(parts, " ")
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name       string
		start, end string
		max        time.Duration
		want       string
	}{
		{"one window", "2024-03-01 00:00:00", "2024-03-01 12:00:00", 24 * time.Hour, "03-01 00:00:00→03-01 12:00:00"},
		{"cap cuts, boundaries shared", "2024-03-01 00:00:00", "2024-03-15 00:00:00", 7 * 24 * time.Hour,
			"03-01 00:00:00→03-08 00:00:00 03-08 00:00:00→03-15 00:00:00"},
		{"last window short", "2024-03-01 00:00:00", "2024-03-09 06:00:00", 7 * 24 * time.Hour,
			"03-01 00:00:00→03-08 00:00:00 03-08 00:00:00→03-09 06:00:00"},
		{"empty span", "2024-03-01 00:00:00", "2024-03-01 00:00:00", time.Hour, ""},
		{"caught up (clock behind the checkpoint)", "2024-03-01 00:05:00", "2024-03-01 00:00:00", time.Hour, ""},
		{"sub-second bounds cut to seconds", "2024-03-01 00:00:00.900", "2024-03-01 00:00:02.100", time.Hour, "03-01 00:00:00→03-01 00:00:02"},
		{"tiny cap still moves", "2024-03-01 00:00:00", "2024-03-01 00:00:03", time.Millisecond,
			"03-01 00:00:00→03-01 00:00:01 03-01 00:00:01→03-01 00:00:02 03-01 00:00:02→03-01 00:00:03"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start, _ := time.Parse("2006-01-02 15:04:05.999", tc.start)
			end, _ := time.Parse("2006-01-02 15:04:05.999", tc.end)
			if got := show(producers.Plan(start, end, tc.max)); got != tc.want {
				t.Fatalf("Plan = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestPlanCoversEverySecond: whatever the span and cap, every second of
// the span lies in some window, windows never exceed the cap, and each
// starts where the one before it ended (the tie rule).
func TestPlanCoversEverySecond(t *testing.T) {
	start := at("2024-03-01 00:00:00")
	for _, span := range []time.Duration{time.Second, 59 * time.Second, time.Hour + 7*time.Second, 30 * 24 * time.Hour} {
		for _, cap := range []time.Duration{time.Second, 7 * time.Second, time.Hour, 7 * 24 * time.Hour} {
			if span/cap > 100_000 {
				// 30 days of one-second windows are 2.6 million windows
				// (1.4 GB under -race) and prove nothing an hour's do not.
				continue
			}
			ws := producers.Plan(start, start.Add(span), cap)
			if !ws[0].From.Equal(start) || !ws[len(ws)-1].To.Equal(start.Add(span)) {
				t.Fatalf("span %v cap %v: %s does not cover the span", span, cap, show(ws[:1]))
			}
			for i, w := range ws {
				if w.To.Sub(w.From) > cap || !w.To.After(w.From) {
					t.Fatalf("span %v cap %v: window %d is %v long", span, cap, i, w.To.Sub(w.From))
				}
				if i > 0 && !w.From.Equal(ws[i-1].To) {
					t.Fatalf("span %v cap %v: gap or overlap between windows %d and %d", span, cap, i-1, i)
				}
			}
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		want     string
	}{
		{"2024-03-01 00:00:00", "2024-03-01 00:00:10", "03-01 00:00:00→03-01 00:00:05 03-01 00:00:05→03-01 00:00:10"},
		{"2024-03-01 00:00:00", "2024-03-01 00:00:03", "03-01 00:00:00→03-01 00:00:01 03-01 00:00:01→03-01 00:00:03"},
		{"2024-03-01 00:00:00", "2024-03-01 00:00:02", "03-01 00:00:00→03-01 00:00:01 03-01 00:00:01→03-01 00:00:02"},
		{"2024-03-01 00:00:00", "2024-03-01 00:00:01", "unsplittable"},
	} {
		a, b, ok := producers.Split(producers.Window{From: at(tc.from), To: at(tc.to)})
		got := "unsplittable"
		if ok {
			got = show([]producers.Window{a, b})
		}
		if got != tc.want {
			t.Errorf("Split(%s→%s) = %s, want %s", tc.from, tc.to, got, tc.want)
		}
	}
}

func ExamplePlan() {
	start := at("2024-03-01 00:00:00")
	for _, w := range producers.Plan(start, start.Add(16*24*time.Hour), 7*24*time.Hour) {
		fmt.Println(w)
	}
	// Output:
	// 2024-03-01T00:00:00Z/2024-03-08T00:00:00Z
	// 2024-03-08T00:00:00Z/2024-03-15T00:00:00Z
	// 2024-03-15T00:00:00Z/2024-03-17T00:00:00Z
}
