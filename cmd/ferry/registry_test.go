package main

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/registry"
)

// TestIncompatibleSchemaStopsTheProcessor: a refund schema that cannot
// read what the subject's latest version wrote stops the processor at
// start, before anything is written, naming the subject and the reason.
func TestIncompatibleSchemaStopsTheProcessor(t *testing.T) {
	h := newHarness(t, "wdt_refunds")
	s, err := loadSchema(h.flow)
	if err != nil {
		t.Fatal(err)
	}
	// The subject's latest version has a field the current schema lacks
	// and cannot default: FORWARD refuses the current schema.
	old := strings.Replace(s.Text(), `"fields": [`, `"fields": [{"name": "legacy_code", "type": "string"},`, 1)
	if _, _, err := h.registry.RegisterSchema(registry.Subject(h.flow.CanonicalTopic()), sr.Schema{Schema: old, Type: sr.TypeAvro}); err != nil {
		t.Fatal(err)
	}
	h.flow.Processor.Compatibility = "FORWARD"
	err = h.pipe.startProcessors(h.ctx, &errgroup.Group{})
	if err == nil || !strings.Contains(err.Error(), "flow wdt_refunds: subject canonical.refund.v1-value: version 1 cannot read schema refund (FORWARD)") {
		t.Fatalf("start: %v", err)
	}
	if end, _ := endOffsetsIfAny(h, h.flow.CanonicalTopic()); end != 0 {
		t.Fatalf("%d canonical records written", end)
	}
}

// endOffsetsIfAny counts the records of a topic, 0 when it does not exist.
func endOffsetsIfAny(h *harness, topic string) (int64, error) {
	end, err := bus.EndOffsets(h.ctx, h.pipe.cfg.Brokers, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range end {
		n += e
	}
	return n, nil
}
