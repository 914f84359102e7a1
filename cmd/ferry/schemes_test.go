package main

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

// One integration test per seed scheme: each runs its flow file as
// shipped, over kfake and MariaDB, against its vendor's sandbox with
// mutation while paging, visibility lag, throttling and failures on, and
// compares the target with the source's final truth.

var cst = time.FixedZone("CST", 8*3600)

func fmtAny(v any) string { return fmt.Sprintf("%+v", v) }

func num(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *big.Rat:
		return x.FloatString(2)
	}
	return fmt.Sprint(v)
}

// latest keeps the last record per key and fails on a version published
// twice.
func latest(t *testing.T, recs []map[string]any, key, version string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	seen := map[string]bool{}
	for _, r := range recs {
		id := fmt.Sprint(r[key])
		v := id + "@" + fmt.Sprint(r[version])
		if seen[v] {
			t.Fatalf("version %s was published twice", v)
		}
		seen[v] = true
		out[id] = r
	}
	return out
}

// --- seed 004: WDT refunds → MySQL -------------------------------------

func newWDT(t *testing.T, sc wdtsandbox.Config) (*harness, *wdtsandbox.Sandbox) {
	h := newHarness(t, "wdt_refunds")
	sc.Now, sc.Since = h.clock.Now, t0.Add(-72*time.Hour)
	sb := wdtsandbox.New(sc)
	h.use("wdt", h.serve(sb, "/openapi"), sb.Account())
	return h, sb
}

// assertRefunds compares aftersales_refund_refund_search with the
// sandbox's truth.
func assertRefunds(h *harness, sb *wdtsandbox.Sandbox) {
	h.t.Helper()
	want := map[string]string{}
	for _, r := range sb.Truth() {
		mod := time.UnixMilli(int64(r["modified"].(float64))).In(cst)
		want[num(r["refund_id"])] = fmt.Sprintf("%s|%s|%.4f|%s", mod.Format("2006-01-02 15:04:05.000"),
			num(r["status"]), r["actual_refund_amount"].(float64), r["remark"])
	}
	rows, err := h.db.QueryContext(h.ctx, "SELECT refund_id, DATE_FORMAT(modified, '%Y-%m-%d %H:%i:%s.%f'), status, actual_refund_amount, remark FROM aftersales_refund_refund_search")
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var id, mod, status, amount, remark string
		if err := rows.Scan(&id, &mod, &status, &amount, &remark); err != nil {
			h.t.Fatal(err)
		}
		got[id] = fmt.Sprintf("%s|%s|%s|%s", mod[:23], status, amount, remark)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	diff(h.t, want, got)
}

func TestSchemeWDTRefunds(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 2000, Settings: sandbox.Settings{Seed: 9, MutationsPerSecond: churning.mutations, CreationsPerSecond: churning.creations, MutationsPerCall: churning.perCall, VisibilityLag: churning.lag, Faults: churning.faults}})
	h.startConsumers()
	h.sureTraps(sb)
	h.churn(6, 45*time.Second)
	h.settle(0, sb)
	assertRefunds(h, sb)
	if st := sb.Stats(); st.Mutations == 0 || st.Creations == 0 || st.Throttled == 0 || st.Failed == 0 {
		t.Fatalf("the sandbox did not set its traps: %+v", st)
	}
}

// TestProducerRestartMidWindow stops the producer in the middle of a
// window's walk, after some pages were published but before the window was
// checkpointed; a new producer polls the window again and nothing is lost.
func TestProducerRestartMidWindow(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 600, Settings: sandbox.Settings{Seed: 11, MutationsPerSecond: 2, MutationsPerCall: 1, VisibilityLag: 10 * time.Second}})
	h.startConsumers()
	ctx, stop := context.WithCancel(h.ctx)
	h.whenCalled(func(n int64) {
		if n == 5 { // the count call and three pages are done
			stop()
		}
	})
	if err := h.sync(ctx); err == nil {
		t.Fatal("producer was not stopped mid-window")
	}
	cps, err := h.pipe.buildProducers(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cps[0].Checkpoints.Get(h.flow.Name); ok {
		t.Fatal("the interrupted window was checkpointed")
	}
	h.whenCalled(nil)
	h.clock.Advance(time.Minute)
	h.settle(0, sb)
	assertRefunds(h, sb)
	if p := h.pipe.stats.Flow(h.flow.Name).Published.Load(); p <= int64(len(sb.Truth())) {
		t.Fatalf("published %d: the interrupted window was not polled again", p)
	}
}

// TestMalformedRecordIsDeadLettered puts a record the processor cannot map
// into the raw topic among the vendor's: it lands in dlq.wdt_refunds with
// the reason, and every other refund lands in MySQL.
func TestMalformedRecordIsDeadLettered(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 300, Settings: sandbox.Settings{Seed: 3}})
	bad := kafka.Message{Topic: h.flow.Source.Topic, Key: []byte("x"), Value: []byte(`{"refund_id":"TK-not-a-number","modified":1709290000000}`)}
	if err := bus.EnsureTopics(h.ctx, h.pipe.cfg.Brokers, nil, bus.Topic{Name: h.flow.Source.Topic}); err != nil {
		t.Fatal(err)
	}
	if err := h.pipe.kafkaWriter().WriteMessages(h.ctx, bad); err != nil {
		t.Fatal(err)
	}
	h.startConsumers()
	h.settle(0, sb)
	assertRefunds(h, sb)
	dead := h.deadLetters()
	if len(dead) != 1 || string(dead[0].Value) != string(bad.Value) {
		t.Fatalf("dead letters %v", dead)
	}
	reason := bus.Header(dead[0], bus.HeaderError)
	if !strings.Contains(reason, "refund_id") || !strings.Contains(reason, "not an integer") {
		t.Fatalf("dead letter reason %q", reason)
	}
	if src := bus.Header(dead[0], bus.HeaderSource); !strings.HasPrefix(src, h.flow.Source.Topic+"/") {
		t.Fatalf("dead letter source %q", src)
	}
}

// --- seeds 000 and 001: Jushuitan ---------------------------------------

func newJST(t *testing.T, flow string, sc jstsandbox.Config) (*harness, *jstsandbox.Sandbox) {
	h := newHarness(t, flow)
	sc.Now, sc.Since = h.clock.Now, t0.Add(-72*time.Hour)
	sc.PerSecond, sc.PerMinute = -1, -1 // the clock moves a second a call: quotas would only slow the test
	sb := jstsandbox.New(sc)
	h.use("jushuitan", h.serve(sb, ""), sb.Account())
	return h, sb
}

// TestSchemeJSTOrders: Confirmed outbound orders become canonical orders
// with the seed's transformation; every order Confirmed at the end is on
// the topic in its latest version, amount recomputed from its items.
func TestSchemeJSTOrders(t *testing.T) {
	h, sb := newJST(t, "jst_orders", jstsandbox.Config{Orders: 1500, Shops: 3, Settings: sandbox.Settings{Seed: 5, MutationsPerSecond: churning.mutations, CreationsPerSecond: churning.creations, MutationsPerCall: churning.perCall, VisibilityLag: churning.lag, Faults: churning.faults}})
	h.startConsumers()
	h.sureTraps(sb)
	h.churn(6, 45*time.Second)
	h.settle(0, sb)

	want := map[string]string{}
	for _, o := range sb.TruthOrders() {
		if o["status"] != "Confirmed" {
			continue // the flow asks for Confirmed orders only
		}
		sum := new(big.Rat)
		for _, it := range o["items"].([]any) {
			item := it.(map[string]any)
			q, _ := new(big.Rat).SetString(num(item["qty"]))
			p, _ := new(big.Rat).SetString(num(item["sale_price"]))
			sum.Add(sum, q.Mul(q, p))
		}
		day, _ := o["io_date"].(string)
		if day == "" {
			day = o["created"].(string)
		}
		want[num(o["o_id"])] = fmt.Sprintf("%s|%s|%s|%s|%d|%s", o["modified"], o["receiver_name"], strings.ReplaceAll(day[:10], "-", ""), sum.FloatString(2), len(o["items"].([]any)), num(o["shop_id"]))
	}
	got := map[string]string{}
	for id, r := range latest(t, h.canonical(), "id", "modified") {
		if _, ok := want[id]; !ok {
			continue // no longer Confirmed: the flow no longer sees it
		}
		got[id] = fmt.Sprintf("%s|%s|%s|%s|%d|%s", r["modified"].(time.Time).In(cst).Format(time.DateTime), r["name"], r["date"], num(r["amount"]), len(r["items_detail"].([]any)), r["shop_id"])
	}
	diff(t, want, got)
	if st := sb.Stats(); st.Mutations == 0 || st.Throttled == 0 || st.Failed == 0 {
		t.Fatalf("the sandbox did not set its traps: %+v", st)
	}
}

// TestSchemeJSTShops: a full scan of every shop lands in the seed's shops
// table with the seed's REPLACE INTO, renamed shops included.
func TestSchemeJSTShops(t *testing.T) {
	h, sb := newJST(t, "jst_shops", jstsandbox.Config{Orders: 5, Shops: 230, Settings: sandbox.Settings{Seed: 6, MutationsPerSecond: churning.mutations, Faults: churning.faults}})
	h.startConsumers()
	h.churn(4, 45*time.Second)
	h.settle(0, sb)
	want := map[string]string{}
	for _, s := range sb.TruthShops() {
		want[num(s["shop_id"])] = fmt.Sprintf("%s|%s|%s|%s", s["shop_name"], s["group_name"], s["short_name"], s["created"])
	}
	rows, err := h.db.QueryContext(h.ctx, "SELECT shop_id, shop_name, group_name, short_name, DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s') FROM shops")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var id, name, group, short, created string
		if err := rows.Scan(&id, &name, &group, &short, &created); err != nil {
			t.Fatal(err)
		}
		got[id] = fmt.Sprintf("%s|%s|%s|%s", name, group, short, created)
	}
	diff(t, want, got)
}

// --- seed 003: Kingdee customers ----------------------------------------

// TestSchemeKingdeeCustomers: customers modified in each window become
// canonical customers, contact and address flattened; the appSecret
// rotates during the run and ferry re-authorises by itself.
func TestSchemeKingdeeCustomers(t *testing.T) {
	h := newHarness(t, "kingdee_customers")
	sb := kingdeesandbox.New(kingdeesandbox.Config{Customers: 1500, SecretTTL: 3 * time.Minute, TokenCallsPerMinute: -1, PerMinute: -1, Settings: sandbox.Settings{Seed: 7, Now: h.clock.Now, Since: t0.Add(-72 * time.Hour), MutationsPerSecond: churning.mutations, CreationsPerSecond: churning.creations, MutationsPerCall: churning.perCall, VisibilityLag: churning.lag, Faults: churning.faults}})
	h.use("kingdee", h.serve(sb, ""), sb.Account())
	h.startConsumers()
	h.sureTraps(sb)
	h.churn(6, 45*time.Second)
	h.settle(0, sb)

	// The sandbox's truth is in clear; the vendor encrypts addr and the
	// contacts, and the detail call alone returns them.
	want := map[string]string{}
	for _, r := range sb.Truth() {
		var phone, email any
		for _, c := range r["bomentity"].([]any) {
			if c := c.(map[string]any); c["is_default_linkman"] == true {
				phone, email = c["mobile"], c["email"]
			}
		}
		if email == "" {
			email = nil
		}
		want[r["id"].(string)] = fmt.Sprintf("%s|%s|%v|%v|%v|%v|%v", r["modify_time"], r["name"], phone, email, r["province_name"], r["district_name"], r["addr"])
	}
	got := map[string]string{}
	for id, r := range latest(t, h.canonical(), "id", "modify_time") {
		loc, _ := r["location"].(map[string]any)
		got[id] = fmt.Sprintf("%s|%s|%v|%v|%v|%v|%v", r["modify_time"].(time.Time).In(cst).Format(time.DateTime), r["name"],
			r["contact_phone"], r["contact_email"], loc["province"], loc["district"], loc["address_detail"])
	}
	diff(t, want, got)
	st := sb.Stats()
	t.Logf("%.2f vendor calls a customer (%d calls, %d customers, throttling and failures included)",
		float64(st.Calls)/float64(len(want)), st.Calls, len(want))
	if st.Rotations == 0 || st.Mutations == 0 || st.Throttled == 0 || st.Failed == 0 {
		t.Fatalf("the sandbox did not set its traps: %+v", st)
	}
}

// --- seed 002: Jackyun trade status → Banniu tasks ----------------------

// TestSchemeJackyunToBanniu: consigned trades of type 92 whose status is
// 6000 or 9090 set column 78538 of the Banniu task that names them. Some
// tasks are created only after their trade was read (ferry parks the trade
// and tries again), and one never is (ferry gives up after giveUp and
// dead-letters it); no other trade is touched.
func TestSchemeJackyunToBanniu(t *testing.T) {
	h := newHarness(t, "jackyun_trades_banniu")
	h.pipe.retryAfter = 10 * time.Millisecond
	jky := jackyunsandbox.New(jackyunsandbox.Config{Trades: 4000, PerSecond: -1, PerMinute: -1, Settings: sandbox.Settings{Seed: 8, Now: h.clock.Now, Since: t0.Add(-96 * time.Hour), MutationsPerSecond: churning.mutations, CreationsPerSecond: churning.creations, MutationsPerCall: churning.perCall, VisibilityLag: churning.lag, Faults: churning.faults}})
	// The test moves the clock a day at once under the sink's calls: let
	// Banniu accept their timestamps across the jump.
	bn := banniusandbox.New(banniusandbox.Config{Tasks: -1, PerSecond: -1, MaxSkew: 48 * time.Hour, Settings: sandbox.Settings{Seed: 8, Now: h.clock.Now, Faults: churning.faults}})
	h.use("jackyun", h.serve(jky, "/open/openapi/do"), jky.Account())
	h.use("banniu", h.serveTarget(bn, "/gateway/api/miniAPI"), bn.Account())

	// Most trades have their task from the start; every seventh gets it
	// late; one never does.
	var late []string
	var never string
	for i, tr := range jky.Truth() {
		no := tr["onlineTradeNo"].(string)
		consign, _ := tr["consignTime"].(string)
		switch {
		case never == "" && num(tr["tradeStatus"]) == "9090" && num(tr["tradeType"]) == "92" && consign >= "2024-02-27":
			never = no
		case i%7 == 0:
			late = append(late, no)
		default:
			bn.AddTask(banniusandbox.DefaultProject, map[string]any{"77213": no})
		}
	}
	h.startConsumers()
	h.sureTraps(jky)
	h.churn(6, 45*time.Second)
	jky.Freeze() // no new trades from here on (Banniu calls still move the clock)
	for _, no := range late {
		bn.AddTask(banniusandbox.DefaultProject, map[string]any{"77213": no})
	}
	// Trades created during the run get their tasks now, too.
	have := map[string]bool{never: true}
	for _, tk := range bn.Tasks(banniusandbox.DefaultProject) {
		have[fmt.Sprint(tk.Content["77213"])] = true
	}
	for _, tr := range jky.Truth() {
		if no := tr["onlineTradeNo"].(string); !have[no] {
			bn.AddTask(banniusandbox.DefaultProject, map[string]any{"77213": no})
		}
	}
	// Consign-time windows run a day behind (the seed's −86400).
	h.settle(25*time.Hour, jky, bn)

	want := map[string]string{}
	for _, tr := range jky.Truth() {
		no := tr["onlineTradeNo"].(string)
		if no == never {
			continue
		}
		if jackyunSelects(tr) {
			want[no] = "78534"
		} else {
			want[no] = "<untouched>"
		}
	}
	// Parked trades are retried in the background: wait for the tasks.
	deadline := time.After(time.Minute)
	for {
		got := map[string]string{}
		for _, tk := range bn.Tasks(banniusandbox.DefaultProject) {
			v, ok := tk.Content["78538"]
			got[fmt.Sprint(tk.Content["77213"])] = map[bool]string{true: fmt.Sprint(v), false: "<untouched>"}[ok]
		}
		delete(got, never)
		same := len(got) == len(want)
		for k, v := range want {
			same = same && got[k] == v
		}
		if same {
			diff(t, want, got)
			break
		}
		select {
		case <-deadline:
			for k, v := range want {
				if got[k] != v {
					for _, tr := range jky.Truth() {
						if tr["onlineTradeNo"] == k {
							trace(h, fmt.Sprint(tr["tradeNo"]), tr)
						}
					}
				}
			}
			diff(t, want, got)
		case <-time.After(20 * time.Millisecond): // polling the sandbox for the retried trades
		}
	}
	// The trade whose task never came is dead-lettered once giveUp passed.
	h.clock.Advance(h.flow.Target.GiveUp.D())
	deadline = time.After(time.Minute)
	for {
		var reasons []string
		for _, m := range h.deadLetters() {
			reasons = append(reasons, bus.Header(m, bus.HeaderError))
		}
		if len(reasons) == 1 && strings.Contains(reasons[0], "gave up after 24h0m0s") && strings.Contains(reasons[0], never) {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("dead letters %q, want the trade %s given up", reasons, never)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if st := jky.Stats(); st.Mutations == 0 || st.Throttled == 0 || st.Failed == 0 {
		t.Fatalf("the Jackyun sandbox did not set its traps: %+v", st)
	}
}

// trace logs what became of one record, for a failing comparison: the
// vendor's truth, and its raw, canonical and dead-letter messages.
func trace(h *harness, key string, truth any) {
	h.t.Logf("trace %s: truth %.400v; stats %+v", key, truth, h.pipe.stats.Flow(h.flow.Name))
	for _, topic := range []string{h.flow.Source.Topic, h.flow.CanonicalTopic(), h.flow.DeadLetterTopic(), "retry." + h.flow.Name} {
		bus.ReadAll(h.ctx, h.pipe.cfg.Brokers, topic, func(m kafka.Message) {
			if string(m.Key) == key || strings.Contains(string(m.Value), key) {
				h.t.Logf("trace %s: %s@%d window %s error %q: %.300s", key, topic, m.Offset, bus.Header(m, bus.HeaderWindow), bus.Header(m, bus.HeaderError), m.Value)
			}
		})
	}
}

// jackyunSelects reports whether the jackyun_trades_banniu flow, run from
// the harness's --since, selects a trade: type 92, status 6000 or 9090,
// consigned since its first window, which starts a day before --since
// (the seed's −86400): 2024-02-26 00:00.
func jackyunSelects(tr map[string]any) bool {
	consign, _ := tr["consignTime"].(string)
	status := num(tr["tradeStatus"])
	return num(tr["tradeType"]) == "92" && consign >= "2024-02-26 00:00:00" && (status == "6000" || status == "9090")
}
