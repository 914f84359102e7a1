// Package producers is ferry's polling engine: it walks a vendor's API window
// by window and publishes every raw record to the flow's raw topic.
//
// # Delivery
//
// Each record is published keyed by its source id, with the flow, the window
// and the fetch time as headers, by a writer that waits for all in-sync
// replicas. A window's checkpoint (the compacted topic ferry.checkpoints)
// moves only after every record of the window was acknowledged. A producer
// stopped anywhere (after a page, after publishing but before the
// acknowledgement, after the acknowledgement but before the checkpoint)
// polls the window again when it starts: records may be published twice,
// never skipped. The processor's dedupe and the sinks' version guard make
// the repeats harmless.
//
// # Not missing records
//
// Windows cover [checkpoint − overlap, vendor now − lag], cut into spans no
// longer than the vendor allows, both ends inclusive on the vendor side
// (Plan): consecutive windows share their boundary second, so records
// stamped on it are read twice, never skipped. The vendor's now comes
// from the Date header of its answers (VendorClock), so a vendor whose
// clock runs behind or ahead of ferry's is never polled into its future.
// A process's first window is planned only after one call has taught
// that clock (Producer.Learnt): one extra call per start.
// The lag keeps windows behind records that become visible late; the
// overlap re-reads the last stretch of the previous pass, for records that
// show later than the lag. Such a record enters a window already ended,
// and if that window is being walked it can push the record after it into
// a page already read. Pages are in stamp order, so the pushed record is
// stamped no earlier than the latecomer, and the latecomer no earlier than
// now − (lag + overlap) when its delay is at most that: where the next
// pass starts, which reads both. A flow misses nothing as long as its
// lag + overlap covers the vendor's worst visibility delay.
//
// A record modified while its window is paged leaves the window (its new
// stamp lies after the window's end) and every later record moves up one
// place: a forward walk would skip one record per change. The engine walks
// pages from the last to the first instead. Removals then only move records
// into pages not yet read (they are read twice, never skipped). So the
// counts the answers carry fall during a walk, unless records showed late
// (above) or an answer was wrong: when one rises above the count before
// it, or a page comes back empty though its count says it holds records,
// the window is walked again. An answer without a count fails the walk.
//
// A window whose total exceeds MaxWindowRecords is split in halves until
// each part fits; the split is logged.
//
// Cost: a window of one page takes one call; a window of n > 1 pages takes
// n + 1 calls (page 0 answers the count first and is read again last).
//
// # Shutdown
//
// Run returns when its context ends; the window in flight is not
// checkpointed, so the next start polls it again.
package producers
