package producers

import "time"

// Plan cuts the span [start, end] into windows of at most max, in order.
// Both ends of a window are included on the vendor's side, and each window
// starts where the one before it ends: a record stamped exactly on a
// boundary second is read by both windows (and deduped), never by neither.
// Bounds are whole seconds, the vendors' resolution. An empty span (start
// not before end) plans nothing.
func Plan(start, end time.Time, max time.Duration) []Window {
	start, end = start.Truncate(time.Second), end.Truncate(time.Second)
	if max < time.Second {
		max = time.Second
	}
	var out []Window
	for from := start; from.Before(end); {
		to := from.Add(max).Truncate(time.Second)
		if to.After(end) {
			to = end
		}
		out = append(out, Window{From: from, To: to})
		from = to
	}
	return out
}

// Split halves a window at a whole second; ok is false for a window too
// short to split (a second or less), which must then be walked as it is.
func Split(w Window) (first, second Window, ok bool) {
	if w.To.Sub(w.From) <= time.Second {
		return w, Window{}, false
	}
	mid := w.From.Add(w.To.Sub(w.From) / 2).Truncate(time.Second)
	if !mid.After(w.From) {
		mid = w.From.Add(time.Second)
	}
	return Window{From: w.From, To: mid}, Window{From: mid, To: w.To}, true
}
