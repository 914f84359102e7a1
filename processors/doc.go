// Package processors turns a flow's raw vendor records into canonical Avro
// records.
//
// # Delivery
//
// A processor reads the raw topic in the flow's consumer group, maps each
// record to the flow's canonical schema, and publishes it, keyed by the
// schema's key, to canonical.<entity>.v1. A record that cannot be mapped
// goes to dlq.<flow> with the reason in the ferry-error header and its
// origin in ferry-source; the stream goes on. Offsets are committed only
// after the canonical records, the dead letters and the dedupe changelog
// of the batch were acknowledged, so a crash replays the batch:
// at-least-once.
//
// # Scaling out
//
// Any number of processors of a flow may run. Each owns the raw
// partitions the group assigns it (bus.Consumer) and processes them
// concurrently, up to one per CPU. A raw record is keyed by its source id,
// so all versions of a record arrive in one partition, in the order they
// were fetched, and one processor at a time decides about them.
//
// # Dedupe
//
// Overlapping windows, repeated pages and replays fetch a record many
// times. The processor remembers, per key, the last version stamp and a
// hash of the canonical encoding it published, and drops a record whose
// stamp is older, or equal with the same content. Of a key's records in
// one batch, only the newest is published.
//
// The state of a raw partition lives in memory with the processor that
// owns the partition (25 to 50 bytes a key; see state) and in the same partition
// of the compacted changelog ferry.dedupe.<flow>, which is co-partitioned
// with the raw topic. A processor restores a partition's state when it is
// assigned the partition, before processing any of its records, and drops
// it when the partition is revoked; so a key's state moves with its
// partition and dedupe stays right across rebalances. A batch begun is
// finished before the partition moves on, so its records, their state and
// its offset move together.
//
// After a crash, the batch in flight may be published again: its records
// once more, in the same order, each key at its newest. A consumer may see
// such a repeat, but never a key going back to an older version. Records
// that ferry reconcile re-polls to repair a target carry the ferry-repair
// header and pass dedupe. Dedupe saves work downstream; correctness never
// depends on it, since every sink is idempotent and version-guarded.
//
// # Shutdown
//
// Run returns when its context ends, after the batches in hand were
// finished and committed, and the processor left its group, so its
// partitions move to the others at once.
package processors
