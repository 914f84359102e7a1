// Package wdtsandbox is ferry's sandbox of 旺店通旗舰版 (WDT). It imitates the direct open API of 旺店通旗舰版 for one method,
// aftersales.refund.Refund.search, as described in shared/vendors.md §3:
//
//   - POST on any path (ferry mounts it at /openapi). System params sid, key,
//     salt, method, v=1.0, timestamp, sign, page_size, page_no and
//     calc_total travel in the query string; the body is a JSON array of
//     positional args, here [{"modified_from":…,"modified_to":…}].
//   - sign is lowercase hex MD5 of secret + sorted k+v of every query param
//     but sign, plus "body" (the raw body text), + secret; salt is the part
//     of the app secret after ':' and is sent; timestamp counts seconds from
//     2012-01-01 Beijing time and must be within 120 s of the sandbox clock.
//   - Times are yyyy-MM-dd HH:mm:ss in Beijing time. A refund matches when its
//     modified stamp, cut to the second, lies in [modified_from, modified_to],
//     both ends included; the span may not exceed 30 days, and a range is
//     required unless refund_no is given. status and refund_no filter too.
//   - Pages are 0-based and ordered by modified, then refund_id. calc_total=1
//     fills total_count.
//   - Answers are HTTP 200 {"status":0,"data":{"total_count":N,"order":[…]}}
//     or {"status":100,"message":"…"}. Throttling shares status 100 and is
//     told apart by its exact message, 超过每分钟最大调用频率限制，请稍后重试.
//   - The record shape, its field names, epoch-millisecond created/modified
//     beside the modified_date string, and the type and status codes follow
//     the vendor's documented example.
//
// What changes, and when, follows only the configured clock (Config.Now)
// and seed: on every call the sandbox first applies the clock-driven
// modifications and creations due since the previous call, stamped at random
// instants in between. MutationsPerCall moves refunds the caller has already
// paged past to the end of the order (a forward walk then skips a record),
// and VisibilityLag keeps each change hidden for a while after its stamp.
// Truth gives the latest version of every refund, for comparing with what a
// consumer collected.
//
// # Stand-ins
//
// These are not vendor facts, only plausible values (vendors.md tags them
// [S] or does not cover them):
//
//   - the page_size cap of 200 (the vendor only advises staying under 200),
//     the default page_size of 40, and the quota, which is whatever
//     CallsPerMinute says (vendors.md proposes 60 a minute);
//   - the text of every validation message except 参数中必须包含起止时间 and
//     请求时间最大跨度为30天, and the order the checks run in;
//   - how faults look: nginx-style 502 and 504 pages, and a 200 whose JSON is
//     cut in half but properly framed;
//   - the data: shop, platform, warehouse and goods codes, names, amounts,
//     process_status, from_type, flag and remark texts, how statuses move
//     (20 → 30 → 40 → 80 → … → 90, or 10) and which fields a change touches;
//   - refund_no is TK + yymmdd + a per-day sequence, and refund_id, rec_id and
//     trade_id count up, as in the vendor's example, from arbitrary bases.
//
// The Qimen route (wdt_sign, 1-based pages) is not imitated.
package wdtsandbox
