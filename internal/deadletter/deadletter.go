// Package deadletter reads a flow's dead-letter topic for people: it
// groups the dead letters by reason, tells new ones from those already
// replayed, and replays them to the stage where they failed once the flow
// or the schema is fixed.
//
// A processor's dead letter (its source is the raw topic) goes back to the
// raw topic marked past dedupe (bus.HeaderRepair), so that the processor
// maps it again even though it has seen its version. A sink's dead letter
// (its source is the canonical or the retry topic) goes back to the
// canonical topic, re-encoded in the current schema. Each replayed dead
// letter is then marked in the flow's compacted replay topic, keyed by its
// place in the dead-letter topic, so that a second replay skips it, and
// the dead-letter topic itself stays as it was: its depth, which alerts
// watch, does not move.
package deadletter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/schemas"
)

// HeaderReplayOf marks a replayed record with the dead letter it came
// from, as "topic/partition@offset".
const HeaderReplayOf = "ferry-replay-of"

// Letter is one dead letter.
type Letter struct {
	Partition int
	Offset    int64
	Time      time.Time
	Key       string
	Message   kafka.Message
	// Reason is why it was refused; Source the place of the record
	// refused, as "topic/partition@offset".
	Reason, Source string
	// Replayed is when it was replayed, and where to; nil if never.
	Replayed *Replay
}

// Place is the letter's place in the dead-letter topic, as
// "partition@offset".
func (l Letter) Place() string { return fmt.Sprintf("%d@%d", l.Partition, l.Offset) }

// SourceTopic is the topic of the record that was refused.
func (l Letter) SourceTopic() string {
	topic, _, _ := strings.Cut(l.Source, "/")
	return topic
}

// Replay is the mark of a replayed dead letter.
type Replay struct {
	At time.Time `json:"at"`
	To string    `json:"to"` // "topic/partition@offset" of the record sent
}

// Filter selects dead letters: by a text their reason contains, by time,
// by key. The zero Filter selects all.
type Filter struct {
	Reason string
	Since  time.Time
	Key    string
}

func (f Filter) match(l Letter) bool {
	return strings.Contains(l.Reason, f.Reason) && !l.Time.Before(f.Since) && (f.Key == "" || l.Key == f.Key)
}

// ReplayTopic is the compacted topic of the flow's replay marks.
func ReplayTopic(f *flows.Flow) string { return f.DeadLetterTopic() + ".replayed" }

// Topics are the topics the package writes for the flow: its replay
// topic, created by the first replay, of one partition (a mark a dead
// letter replayed, it stays small) with the settings' replication.
func Topics(f *flows.Flow, s bus.Settings) []bus.Topic {
	s.Partitions = 1
	return []bus.Topic{{Name: ReplayTopic(f), Settings: s, Compacted: true}}
}

// Read returns the flow's dead letters that filter selects, oldest first
// in each partition, with their replay marks.
func Read(ctx context.Context, brokers []string, f *flows.Flow, filter Filter) ([]Letter, error) {
	marks := map[string]*Replay{}
	err := bus.ReadAll(ctx, brokers, ReplayTopic(f), func(m kafka.Message) {
		var r Replay
		if m.Value == nil || json.Unmarshal(m.Value, &r) != nil {
			delete(marks, string(m.Key))
			return
		}
		marks[string(m.Key)] = &r
	})
	if err != nil && !isUnknownTopic(err) {
		return nil, fmt.Errorf("replay marks: %w", err)
	}
	var out []Letter
	add := func(m kafka.Message) {
		l := Letter{Partition: m.Partition, Offset: m.Offset, Time: m.Time, Key: string(m.Key), Message: m,
			Reason: bus.Header(m, bus.HeaderError), Source: bus.Header(m, bus.HeaderSource)}
		l.Replayed = marks[l.Place()]
		if filter.match(l) {
			out = append(out, l)
		}
	}
	if filter.Key != "" {
		_, err = bus.ReadKey(ctx, brokers, f.DeadLetterTopic(), filter.Key, add) // dead letters keep their record's key
	} else {
		err = bus.ReadAll(ctx, brokers, f.DeadLetterTopic(), add)
	}
	if err != nil && !isUnknownTopic(err) {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}

func isUnknownTopic(err error) bool { return errors.Is(err, kafka.UnknownTopicOrPartition) }

// Group is the dead letters of one reason.
type Group struct {
	Reason  string    `json:"reason"` // the reason with its values left out
	Stage   string    `json:"stage"`  // processor or sink: where they failed
	Count   int       `json:"count"`
	New     int       `json:"new"` // not replayed yet
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Example string    `json:"example"` // one reason in full
}

// values are the parts of a reason that differ from record to record:
// quoted text and numbers.
var values = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\b\d[\d.:TZ+-]*\b`)

// Shape is a reason's first line with its values left out, so that the
// dead letters of one cause fall into one group. (An expression's error
// goes on with lines that point at the expression.)
func Shape(reason string) string {
	reason, _, _ = strings.Cut(reason, "\n")
	return values.ReplaceAllStringFunc(reason, func(v string) string {
		if strings.HasPrefix(v, `"`) {
			return `"…"`
		}
		return "…"
	})
}

// Groups groups dead letters by the shape of their reason and their
// stage, the largest group first.
func Groups(f *flows.Flow, letters []Letter) []Group {
	index := map[[2]string]int{}
	var out []Group
	for _, l := range letters {
		k := [2]string{Shape(l.Reason), Stage(f, l)}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Group{Reason: k[0], Stage: k[1], First: l.Time, Last: l.Time, Example: l.Reason})
		}
		g := &out[i]
		g.Count++
		if l.Replayed == nil {
			g.New++
		}
		if l.Time.Before(g.First) {
			g.First = l.Time
		}
		if l.Time.After(g.Last) {
			g.Last = l.Time
		}
	}
	slices.SortStableFunc(out, func(a, b Group) int { return b.Count - a.Count })
	return out
}

// Stage says where a dead letter failed: the processor (its record came
// from the raw topic) or the sink.
func Stage(f *flows.Flow, l Letter) string {
	if l.SourceTopic() == f.Source.Topic {
		return "processor"
	}
	return "sink"
}

// Sent is one replayed dead letter.
type Sent struct {
	Letter Letter
	To     string // the topic it went to
	Err    error  // why it could not be replayed, if so
}

// Replayer sends dead letters back.
type Replayer struct {
	Flow    *flows.Flow
	Brokers []string
	// Codec reads a sink's dead letters and writes them again in the
	// current schema.
	Codec schemas.Codec
	// Writer publishes the replayed records (murmur2 by key, so each goes
	// to its key's partition) and the marks.
	Writer *kafka.Writer
	// Topics are the settings the replay topic is created with.
	Topics bus.Settings
	Now    func() time.Time
}

// Replay sends the letters not replayed yet to the stage where they
// failed, then marks them; letters already marked are left, so that a
// second replay does nothing. A sink's dead letter whose value the codec
// cannot read is not sent, and says why.
func (r *Replayer) Replay(ctx context.Context, letters []Letter) ([]Sent, error) {
	if r.Now == nil {
		r.Now = time.Now
	}
	if err := bus.EnsureTopics(ctx, r.Brokers, nil, Topics(r.Flow, r.Topics)...); err != nil {
		return nil, err
	}
	var sent []Sent
	var msgs []kafka.Message
	for _, l := range letters {
		if l.Replayed != nil {
			continue
		}
		m, err := r.message(l)
		if err != nil {
			sent = append(sent, Sent{Letter: l, Err: err})
			continue
		}
		sent = append(sent, Sent{Letter: l, To: m.Topic})
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return sent, nil
	}
	if err := r.Writer.WriteMessages(ctx, msgs...); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	// The marks go once the records are acknowledged: a crash between
	// the two replays the letters again, which dedupe and the sinks'
	// version guards make harmless.
	var marks []kafka.Message
	at := r.Now().UTC()
	for _, s := range sent {
		if s.Err != nil {
			continue
		}
		v, _ := json.Marshal(Replay{At: at, To: s.To})
		marks = append(marks, kafka.Message{Topic: ReplayTopic(r.Flow), Key: []byte(s.Letter.Place()), Value: v})
	}
	if err := r.Writer.WriteMessages(ctx, marks...); err != nil {
		return nil, fmt.Errorf("replay marks: %w", err)
	}
	return sent, nil
}

// message is the record a letter is replayed as.
func (r *Replayer) message(l Letter) (kafka.Message, error) {
	var headers []kafka.Header
	for _, h := range l.Message.Headers {
		if h.Key != bus.HeaderError && h.Key != bus.HeaderSource && h.Key != bus.HeaderRepair && h.Key != HeaderReplayOf {
			headers = append(headers, h)
		}
	}
	headers = append(headers, kafka.Header{Key: HeaderReplayOf, Value: []byte(r.Flow.DeadLetterTopic() + "/" + l.Place())})
	if Stage(r.Flow, l) == "processor" {
		headers = append(headers, kafka.Header{Key: bus.HeaderRepair, Value: []byte("dead-letter replay")})
		return kafka.Message{Topic: r.Flow.Source.Topic, Key: l.Message.Key, Value: l.Message.Value, Headers: headers}, nil
	}
	rec, err := r.Codec.Decode(l.Message.Value)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("cannot read it: %w", err)
	}
	v, err := r.Codec.Encode(rec)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("cannot write it in the current schema: %w", err)
	}
	return kafka.Message{Topic: r.Flow.CanonicalTopic(), Key: l.Message.Key, Value: v, Headers: headers}, nil
}
