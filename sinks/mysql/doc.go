// Package mysql is the batch writer of the MySQL sink: Write stores a batch
// of canonical records in one transaction and returns nil only after COMMIT
// succeeded, and writing the same records again changes nothing, so the
// caller commits its Kafka offsets only after Write returned nil and simply
// retries (or replays) a batch after any error. Rows are upserted on the
// schema's key and guarded by its version column: a row is replaced only by
// a record whose version is not older (an equal version does update, so a
// replay is idempotent), and a batch holding the same key twice writes only
// its newest record, so retries, replays and reordering never roll a row
// back.
//
// The upsert is one multi-row statement per up to Config.BatchRows records:
//
//	INSERT INTO `t` (`k`, `c`, `v`) VALUES (?, ?, ?), …
//	ON DUPLICATE KEY UPDATE `c` = IF(VALUES(`v`) >= `v`, VALUES(`c`), `c`), …,
//	`v` = GREATEST(`v`, VALUES(`v`))
//
// The version column is assigned last because assignments run left to right
// and see the ones before them. VALUES() rather than a row alias keeps it
// working on MariaDB 10.11, MySQL 8 and go-mysql-server alike. ON DUPLICATE
// KEY UPDATE fires on any unique key, so the target table should have no
// unique key but its primary key (CreateTable makes it so).
//
// Config.Replace switches to a literal REPLACE INTO, for flows whose seed
// asks for it: it has no version guard (an older record replaces a newer
// row), and on a conflict with ANY unique key it deletes the old row(s)
// before it inserts, so columns the flow does not write are reset to their
// defaults.
//
// Timestamps are written as wall-clock DATETIME(3) values in Config.Zone,
// decimals as their exact decimal string, NULL for nil.
package mysql
