// Package sinks writes a flow's canonical records to its target.
//
// # Delivery
//
// A sink reads the canonical topic in a consumer group, in batches of up to
// the flow's limit, hands each batch to its target writer (one database
// transaction for MySQL) and commits the batch's offsets only after the
// writer returned: a crash replays the batch, and the target's idempotent,
// version-guarded writes make the replay harmless.
//
// Transient target failures (lost connections, deadlocks, lock waits) are
// retried with backoff until they pass or the context ends. A batch that
// the target refuses outright is written row by row: rows the target
// still refuses go to dlq.<flow> with the reason, the rest land, and the
// stream goes on.
//
// # Shutdown
//
// Run returns when its context ends; a batch not yet written is not
// committed, and is read again by the next sink of the group.
package sinks
