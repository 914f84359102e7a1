package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferry-data/ferry/internal/deadletter"
)

// deadLetters runs ferry dlq on the one flow named.
func deadLetters(ctx context.Context, p *pipeline, out io.Writer) error {
	f := p.flows[0]
	c := p.cfg.DLQ
	filter := deadletter.Filter{Reason: c.Reason, Key: c.Key}
	if c.Since != "" {
		var err error
		if filter.Since, err = parseTime(c.Since, time.Now()); err != nil {
			return fmt.Errorf("ferry dlq: --since %w", err)
		}
	}
	letters, err := deadletter.Read(ctx, p.cfg.Brokers, f, filter)
	if err != nil {
		return fmt.Errorf("ferry dlq: flow %s: %w", f.Name, err)
	}
	switch c.Action {
	case "list":
		groups := deadletter.Groups(f, letters)
		if len(groups) == 0 {
			fmt.Fprintf(out, "no dead letters in %s\n", f.DeadLetterTopic())
			return nil
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COUNT\tNEW\tSTAGE\tFIRST\tLAST\tREASON")
		for _, g := range groups {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", g.Count, g.New, g.Stage,
				g.First.UTC().Format(time.DateTime), g.Last.UTC().Format(time.DateTime), g.Reason)
		}
		return tw.Flush()
	case "show":
		return showLetters(p, letters, out)
	}
	s, err := loadSchema(f)
	if err != nil {
		return err
	}
	codec, err := p.codec(ctx, f, s, true)
	if err != nil {
		return err
	}
	r := &deadletter.Replayer{Flow: f, Brokers: p.cfg.Brokers, Codec: codec, Writer: p.kafkaWriter(), Topics: p.topics(f)}
	sent, err := r.Replay(ctx, letters)
	if err != nil {
		return fmt.Errorf("ferry dlq replay: flow %s: %w", f.Name, err)
	}
	var ok, failed int
	for _, x := range sent {
		at := f.DeadLetterTopic() + "/" + x.Letter.Place()
		if x.Err != nil {
			failed++
			fmt.Fprintf(out, "%s key %s: not sent: %v\n", at, x.Letter.Key, x.Err)
			continue
		}
		ok++
		reason, _, _ := strings.Cut(x.Letter.Reason, "\n") // an expression's error goes on pointing at it
		fmt.Fprintf(out, "%s key %s → %s (%s)\n", at, x.Letter.Key, x.To, reason)
	}
	fmt.Fprintf(out, "sent %d of %d selected dead letters; %d were replayed before", ok, len(letters), len(letters)-len(sent))
	if failed > 0 {
		fmt.Fprintf(out, "; %d could not be sent", failed)
	}
	fmt.Fprintln(out)
	return nil
}

// shownLetter is one dead letter as ferry dlq show prints it: its value
// decoded as ferry tail decodes it (raw JSON as the vendor sent it, or
// the canonical record).
type shownLetter struct {
	Place    string             `json:"place"`
	Time     string             `json:"time"`
	Key      string             `json:"key"`
	Stage    string             `json:"stage"`
	Reason   string             `json:"reason"`
	Source   string             `json:"source"`
	Replayed *deadletter.Replay `json:"replayed,omitempty"`
	Schema   string             `json:"schema"`
	Value    any                `json:"value"`
	Error    string             `json:"error,omitempty"`
}

// showLetters prints the letters decoded, one JSON line each.
func showLetters(p *pipeline, letters []deadletter.Letter, out io.Writer) error {
	t, err := newTailer(p, out)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for _, l := range letters {
		line := shownLetter{Place: l.Place(), Time: l.Time.UTC().Format(time.RFC3339Nano), Key: l.Key, Stage: deadletter.Stage(p.flows[0], l),
			Reason: l.Reason, Source: l.Source, Replayed: l.Replayed}
		line.Schema, line.Value, line.Error = t.decode(l.Message)
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}
