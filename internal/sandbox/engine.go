package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxRequestBodySize is the most of a request's body a sandbox reads.
const maxRequestBodySize = 1 << 20

// engine is the clock-driven change engine every sandbox runs on. It holds
// the lock that guards the sandbox, the clock, the seeded randomness, the
// injected faults and the counters all sandboxes keep; it applies the
// changes that happen on their own as the clock moves (MutationsPerSecond,
// CreationsPerSecond) to the sandbox's records, and it decides whether a
// call is throttled, fails or is answered. A sandbox embeds it and keeps
// only its protocol and its data.
//
// Every random choice, the engine's and the sandbox's, draws from rng in
// an order fixed by the calls and the clock, so that the same seed gives
// the same data and the same answers.
type engine[T any] struct {
	mu     sync.Mutex
	clock  func() time.Time
	rng    *rand.Rand
	faults Faults
	frozen bool // no clock-driven or per-call changes (Freeze)
	counts counts

	records *records[T]                     // what clock-driven changes act on
	create  func(at time.Time)              // makes a new record
	modify  func(e *entry[T], at time.Time) // changes a record
	// other, when set, may take a clock-driven mutation for something
	// that is not a record (JST's shops) and reports whether it did.
	other func(at time.Time) bool

	mutationRate, creationRate float64   // per second of clock time
	last                       time.Time // clock time clock-driven changes were applied up to
	mutDue, newDue             float64   // fractional changes carried to the next tick
}

// counts are the counters every sandbox keeps. Every call is counted in
// Calls and in exactly one of Served, Throttled, Failed and Rejected.
// WDTStats and JackyunStats have exactly these fields, so a conversion
// makes them.
type counts struct {
	Calls     int // requests received
	Served    int // answered with success
	Throttled int // answered with the throttle answer (quota or ThrottleRate)
	Failed    int // injected failures (502, 504, truncated body)
	Rejected  int // refused
	Mutations int // records changed, by any cause
	Creations int // records created after the start
}

// start sets the engine's clock and faults and seeds its randomness with
// seed on the sandbox's own PCG stream. It returns the clock's now, from
// which clock-driven changes count; the sandbox builds its records with
// rng and then hands them to drive.
func (e *engine[T]) start(clock func() time.Time, seed int64, stream uint64, faults Faults) time.Time {
	e.clock, e.faults = clock, faults
	e.rng = rand.New(rand.NewPCG(uint64(seed), stream))
	e.last = clock()
	return e.last
}

// drive sets the clock-driven changes going: per second of clock time,
// mutations changes of a random record with modify and creations new
// records from create.
func (e *engine[T]) drive(recs *records[T], mutations, creations float64, create func(time.Time), modify func(*entry[T], time.Time)) {
	e.records, e.mutationRate, e.creationRate = recs, mutations, creations
	e.create, e.modify = create, modify
}

// setFaults replaces the injected failures from now on.
func (e *engine[T]) setFaults(f Faults) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = f.withDefaults()
}

// currentFaults returns the injected failures in force.
func (e *engine[T]) currentFaults() Faults {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.faults
}

// freeze applies the changes due by now and stops every unprompted change
// from then on.
func (e *engine[T]) freeze() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tick(e.clock())
	e.frozen = true
}

// mutate modifies n distinct random records (all of them if n is larger),
// stamped with the clock's now.
func (e *engine[T]) mutate(n int) {
	e.mutateAt(time.Time{}, n, nil, e.modify)
}

// mutateAt changes n distinct random records among those eligible accepts
// (all records when nil; all of them if n is larger) with change, all
// stamped at, or at the clock's now when at is zero or later: one batch,
// one shared instant. A batch stamped in the past shows late, as one whose
// transaction committed late; eligible must then leave out records
// changed after at.
func (e *engine[T]) mutateAt(at time.Time, n int, eligible func(*T) bool, change func(*entry[T], time.Time)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock()
	e.tick(now)
	if at.IsZero() || at.After(now) {
		at = now
	}
	all := e.records.entries
	if eligible != nil {
		all = slices.DeleteFunc(slices.Clone(all), func(x *entry[T]) bool { return !eligible(x.cur) })
	}
	for _, i := range e.rng.Perm(len(all))[:max(min(n, len(all)), 0)] {
		change(all[i], at)
		e.counts.Mutations++
	}
}

// stats returns the counters so far.
func (e *engine[T]) stats() counts {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts
}

// truth applies the changes due by now and returns every record's latest
// version, visible to queries or not, as the API would render it, in id
// order. Values are what json.Unmarshal gives for any (float64 numbers and
// so on).
func (e *engine[T]) truth() []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tick(e.clock())
	return asMaps(e.records.latest())
}

// tick applies the clock-driven changes due between the last tick and now,
// stamped at random instants in (last, now], so that what happens depends
// only on the clock and the seed.
func (e *engine[T]) tick(now time.Time) {
	span := now.Sub(e.last)
	if span <= 0 {
		return
	}
	if e.frozen {
		e.last = now
		return
	}
	secs := span.Seconds()
	e.mutDue += secs * e.mutationRate
	e.newDue += secs * e.creationRate
	mutations, creations := math.Floor(e.mutDue), math.Floor(e.newDue)
	e.mutDue -= mutations
	e.newDue -= creations

	type event struct {
		at     time.Time
		create bool
	}
	events := make([]event, 0, int(mutations+creations))
	for i := range int(mutations + creations) {
		at := e.last.Add(time.Duration(1 + e.rng.Int64N(int64(span))))
		events = append(events, event{at: at, create: i >= int(mutations)})
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	for _, ev := range events {
		switch {
		case ev.create:
			e.create(ev.at)
			e.counts.Creations++
		case e.other != nil && e.other(ev.at):
			e.counts.Mutations++
		case len(e.records.entries) > 0:
			e.modify(pick(e.rng, e.records.entries), ev.at)
			e.counts.Mutations++
		}
	}
	e.last = now
}

// mutatePassed changes up to perCall records, chosen at random among the
// first passed of matches: those a forward walk has already read, so that
// each moves on past it, the classic trap of paging while records change.
func (e *engine[T]) mutatePassed(matches []*entry[T], passed, perCall int, now time.Time, change func(*entry[T], time.Time)) {
	passed = min(passed, len(matches))
	for _, i := range e.rng.Perm(passed)[:min(perCall, passed)] {
		change(matches[i], now)
		e.counts.Mutations++
	}
}

func (e *engine[T]) chance(p float64) bool {
	return p > 0 && e.rng.Float64() < p
}

// call is what a sandbox's protocol makes of one request, for serve.
type call struct {
	// refuse, when set, turns the call away before quotas and faults see
	// it (an unknown path): it returns the answer and true.
	refuse func(now time.Time) (reply, bool)
	// quota counts the call against the sandbox's quotas and reports
	// whether one is spent.
	quota func(now time.Time) bool
	// throttle is the throttle answer, for a spent quota or by
	// Faults.ThrottleRate.
	throttle func(now time.Time) reply
	// answer validates the call and serves it. live is false when the
	// answer is computed only to be cut in half (a truncated failure); the
	// sandbox then leaves out what only a whole answer does, such as
	// per-call mutations.
	answer func(now time.Time, live bool) outcome
}

// serve decides the answer to one call, under the lock. It applies the
// changes due by the clock's now and counts the call; then, unless c
// refuses it, it throttles it (c's quota, or Faults.ThrottleRate), fails it
// (Faults.FailRate: in equal shares HTTP 502, HTTP 504 after SlowDelay, and
// the answer the call would have had, cut in half) or has c answer it.
func (e *engine[T]) serve(c call) reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock()
	e.tick(now)
	e.counts.Calls++

	if c.refuse != nil {
		if rep, refused := c.refuse(now); refused {
			e.counts.Rejected++
			return rep
		}
	}
	if c.quota(now) || e.chance(e.faults.ThrottleRate) {
		e.counts.Throttled++
		return c.throttle(now)
	}
	if e.chance(e.faults.FailRate) {
		e.counts.Failed++
		switch failure(e.rng.IntN(int(failureKinds))) {
		case failBadGateway:
			return reply{code: http.StatusBadGateway, contentType: "text/html", body: []byte(badGatewayPage), date: now}
		case failGatewayTimeout:
			return reply{code: http.StatusGatewayTimeout, contentType: "text/html", body: []byte(gatewayTimeoutPage), delay: e.faults.SlowDelay, date: now}
		default: // failTruncated
			rep := c.answer(now, false).reply
			rep.body = rep.body[:len(rep.body)/2]
			return rep
		}
	}
	out := c.answer(now, true)
	if out.rejected {
		e.counts.Rejected++
	} else {
		e.counts.Served++
	}
	return out.reply
}

// window counts a quota's calls in one clock second or minute.
type window struct {
	start time.Time
	calls int
}

// count counts a call in now's clock window of length d (time.Second or
// time.Minute) and reports whether the window now holds more than limit
// calls. A limit of 0 or less is none.
func (w *window) count(now time.Time, d time.Duration, limit int) bool {
	if t := now.Truncate(d); !t.Equal(w.start) {
		w.start, w.calls = t, 0
	}
	w.calls++
	return limit > 0 && w.calls > limit
}

// reply is an answer decided under the lock and written after it.
type reply struct {
	code        int
	contentType string
	body        []byte
	delay       time.Duration // wall time to wait before answering
	date        time.Time
}

// outcome is a call's answer and whether the sandbox refused the call.
type outcome struct {
	reply
	rejected bool
}

// jsonReply is an HTTP 200 answer of v as JSON, dated now.
func jsonReply(now time.Time, contentType string, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sandbox: marshal answer: %v", err)) // plain data: cannot happen
	}
	return reply{code: http.StatusOK, contentType: contentType, body: b, date: now}
}

// write sends the reply, after its delay unless the caller leaves first,
// with a Date header from the sandbox clock.
func (rep reply) write(w http.ResponseWriter, r *http.Request) {
	if rep.delay > 0 && !wait(r.Context(), rep.delay) {
		return // the caller has gone
	}
	h := w.Header()
	h.Set("Date", rep.date.UTC().Format(http.TimeFormat))
	h.Set("Content-Type", rep.contentType)
	w.WriteHeader(rep.code)
	_, _ = w.Write(rep.body) // a failed write means the caller has gone
}

// readBody reads a request's body; one over maxRequestBodySize is an error.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBodySize+1))
	if err == nil && len(body) > maxRequestBodySize {
		err = errors.New("body too large")
	}
	return body, err
}

// asMaps renders v as JSON and decodes it as a list of objects, as a
// client would see it.
func asMaps(v any) []map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sandbox: marshal records: %v", err)) // plain data: cannot happen
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("sandbox: unmarshal records: %v", err))
	}
	return out
}

// entry is one record as a sandbox stores it: its latest version and the
// version queries see, which trails by the visibility lag. A published
// version is never changed: a change makes a new one, so the versions
// queries still see stay intact.
type entry[T any] struct {
	cur       *T        // the latest version
	shown     *T        // what queries see; nil until a first version is visible
	visibleAt time.Time // when cur becomes what queries see
}

// visible returns the version queries see at now, promoting cur once its
// visibility lag has passed.
func (e *entry[T]) visible(now time.Time) *T {
	if e.shown != e.cur && !now.Before(e.visibleAt) {
		e.shown = e.cur
	}
	return e.shown
}

// records are a sandbox's records, in id order, with the randomness that
// makes and changes them. Every sandbox's store embeds them. They are not
// safe for concurrent use; the engine's lock guards them.
type records[T any] struct {
	rng     *rand.Rand
	lag     time.Duration // VisibilityLag
	entries []*entry[T]
}

// add stores a new record, made at at, and returns its entry.
func (s *records[T]) add(v *T, at time.Time) *entry[T] {
	e := &entry[T]{cur: v, visibleAt: at.Add(s.lagDraw())}
	s.entries = append(s.entries, e)
	return e
}

// replace makes v the latest version of e's record, changed at at.
func (s *records[T]) replace(e *entry[T], v *T, at time.Time) {
	e.visible(at) // the version being replaced may have shown by now
	e.cur = v
	e.visibleAt = at.Add(s.lagDraw())
}

// lagDraw is one change's visibility delay, in [0, lag].
func (s *records[T]) lagDraw() time.Duration {
	if s.lag <= 0 {
		return 0
	}
	return time.Duration(s.rng.Int64N(int64(s.lag) + 1))
}

// search returns the entries whose version visible at now satisfies match,
// ordered by order on those versions.
func (s *records[T]) search(now time.Time, match func(*T) bool, order func(a, b *T) int) []*entry[T] {
	var out []*entry[T]
	for _, e := range s.entries {
		if v := e.visible(now); v != nil && match(v) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *entry[T]) int { return order(a.shown, b.shown) })
	return out
}

// lifespan is when a start record was created and last modified.
type lifespan struct{ created, modified time.Time }

// lifespans draws n start records' lifespans, each last modified in
// [since, now) and created up to maxAge before that, in creation order.
func (s *records[T]) lifespans(n int, since, now time.Time, maxAge time.Duration) []lifespan {
	span := max(int64(now.Sub(since)), 1)
	all := make([]lifespan, n)
	for i := range all {
		m := since.Add(time.Duration(s.rng.Int64N(span)))
		c := m.Add(-time.Duration(s.rng.Int64N(int64(maxAge))))
		all[i] = lifespan{created: c, modified: m}
	}
	slices.SortFunc(all, func(a, b lifespan) int { return a.created.Compare(b.created) })
	return all
}

// latest returns every record's latest version.
func (s *records[T]) latest() []*T {
	out := make([]*T, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.cur
	}
	return out
}

// digits draws an n-digit number, its first digit not 0.
func (s *records[T]) digits(n int) string {
	var b strings.Builder
	b.WriteByte(byte('1' + s.rng.IntN(9)))
	for range n - 1 {
		b.WriteByte(byte('0' + s.rng.IntN(10)))
	}
	return b.String()
}

// personName draws a Chinese name.
func (s *records[T]) personName() string {
	return pick(s.rng, surnames) + pick(s.rng, givenNames)
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }
