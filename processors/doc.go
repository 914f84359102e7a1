// Package processors turns a flow's raw vendor records into canonical Avro
// records.
//
// # Delivery
//
// A processor reads the raw topic in a consumer group, maps each record to
// the flow's canonical schema, and publishes it, keyed by the schema's key,
// to canonical.<entity>.v1. A record that cannot be mapped goes to
// dlq.<flow> with the reason in the ferry-error header and its origin in
// ferry-source; the stream goes on. Offsets are committed only after the
// canonical records, the dead letters and the dedupe changelog of the batch
// were acknowledged, so a crash replays the batch: at-least-once.
//
// # Dedupe
//
// Overlapping windows, repeated pages and replays fetch a record many
// times. The processor remembers, per key, the last version stamp and a
// hash of the canonical encoding it published, and drops a record whose
// stamp is older, or equal with the same content. The state lives in
// memory and in the compacted changelog ferry.dedupe.<flow>, loaded at
// start. Records that ferry reconcile re-polls to repair a target carry the
// ferry-repair header and pass dedupe. Dedupe saves work downstream;
// correctness never depends on it, since every sink is idempotent and
// version-guarded.
//
// # Shutdown
//
// Run returns when its context ends, after the batch in hand was either
// fully committed or not committed at all.
package processors
