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

// MaxRequestBody is the most of a request's body a sandbox reads.
const MaxRequestBody = 1 << 20

// Engine is the clock-driven change Engine every sandbox runs on. It holds
// the lock that guards the sandbox, the clock, the seeded randomness, the
// injected faults and the counters all sandboxes keep; it applies the
// changes that happen on their own as the clock moves (MutationsPerSecond,
// CreationsPerSecond) to the sandbox's records, and it decides whether a
// call is throttled, fails or is answered. A sandbox embeds it and keeps
// only its protocol and its data.
//
// Every random choice, the Engine's and the sandbox's, draws from rng in
// an order fixed by the calls and the clock, so that the same seed gives
// the same data and the same answers.
type Engine[T any] struct {
	Mu      sync.Mutex
	Now     func() time.Time
	Rand    *rand.Rand
	faults  Faults
	Frozen  bool // no clock-driven or per-call changes (Freeze)
	Counted Counts

	records *Records[T]                     // what clock-driven changes act on
	create  func(at time.Time)              // makes a new record
	modify  func(e *Entry[T], at time.Time) // changes a record
	// Other, when set, may take a clock-driven mutation for something
	// that is not a record (a shop list) and reports whether it did.
	Other func(at time.Time) bool

	mutationRate, creationRate float64   // per second of clock time
	Last                       time.Time // clock time clock-driven changes were applied up to
	mutDue, newDue             float64   // fractional changes carried to the next tick
}

// Counts are the counters every sandbox keeps. Every call is counted in
// Calls and in exactly one of Served, Throttled, Failed and Rejected.
// A sandbox's Stats with exactly these fields is a conversion away.
type Counts struct {
	Calls     int // requests received
	Served    int // answered with success
	Throttled int // answered with the throttle answer (quota or ThrottleRate)
	Failed    int // injected failures (502, 504, truncated body)
	Rejected  int // refused
	Mutations int // records changed, by any cause
	Creations int // records created after the start
}

// Start sets the engine's clock and faults and seeds its randomness with
// seed on the sandbox's own PCG stream. It returns the clock's now, from
// which clock-driven changes count; the sandbox builds its records with
// rng and then hands them to drive.
func (e *Engine[T]) Start(clock func() time.Time, seed int64, stream uint64, faults Faults) time.Time {
	e.Now, e.faults = clock, faults
	e.Rand = rand.New(rand.NewPCG(uint64(seed), stream))
	e.Last = clock()
	return e.Last
}

// Drive sets the clock-driven changes going: per second of clock time,
// mutations changes of a random record with modify and creations new
// records from create.
func (e *Engine[T]) Drive(recs *Records[T], mutations, creations float64, create func(time.Time), modify func(*Entry[T], time.Time)) {
	e.records, e.mutationRate, e.creationRate = recs, mutations, creations
	e.create, e.modify = create, modify
}

// SetFaults replaces the injected failures from now on.
func (e *Engine[T]) SetFaults(f Faults) {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	e.faults = f.WithDefaults()
}

// CurrentFaults returns the injected failures in force.
func (e *Engine[T]) CurrentFaults() Faults {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	return e.faults
}

// Freeze applies the changes due by now and stops every unprompted change
// from then on.
func (e *Engine[T]) Freeze() {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	e.Tick(e.Now())
	e.Frozen = true
}

// Mutate modifies n distinct random records (all of them if n is larger),
// stamped with the clock's now.
func (e *Engine[T]) Mutate(n int) {
	e.MutateWhere(time.Time{}, n, nil, e.modify)
}

// MutateWhere changes n distinct random records among those eligible accepts
// (all records when nil; all of them if n is larger) with change, all
// stamped at, or at the clock's now when at is zero or later: one batch,
// one shared instant. A batch stamped in the past shows late, as one whose
// transaction committed late; eligible must then leave out records
// changed after at.
func (e *Engine[T]) MutateWhere(at time.Time, n int, eligible func(*T) bool, change func(*Entry[T], time.Time)) {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	now := e.Now()
	e.Tick(now)
	if at.IsZero() || at.After(now) {
		at = now
	}
	all := e.records.Entries
	if eligible != nil {
		all = slices.DeleteFunc(slices.Clone(all), func(x *Entry[T]) bool { return !eligible(x.Cur) })
	}
	for _, i := range e.Rand.Perm(len(all))[:max(min(n, len(all)), 0)] {
		change(all[i], at)
		e.Counted.Mutations++
	}
}

// Counts returns the counters so far.
func (e *Engine[T]) Counts() Counts {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	return e.Counted
}

// Truth applies the changes due by now and returns every record's latest
// version, visible to queries or not, as the API would render it, in id
// order. Values are what json.Unmarshal gives for any (float64 numbers and
// so on).
func (e *Engine[T]) Truth() []map[string]any {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	e.Tick(e.Now())
	return AsMaps(e.records.Latest())
}

// Tick applies the clock-driven changes due between the last Tick and now,
// stamped at random instants in (last, now], so that what happens depends
// only on the clock and the seed.
func (e *Engine[T]) Tick(now time.Time) {
	span := now.Sub(e.Last)
	if span <= 0 {
		return
	}
	if e.Frozen {
		e.Last = now
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
		at := e.Last.Add(time.Duration(1 + e.Rand.Int64N(int64(span))))
		events = append(events, event{at: at, create: i >= int(mutations)})
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	for _, ev := range events {
		switch {
		case ev.create:
			e.create(ev.at)
			e.Counted.Creations++
		case e.Other != nil && e.Other(ev.at):
			e.Counted.Mutations++
		case len(e.records.Entries) > 0:
			e.modify(Pick(e.Rand, e.records.Entries), ev.at)
			e.Counted.Mutations++
		}
	}
	e.Last = now
}

// MutatePassed changes up to perCall records, chosen at random among the
// first passed of matches: those a forward walk has already read, so that
// each moves on past it, the classic trap of paging while records change.
func (e *Engine[T]) MutatePassed(matches []*Entry[T], passed, perCall int, now time.Time, change func(*Entry[T], time.Time)) {
	passed = min(passed, len(matches))
	for _, i := range e.Rand.Perm(passed)[:min(perCall, passed)] {
		change(matches[i], now)
		e.Counted.Mutations++
	}
}

func (e *Engine[T]) chance(p float64) bool {
	return p > 0 && e.Rand.Float64() < p
}

// Call is what a sandbox's protocol makes of one request, for serve.
type Call struct {
	// Refuse, when set, turns the call away before quotas and faults see
	// it (an unknown path): it returns the answer and true.
	Refuse func(now time.Time) (Reply, bool)
	// Quota counts the call against the sandbox's quotas and reports
	// whether one is spent.
	Quota func(now time.Time) bool
	// Throttle is the Throttle answer, for a spent quota or by
	// Faults.ThrottleRate.
	Throttle func(now time.Time) Reply
	// Answer validates the call and serves it. live is false when the
	// Answer is computed only to be cut in half (a truncated failure); the
	// sandbox then leaves out what only a whole Answer does, such as
	// per-call mutations.
	Answer func(now time.Time, live bool) Outcome
}

// Serve decides the answer to one call, under the lock. It applies the
// changes due by the clock's now and counts the call; then, unless c
// refuses it, it throttles it (c's quota, or Faults.ThrottleRate), fails it
// (Faults.FailRate: in equal shares HTTP 502, HTTP 504 after SlowDelay, and
// the answer the call would have had, cut in half) or has c answer it.
func (e *Engine[T]) Serve(c Call) Reply {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	now := e.Now()
	e.Tick(now)
	e.Counted.Calls++

	if c.Refuse != nil {
		if rep, refused := c.Refuse(now); refused {
			e.Counted.Rejected++
			return rep
		}
	}
	if c.Quota(now) || e.chance(e.faults.ThrottleRate) {
		e.Counted.Throttled++
		return c.Throttle(now)
	}
	if e.chance(e.faults.FailRate) {
		e.Counted.Failed++
		switch failure(e.Rand.IntN(int(failureKinds))) {
		case failBadGateway:
			return Reply{Code: http.StatusBadGateway, ContentType: "text/html", Body: []byte(badGatewayPage), Date: now}
		case failGatewayTimeout:
			return Reply{Code: http.StatusGatewayTimeout, ContentType: "text/html", Body: []byte(gatewayTimeoutPage), Delay: e.faults.SlowDelay, Date: now}
		default: // failTruncated
			rep := c.Answer(now, false).Reply
			rep.Body = rep.Body[:len(rep.Body)/2]
			return rep
		}
	}
	out := c.Answer(now, true)
	if out.Rejected {
		e.Counted.Rejected++
	} else {
		e.Counted.Served++
	}
	return out.Reply
}

// Window counts a quota's calls in one clock second or minute.
type Window struct {
	start time.Time
	calls int
}

// Count counts a call in now's clock window of length d (time.Second or
// time.Minute) and reports whether the window now holds more than limit
// calls. A limit of 0 or less is none.
func (w *Window) Count(now time.Time, d time.Duration, limit int) bool {
	if t := now.Truncate(d); !t.Equal(w.start) {
		w.start, w.calls = t, 0
	}
	w.calls++
	return limit > 0 && w.calls > limit
}

// Reply is an answer decided under the lock and written after it.
type Reply struct {
	Code        int
	ContentType string
	Body        []byte
	Delay       time.Duration // wall time to wait before answering
	Date        time.Time
}

// Outcome is a call's answer and whether the sandbox refused the call.
type Outcome struct {
	Reply
	Rejected bool
}

// JSONReply is an HTTP 200 answer of v as JSON, dated now.
func JSONReply(now time.Time, contentType string, v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sandbox: marshal answer: %v", err)) // plain data: cannot happen
	}
	return Reply{Code: http.StatusOK, ContentType: contentType, Body: b, Date: now}
}

// Write sends the reply, after its delay unless the caller leaves first,
// with a Date header from the sandbox clock.
func (rep Reply) Write(w http.ResponseWriter, r *http.Request) {
	if rep.Delay > 0 && !wait(r.Context(), rep.Delay) {
		return // the caller has gone
	}
	h := w.Header()
	h.Set("Date", rep.Date.UTC().Format(http.TimeFormat))
	h.Set("Content-Type", rep.ContentType)
	w.WriteHeader(rep.Code)
	_, _ = w.Write(rep.Body) // a failed write means the caller has gone
}

// ReadBody reads a request's body; one over maxRequestBodySize is an error.
func ReadBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	if err == nil && len(body) > MaxRequestBody {
		err = errors.New("body too large")
	}
	return body, err
}

// AsMaps renders v as JSON and decodes it as a list of objects, as a
// client would see it.
func AsMaps(v any) []map[string]any {
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

// Entry is one record as a sandbox stores it: its latest version and the
// version queries see, which trails by the visibility lag. A published
// version is never changed: a change makes a new one, so the versions
// queries still see stay intact.
type Entry[T any] struct {
	Cur       *T        // the latest version
	Shown     *T        // what queries see; nil until a first version is visible
	VisibleAt time.Time // when cur becomes what queries see
}

// Visible returns the version queries see at now, promoting cur once its
// visibility lag has passed.
func (e *Entry[T]) Visible(now time.Time) *T {
	if e.Shown != e.Cur && !now.Before(e.VisibleAt) {
		e.Shown = e.Cur
	}
	return e.Shown
}

// Records are a sandbox's Records, in id order, with the randomness that
// makes and changes them. Every sandbox's store embeds them. They are not
// safe for concurrent use; the engine's lock guards them.
type Records[T any] struct {
	Rand    *rand.Rand
	Lag     time.Duration // VisibilityLag
	Entries []*Entry[T]
}

// Add stores a new record, made at at, and returns its entry.
func (s *Records[T]) Add(v *T, at time.Time) *Entry[T] {
	e := &Entry[T]{Cur: v, VisibleAt: at.Add(s.lagDraw())}
	s.Entries = append(s.Entries, e)
	return e
}

// Replace makes v the latest version of e's record, changed at at.
func (s *Records[T]) Replace(e *Entry[T], v *T, at time.Time) {
	e.Visible(at) // the version being replaced may have shown by now
	e.Cur = v
	e.VisibleAt = at.Add(s.lagDraw())
}

// lagDraw is one change's visibility delay, in [0, lag].
func (s *Records[T]) lagDraw() time.Duration {
	if s.Lag <= 0 {
		return 0
	}
	return time.Duration(s.Rand.Int64N(int64(s.Lag) + 1))
}

// Search returns the entries whose version visible at now satisfies match,
// ordered by order on those versions.
func (s *Records[T]) Search(now time.Time, match func(*T) bool, order func(a, b *T) int) []*Entry[T] {
	var out []*Entry[T]
	for _, e := range s.Entries {
		if v := e.Visible(now); v != nil && match(v) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *Entry[T]) int { return order(a.Shown, b.Shown) })
	return out
}

// Lifespan is when a start record was created and last modified.
type Lifespan struct{ Created, Modified time.Time }

// Lifespans draws n start records' Lifespans, each last modified in
// [since, now) and created up to maxAge before that, in creation order.
func (s *Records[T]) Lifespans(n int, since, now time.Time, maxAge time.Duration) []Lifespan {
	span := max(int64(now.Sub(since)), 1)
	all := make([]Lifespan, n)
	for i := range all {
		m := since.Add(time.Duration(s.Rand.Int64N(span)))
		c := m.Add(-time.Duration(s.Rand.Int64N(int64(maxAge))))
		all[i] = Lifespan{Created: c, Modified: m}
	}
	slices.SortFunc(all, func(a, b Lifespan) int { return a.Created.Compare(b.Created) })
	return all
}

// Latest returns every record's Latest version.
func (s *Records[T]) Latest() []*T {
	out := make([]*T, len(s.Entries))
	for i, e := range s.Entries {
		out[i] = e.Cur
	}
	return out
}

// Digits draws an n-digit number, its first digit not 0.
func (s *Records[T]) Digits(n int) string {
	var b strings.Builder
	b.WriteByte(byte('1' + s.Rand.IntN(9)))
	for range n - 1 {
		b.WriteByte(byte('0' + s.Rand.IntN(10)))
	}
	return b.String()
}

// PersonName draws a Chinese name.
func (s *Records[T]) PersonName() string {
	return Pick(s.Rand, Surnames) + Pick(s.Rand, GivenNames)
}

func Pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }
