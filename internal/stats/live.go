package stats

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Pulse tells whether a loop is alive: busy and showing progress, or idle,
// waiting for work (a poll interval, an empty topic). The zero value is an
// idle loop.
type Pulse struct {
	last atomic.Int64 // Unix nanoseconds of the last beat
	idle atomic.Bool
}

// Beat says the loop made progress and is busy.
func (p *Pulse) Beat() {
	p.last.Store(time.Now().UnixNano())
	p.idle.Store(false)
}

// Idle says the loop waits for work.
func (p *Pulse) Idle() { p.idle.Store(true) }

// Busy reports whether the loop has begun and is not idle.
func (p *Pulse) Busy() bool { return p.last.Load() != 0 && !p.idle.Load() }

// Stuck returns how long the loop has been busy without a beat at now: 0
// when it is idle or has not begun.
func (p *Pulse) Stuck(now time.Time) time.Duration {
	last := p.last.Load()
	if last == 0 || p.idle.Load() {
		return 0
	}
	return max(now.Sub(time.Unix(0, last)), 0)
}

// Partition names a partition a consumer group member owns, and the flow
// it serves.
type Partition struct {
	Flow, Group, Topic string
	Partition          int
}

func (p Partition) String() string { return fmt.Sprintf("%s %s/%d", p.Group, p.Topic, p.Partition) }

// Owned is where the process stands in a partition it owns.
type Owned struct {
	// Lag is how many records lie behind the last one handled, as of the
	// last fetch.
	Lag int64
	// Oldest is the time of the oldest record not yet handled, as far as
	// the last fetch told; zero when there is none.
	Oldest time.Time
	// Pulse is the partition's loop's.
	Pulse *Pulse
}

// Consumers holds what the consumer group members of a process own, and
// how often their groups rebalanced. It is safe for concurrent use.
type Consumers struct {
	mu         sync.Mutex
	owned      map[Partition]*Owned
	rebalances map[string]int64
}

// Own records that the process owns p from now on and returns its entry,
// which the owner updates under Update.
func (c *Consumers) Own(p Partition) *Owned {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owned == nil {
		c.owned = map[Partition]*Owned{}
	}
	o := &Owned{Pulse: &Pulse{}}
	c.owned[p] = o
	return o
}

// Update changes p's entry, if the process still owns it.
func (c *Consumers) Update(p Partition, fn func(*Owned)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o, ok := c.owned[p]; ok {
		fn(o)
	}
}

// Release forgets p, owned as o: the group gave it to another member,
// whose lag it now is. An entry of a later Own of p stays.
func (c *Consumers) Release(p Partition, o *Owned) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owned[p] == o {
		delete(c.owned, p)
	}
}

// Rebalanced counts a new generation of group.
func (c *Consumers) Rebalanced(group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rebalances == nil {
		c.rebalances = map[string]int64{}
	}
	c.rebalances[group]++
}

// Owned returns a copy of every owned partition's entry, sorted.
func (c *Consumers) Owned() ([]Partition, []Owned) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := make([]Partition, 0, len(c.owned))
	for p := range c.owned {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].String() < ps[j].String() })
	os := make([]Owned, len(ps))
	for i, p := range ps {
		os[i] = *c.owned[p]
	}
	return ps, os
}

// Rebalances returns how many generations each group has had.
func (c *Consumers) Rebalances() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.rebalances))
	for g, n := range c.rebalances {
		out[g] = n
	}
	return out
}

// Live returns an error naming the first loop of the process that has
// been busy without progress for longer than limit: a flow's producer or
// an owned partition's consumer.
func (r *Registry) Live(now time.Time, limit time.Duration) error {
	for _, n := range r.Names() {
		if d := r.Flow(n).pulse.Stuck(now); d > limit {
			return fmt.Errorf("flow %s has made no progress for %s", n, d.Round(time.Second))
		}
	}
	ps, os := r.Consumers.Owned()
	for i, o := range os {
		if d := o.Pulse.Stuck(now); d > limit {
			return fmt.Errorf("%s has made no progress for %s", ps[i], d.Round(time.Second))
		}
	}
	return nil
}
