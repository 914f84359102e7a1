// Package banniu writes to 班牛 (Banniu) through its open API's miniAPI
// gateway: system parameters and the uppercase MD5 signature of
// vendors.md §5.2 in the query string, GET calls with their business
// parameters in the (signed) query, POST calls with an unsigned JSON body
// and the access token as a Bearer header.
//
// # Delivery
//
// A Writer turns one canonical record into one task.update, driven by the
// flow's target block: the task is found by a task.list search on a custom
// column (the seed's `_mongoQuery … findField=id where={"content.<column>":…}`),
// then updated. An update with the same contents is harmless, so replays and
// retries are safe. When no task matches yet, WriteRecord returns an error
// wrapping ErrNotYet: the task may be created after the trade, and the sink
// tries again later.
//
// Throttling (code 1007, HTTP 200), HTTP 5xx and 429, timeouts, broken
// connections and truncated or unreadable bodies are retried with jittered
// exponential backoff until the context ends; every other code is returned
// at once as *APIError, a refusal that retrying will not change. Calls stay
// within the account's rate limit. The app secret, the access token and
// signatures never reach a log or an error.
package banniu
