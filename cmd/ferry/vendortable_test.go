package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/producertest"
	"github.com/ferry-data/ferry/vendors"
)

// Acme is a sixth vendor, made up here to show that one needs no engine
// file: its connector, its client, its sandbox and its flow file are all
// below, and the vendor table is the only place that learns of it.

// acmeConnector is Acme in a vendor table. Its one API, acme.shops, pages
// through a merchant's shops with a bearer token.
var acmeConnector = producers.Connector{
	Vendor: vendors.Vendor{
		Name:     "acme",
		Title:    "Acme",
		Env:      "ACME",
		Settings: []vendors.Setting{{Name: vendors.URL}, {Name: "TOKEN", Secret: true}},
		About:    "Acme: the shop list endpoint and a merchant's token",
		Connect: func(a vendors.Account, o vendors.Options) (vendors.Client, error) {
			return &acmeClient{url: a[vendors.URL], token: a["TOKEN"], http: &http.Client{Timeout: o.Timeout}}, nil
		},
	},
	APIPrefix: "acme.",
	Bind: func(c vendors.Client, f *flows.Flow, log *slog.Logger) (producers.Source, error) {
		if f.Source.API != "acme.shops" {
			return nil, fmt.Errorf("acme serves acme.shops, not %s", f.Source.API)
		}
		client, _ := c.(*acmeClient)
		return &acmeSource{c: client, size: max(int(f.Source.Pagination.PageSize), 1)}, nil
	},
}

type acmeClient struct {
	url, token string
	http       *http.Client
}

type acmeSource struct {
	c    *acmeClient
	size int
}

func (s *acmeSource) PageSize() int { return s.size }

func (s *acmeSource) Page(ctx context.Context, w producers.Window, page int) (producers.Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s?page=%d&size=%d", s.c.url, page, s.size), nil)
	if err != nil {
		return producers.Page{}, err
	}
	req.Header.Set("Authorization", "Bearer "+s.c.token)
	resp, err := s.c.http.Do(req)
	if err != nil {
		return producers.Page{}, fmt.Errorf("acme: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return producers.Page{}, fmt.Errorf("acme: HTTP %d", resp.StatusCode)
	}
	var body struct {
		Shops []json.RawMessage `json:"shops"`
		More  bool              `json:"more"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return producers.Page{}, fmt.Errorf("acme: %w", err)
	}
	return producers.Page{Total: -1, Records: body.Shops, More: body.More}, nil
}

// acmeSandbox lists its shops, page by page, to the holder of its token.
type acmeSandbox struct {
	shops []map[string]any
}

func (s *acmeSandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer acme-token" {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	page, err1 := strconv.Atoi(r.URL.Query().Get("page"))
	size, err2 := strconv.Atoi(r.URL.Query().Get("size"))
	if err1 != nil || err2 != nil || page < 0 || size < 1 {
		http.Error(w, "bad page", http.StatusBadRequest)
		return
	}
	from, to := min(page*size, len(s.shops)), min((page+1)*size, len(s.shops))
	json.NewEncoder(w).Encode(map[string]any{"shops": s.shops[from:to], "more": to < len(s.shops)})
}

func acmeSandboxDefault(o sandbox.Settings) sandbox.Served {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 7))
	s := &acmeSandbox{}
	for i := range 23 {
		s.shops = append(s.shops, map[string]any{"shop_id": 100 + i, "shop_name": fmt.Sprintf("店铺%03d", rng.IntN(1000))})
	}
	return sandbox.Served{Handler: s, Path: "/api/shops", Account: map[string]string{"TOKEN": "acme-token"}, Sandbox: s}
}

const acmeFlow = `name: acme_shops
source:
  vendor: acme
  api: acme.shops
  id: shop_id
  pagination: {pageSize: 7}
  topic: raw.acme.shops
  rate: 10/s
processor:
  entity: shop
  zone: Asia/Shanghai
target:
  kind: mysql
  zone: Asia/Shanghai
  main_sql: REPLACE INTO acme_shops (shop_id, shop_name) VALUES (:shop_id, :shop_name)
`

// TestSixthVendorThroughTheTable registers Acme, a vendor made up in this
// file, through a vendor table alone, serves its sandbox as ferry up does
// and runs its flow end to end: every shop lands in MariaDB.
func TestSixthVendorThroughTheTable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "acme_shops.yaml"), []byte(acmeFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl := table
	tbl.Sources = append(slices.Clone(table.Sources), acmeConnector)
	tbl.Sandboxes = maps.Clone(table.Sandboxes)
	tbl.Sandboxes["acme"] = acmeSandboxDefault

	h := newHarnessOf(t, tbl, "--flows", dir)
	if err := tbl.serveUnset(h.ctx, &h.pipe.cfg, h.pipe.flows, t0, h.pipe.log); err != nil {
		t.Fatal(err)
	}
	h.startConsumers()
	if err := h.sync(h.ctx); err != nil {
		t.Fatal(err)
	}
	if err := drained(h.ctx, h.pipe.cfg.Brokers, h.flow); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, s := range acmeSandboxDefault(sandbox.Settings{Seed: 1}).Sandbox.(*acmeSandbox).shops {
		want[fmt.Sprint(s["shop_id"])] = s["shop_name"].(string)
	}
	got := map[string]string{}
	rows, err := h.db.QueryContext(h.ctx, "SELECT shop_id, shop_name FROM acme_shops")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		got[id] = name
	}
	if len(want) != 23 {
		t.Fatalf("the sandbox has %d shops", len(want))
	}
	diff(t, want, got)
}

// TestUnknownVendorRefusedAtStart: a flow naming a vendor the table does
// not have is refused when ferry loads it, with its file and line.
func TestUnknownVendorRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "acme_shops.yaml"), []byte(acmeFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadFlows(Config{FlowDir: dir}, table)
	want := filepath.Join(dir, "acme_shops.yaml") + `:3: source.vendor: unknown vendor "acme" (known: wdt, jushuitan, jackyun, kingdee)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestREADMESettingsFollowTheTable: the README's settings table has one
// row per vendor of the table, made from its settings and About, and no
// row for settings of a vendor the table does not have.
func TestREADMESettingsFollowTheTable(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	want := map[string]bool{}
	for _, v := range table.vendors() {
		row := "| `" + strings.Join(v.Vars(), "`, `") + "` | | " + v.About + " |"
		want[row] = true
		if !slices.Contains(lines, row) {
			t.Errorf("README.md has no settings row for %s; want\n%s", v.Name, row)
		}
	}
	known := table.env()
	for i, l := range lines {
		if !strings.HasPrefix(l, "| `FERRY_") || want[l] {
			continue
		}
		for _, f := range strings.Split(strings.SplitN(l, "|", 3)[1], ",") {
			name := strings.Trim(f, " `")
			if !slices.Contains(Env, name) {
				t.Errorf("README.md:%d: %s is not a setting ferry reads", i+1, name)
			}
			if slices.Contains(known, name) {
				t.Errorf("README.md:%d: %s belongs in its vendor's row, made from the table", i+1, name)
			}
		}
	}
}

// TestEveryVendorHasASandbox: every vendor of the table has a sandbox,
// which accepts exactly the vendor's settings (its URL aside) and serves
// on its own path.
func TestEveryVendorHasASandbox(t *testing.T) {
	served := serveSandboxes(table, 1, t0)
	for _, v := range table.vendors() {
		s, ok := served[v.Name]
		if !ok {
			t.Errorf("%s has no sandbox in the table", v.Name)
			continue
		}
		var names []string
		for _, st := range v.Settings {
			if st.Name != vendors.URL {
				names = append(names, st.Name)
			}
		}
		if got := slices.Sorted(maps.Keys(s.Account)); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
			t.Errorf("%s: the sandbox's account has %v, the vendor's settings are %v", v.Name, got, names)
		}
		if s.Handler == nil {
			t.Errorf("%s: the sandbox serves nothing", v.Name)
		}
	}
	if len(served) != len(table.vendors()) {
		t.Errorf("%d sandboxes for %d vendors", len(served), len(table.vendors()))
	}
}

// sourceCases are what the conformance suite needs to know of each source
// vendor beyond the table: which setting a wrong value of is refused, with
// which code, and what the client logs of throttles and failures.
var sourceCases = map[string]producertest.Case{
	"wdt": {Secret: "APP_SECRET", Refused: "签名错误",
		Throttled: []string{"throttled: status 100"}, Failed: []string{"transient"},
		Malformed: []string{`{}`, `{"status":0}`, `{"status":0,"data":null}`, `{"response":{"status":0}}`}, Unreadable: "transient"},
	"jushuitan": {Secret: "APP_SECRET", Refused: "无效签名",
		Throttled: []string{"调用频次超过限制"},
		Malformed: []string{`{}`, `{"code":0}`, `{"code":0,"msg":"","data":null}`, `{"msg":"ok","datas":[]}`}, Unreadable: "transient"},
	"jackyun": {Secret: "SECRET", Refused: "GW.SIGN_ERROR",
		Throttled: []string{"code=429", "sub_code=GW.RATE_LIMIT", "msg=接口调用频率超限"}, Failed: []string{"transient"},
		Malformed: []string{`{"code":200,"result":null}`, `{"code":200,"msg":"","result":{}}`, `{"code":200,"result":{"data":null}}`}, Unreadable: "without result.data"},
	"kingdee": {Secret: "CLIENT_SECRET", Refused: "1030001003",
		Throttled: []string{"throttled: errcode 429: 请求过于频繁"}, Failed: []string{"transient"},
		Malformed: []string{`{"errcode":0,"description":"success","data":null}`, `{"errcode":0}`}, Unreadable: "a success without data"},
}

// TestSourcesConform runs the conformance suite on every source of the
// vendor table, against the sandbox the table serves for it, with the
// first shipped flow of the vendor.
func TestSourcesConform(t *testing.T) {
	shipped, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, conn := range table.Sources {
		t.Run(conn.Name, func(t *testing.T) {
			c, ok := sourceCases[conn.Name]
			if !ok {
				t.Fatalf("no conformance case for %s", conn.Name)
			}
			c.Connector, c.Sandbox = conn, table.Sandboxes[conn.Name]
			for _, f := range shipped {
				if f.Source.Vendor == conn.Name && c.Flow == "" {
					c.Flow = f.Name
				}
			}
			producertest.Run(t, c)
		})
	}
}
