// Package sinks writes a flow's canonical records to its target.
//
// # Delivery
//
// A sink reads the partitions of the canonical topic its consumer group
// assigns it, in batches of up to the flow's limit, and hands each batch to
// its target writer.
//
// A MySQL target applies a batch exactly once: its rows, its deletions and
// the position it ends at (topic, partition, next offset) go into one
// transaction, and the position is kept in the table ferry_sink_positions.
// A sink that is assigned a partition resumes from the position stored
// there, so the group's offset commit, made after the transaction, is only
// advisory: a crash between the two re-applies nothing, which keeps tables
// in mode replace (whose REPLACE INTO has no version guard) right.
//
// An API target takes records one call at a time; its batches are
// committed to the group after they were written, so a crash replays a
// batch, which the target's idempotent updates absorb.
//
// Transient target failures (lost connections, deadlocks, lock waits) are
// retried with backoff until they pass or the context ends. A batch that
// the target refuses outright is written row by row: rows the target
// still refuses go to dlq.<flow> with the reason, the rest land, and the
// stream goes on.
//
// # Shutdown
//
// Run returns when its context ends, after the batches in hand were
// written; what was not is read again by the next sink of the group.
package sinks
