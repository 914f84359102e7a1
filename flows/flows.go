// Package flows holds ferry's integration schemes as flow files and the code
// that reads them.
//
// A flow file is YAML (JSON is YAML too). Its source and target blocks
// accept the seed platform's metadata as written (api, method, id, number,
// pagination, request fields with templated values such as
// {{LAST_SYNC_TIME|datetime}} or $value$, params, main_sql, main_params,
// limit, numbers written as strings), so a scheme moves over unchanged;
// ferry's own settings (window, topic, rate, mode, zone) sit beside them.
// What the loader translates or chooses, and the seed keys it reads but
// does not act on, are kept as the flow's Notes, which ferry logs at start.
// A file that does not decode or does not validate is refused with its
// path, the line and the cause, before anything starts. Import turns a
// seed scheme's blocks into a flow file (ferry flow import).
package flows

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
	"golang.org/x/time/rate"
	"gopkg.in/yaml.v3"

	"github.com/ferry-data/ferry/schemas"
)

//go:embed *.yaml
var shipped embed.FS

// Flow is one integration scheme: where records come from, what they become,
// and where they land.
type Flow struct {
	Name      string    `yaml:"name"`
	Title     string    `yaml:"title"`
	Source    Source    `yaml:"source"`
	Processor Processor `yaml:"processor"`
	Target    Target    `yaml:"target"`
	// Topics override the process's settings for the flow's topics.
	Topics Topics `yaml:"topics"`

	// Path is the file the flow was read from.
	Path string `yaml:"-"`
	// Notes are what the loader chose or translated for this flow, and
	// the seed keys it read but does not act on; ferry logs them at start.
	Notes []Note `yaml:"-"`

	root *yaml.Node // the file, for the lines of later refusals
}

// Note is one thing the loader tells a flow's author: a default it chose
// (Warn false), or a seed key it read but does not act on (Warn true).
type Note struct {
	Path string // where in the file: "source.idCheck"
	Line int
	Text string
	Warn bool
}

func (f *Flow) note(path string, warn bool, format string, args ...any) {
	f.Notes = append(f.Notes, Note{Path: path, Text: fmt.Sprintf(format, args...), Warn: warn})
}

// Topics are how ferry creates a flow's topics (raw, canonical,
// dead-letter, retry and dedupe state); an unset field takes the process's
// setting (FERRY_TOPIC_*).
type Topics struct {
	Partitions        Count `yaml:"partitions"`
	ReplicationFactor Count `yaml:"replicationFactor"`
	MinInsyncReplicas Count `yaml:"minInsyncReplicas"`
	// CanonicalCleanupPolicy is the canonical topic's cleanup.policy:
	// compact (the default), delete, or compact,delete.
	CanonicalCleanupPolicy string `yaml:"canonicalCleanupPolicy"`
}

// CompatibilityLevels are the schema registry's compatibility levels.
var CompatibilityLevels = []string{"BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"}

// DefaultCompatibility is the level of a flow that names none.
const DefaultCompatibility = "BACKWARD"

// CheckCleanupPolicy checks a canonical topic's cleanup.policy setting.
func CheckCleanupPolicy(p string) error {
	switch p {
	case "", "compact", "delete", "compact,delete":
		return nil
	}
	return fmt.Errorf("%q: want compact, delete or compact,delete", p)
}

// Source is the vendor API a producer polls.
type Source struct {
	Vendor string `yaml:"vendor"`
	API    string `yaml:"api"`
	Effect string `yaml:"effect"`
	Method string `yaml:"method"`
	// NameField is the seed's "name": the field that names a record.
	NameField  string         `yaml:"name"`
	ID         string         `yaml:"id"`
	Number     string         `yaml:"number"`
	IDCheck    bool           `yaml:"idCheck"`
	Pagination Pagination     `yaml:"pagination"`
	Request    []RequestField `yaml:"request"`
	// Params is the seed's other way of writing the request: field names
	// to values. The loader appends them to Request, in order.
	Params yaml.Node `yaml:"params"`
	Window Window    `yaml:"window"`
	// Topic is the raw topic the producer publishes to.
	Topic string `yaml:"topic"`
	// Rate is the per-account call budget, as "5/s" or "100/min".
	Rate Rate `yaml:"rate"`
}

// Pagination is the seed's paging metadata. A source without it pages
// at the largest page its vendor serves (PageSize 0).
type Pagination struct {
	PageSize  Count `yaml:"pageSize"`
	PageStart Count `yaml:"pageStart"`
}

// Count is a whole number written as a number or, as the seeds often do,
// as a string: 1000 or "1000".
type Count int

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	v, err := strconv.Atoi(strings.TrimSpace(n.Value))
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d: %q is not a whole number", n.Line, n.Value)
	}
	*c = Count(v)
	return nil
}

// RequestField is one parameter of a vendor call, as the seed writes it.
// Value is a literal, a template ({{LAST_SYNC_TIME|datetime}}), a
// `_function <expression>`, or in target blocks a `_mongoQuery` lookup;
// an object field has Children instead.
type RequestField struct {
	Field    string `yaml:"field"`
	Label    string `yaml:"label"`
	Describe string `yaml:"describe"`
	Type     string `yaml:"type"`
	Value    any    `yaml:"value"`
	// DollarValue is the seed's "$value$", read as Value.
	DollarValue any            `yaml:"$value$"`
	Parser      Parser         `yaml:"parser"`
	Children    []RequestField `yaml:"children"`

	tmpl   *Template
	fn     *Expr
	lookup *Lookup
}

// Parser post-processes a value; the seed writes it as a name or as
// {"name": …, "params": …}. StringToArray splits text at params (",").
type Parser struct {
	Name   string `yaml:"name"`
	Params string `yaml:"params"`
}

// UnmarshalYAML accepts both forms.
func (p *Parser) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Name = n.Value
		return nil
	}
	type plain Parser
	return n.Decode((*plain)(p))
}

// compile prepares the field's value; record allows references to the
// fields of the record a target writes.
func (r *RequestField) compile(path string, record bool, zone *time.Location) error {
	if r.Field == "" {
		return bad(path+".field", "missing")
	}
	switch r.Parser.Name {
	case "", "StringToArray":
	default:
		return bad(path+".parser", "unknown parser %q (known: StringToArray)", r.Parser.Name)
	}
	for i := range r.Children {
		if err := r.Children[i].compile(fmt.Sprintf("%s.children[%d]", path, i), record, zone); err != nil {
			return err
		}
	}
	s, ok := r.Value.(string)
	if !ok {
		return nil
	}
	var err error
	switch {
	case strings.HasPrefix(s, "_function "):
		r.fn, err = ParseExpr(strings.TrimPrefix(s, "_function "), record, zone)
	case strings.HasPrefix(s, "_mongoQuery "):
		if !record {
			return bad(path+".value", "a lookup only works in a target block")
		}
		r.lookup, err = parseLookup(s)
	case strings.Contains(s, "{"):
		r.tmpl, err = parseTemplate(s, record)
	}
	if err != nil {
		return bad(path+".value", "%v", err)
	}
	return nil
}

// usesWindow reports whether the field refers to the window's bounds.
func (r *RequestField) usesWindow() bool {
	if r.tmpl != nil {
		for _, n := range r.tmpl.Names() {
			if timeVars[n] {
				return true
			}
		}
	}
	if s, ok := r.Value.(string); ok && r.fn != nil {
		return strings.Contains(s, "LAST_SYNC_TIME") || strings.Contains(s, "CURRENT_TIME")
	}
	for i := range r.Children {
		if r.Children[i].usesWindow() {
			return true
		}
	}
	return false
}

// Window bounds the incremental windows of a producer.
type Window struct {
	// Max is the longest window the vendor accepts.
	Max Duration `yaml:"max"`
	// Lag keeps windows behind the vendor's now, so that records are
	// visible before their window is polled.
	Lag Duration `yaml:"lag"`
	// Overlap starts each window this much before the last checkpoint.
	Overlap Duration `yaml:"overlap"`
}

// Processor says what raw records become: the canonical entity, which
// records to keep, and how fields are computed.
type Processor struct {
	Entity string `yaml:"entity"`
	// Zone is the vendor's zone, for date-time strings without one.
	Zone Zone `yaml:"zone"`
	// Filter is an expression over the raw record; records for which it
	// is false are dropped (and counted), not dead-lettered.
	Filter string `yaml:"filter"`
	// Map computes canonical fields from the raw record, one expression
	// each; unmapped fields take the raw field of the same name.
	Map map[string]string `yaml:"map"`
	// Compatibility is the schema registry compatibility level of the
	// canonical topic's subject; default BACKWARD.
	Compatibility string `yaml:"compatibility"`

	filter *vm.Program
	fields map[string]*vm.Program
}

// Target is where canonical records land: a MySQL table (kind mysql), a
// target API (kind: its vendor), or only the canonical topic (kind topic).
type Target struct {
	Kind    string `yaml:"kind"`
	Table   string `yaml:"table"`
	Mode    string `yaml:"mode"`
	Zone    Zone   `yaml:"zone"`
	Limit   Count  `yaml:"limit"`
	MainSQL string `yaml:"main_sql"`
	// MainParams is the seed's column list with a value for each column
	// ({"field": "main_params", "children": [...]}, or the children
	// alone). The MySQL sink writes each column from the canonical field
	// of its name, so each value must be that field ({shop_id} or
	// :shop_id); anything else is refused at load.
	MainParams MainParams `yaml:"main_params"`
	// API, Method, Effect, IDCheck and Request are an API target's call,
	// as the seed writes it.
	API     string         `yaml:"api"`
	Method  string         `yaml:"method"`
	Effect  string         `yaml:"effect"`
	IDCheck bool           `yaml:"idCheck"`
	Request []RequestField `yaml:"request"`
	// Rate is the target account's call budget.
	Rate Rate `yaml:"rate"`
	// GiveUp is how long a record the target cannot take yet is retried
	// before it is dead-lettered; default 24h.
	GiveUp Duration `yaml:"giveUp"`
	// Deletes says what ferry reconcile --repair does with records the
	// source no longer returns: "report" them only (the default), or
	// publish a "tombstone" to the canonical topic, which the MySQL sink
	// turns into a DELETE.
	Deletes string `yaml:"deletes"`

	// Columns are the columns main_sql names, in order.
	Columns []string `yaml:"-"`
}

// Vendor reports whether the target is a target API's (kind: its vendor).
func (t Target) Vendor() bool { return t.Kind != "mysql" && t.Kind != "topic" }

// CanonicalTopic is the topic of the flow's canonical records.
func (f *Flow) CanonicalTopic() string { return "canonical." + f.Processor.Entity + ".v1" }

// DeadLetterTopic is the topic of records the processor could not map.
func (f *Flow) DeadLetterTopic() string { return "dlq." + f.Name }

// DedupeTopic is the compacted changelog of the processor's dedupe state.
func (f *Flow) DedupeTopic() string { return "ferry.dedupe." + f.Name }

// Load reads and validates one flow file.
func Load(path string) (*Flow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("flow: %w", err)
	}
	return Parse(path, data)
}

// Shipped returns the flow files that ship with ferry, sorted by name.
func Shipped() ([]*Flow, error) {
	names, err := fs.Glob(shipped, "*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*Flow
	for _, n := range names {
		data, err := shipped.ReadFile(n)
		if err != nil {
			return nil, err
		}
		f, err := Parse(filepath.Join("flows", n), data)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Named returns the shipped flow of that name.
func Named(name string) (*Flow, error) {
	all, err := Shipped()
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if f.Name == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("flow: no shipped flow %q", name)
}

// LoadDir reads every *.yaml flow file in dir.
func LoadDir(dir string) ([]*Flow, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []*Flow
	for _, p := range paths {
		f, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Parse decodes and validates a flow file's content; path names it in
// errors.
func Parse(path string, data []byte) (*Flow, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, yamlError(err))
	}
	var f Flow
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, yamlError(err))
	}
	f.Path, f.root = path, &root
	if err := f.validate(); err != nil {
		var ve *fieldError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%s:%d: %s: %s", path, lineOf(&root, ve.path), ve.path, ve.cause)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range f.Notes {
		f.Notes[i].Line = lineOf(&root, f.Notes[i].Path)
	}
	return &f, nil
}

// yamlError turns yaml.v3's "yaml: line 3: …" into "line 3: …".
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

type fieldError struct{ path, cause string }

func (e *fieldError) Error() string { return e.path + ": " + e.cause }

func bad(path, format string, args ...any) error {
	return &fieldError{path: path, cause: fmt.Sprintf(format, args...)}
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// identRE is a MySQL table or column name ferry accepts from a flow
	// file: letters, digits and underscores, at most 64 (sinks still
	// quote every identifier they write).
	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	// mainSQLRE takes the verb, the table and the column list of an
	// INSERT or REPLACE.
	mainSQLRE = regexp.MustCompile(`(?is)^\s*(REPLACE|INSERT)\s+INTO\s+` + "`?" + `([A-Za-z0-9_]+)` + "`?" + `\s*\(([^)]*)\)`)
	// valuesRE takes the list of a VALUES clause.
	valuesRE = regexp.MustCompile(`(?is)^VALUES\s*\((.*)\)$`)
)

// Vendors are the connectors a ferry binary has, from its vendor table:
// the vendors flows may poll (source.vendor) and the API targets they may
// write to (target.kind), with the start of each source vendor's API names
// ("shop."), by which ferry flow import tells a seed scheme's vendor.
type Vendors struct {
	Sources, Targets []string
	APIPrefixes      map[string]string // API name prefix → vendor
}

// Of tells a source API's vendor by the form of its name (the longest
// prefix that matches), or "" when the form is not one of the vendors'.
func (v Vendors) Of(api string) string {
	best, vendor := "", ""
	for prefix, name := range v.APIPrefixes {
		if strings.HasPrefix(api, prefix) && len(prefix) > len(best) {
			best, vendor = prefix, name
		}
	}
	return vendor
}

// CheckVendors refuses a flow whose source vendor or API target has no
// connector in v, with the file, the line and the connectors there are.
func (f *Flow) CheckVendors(v Vendors) error {
	if !slices.Contains(v.Sources, f.Source.Vendor) {
		return f.refuse("source.vendor", "unknown vendor %q (known: %s)", f.Source.Vendor, strings.Join(v.Sources, ", "))
	}
	if k := f.Target.Kind; f.Target.Vendor() && !slices.Contains(v.Targets, k) {
		return f.refuse("target.kind", "unknown target %q (known: %s)", k, strings.Join(append([]string{"mysql", "topic"}, v.Targets...), ", "))
	}
	return nil
}

// refuse is an error at path in the flow's file, with its line.
func (f *Flow) refuse(path, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", f.Path, lineOf(f.root, path), path, fmt.Sprintf(format, args...))
}

func (f *Flow) validate() error {
	if !nameRE.MatchString(f.Name) {
		return bad("name", "%q must be lowercase letters, digits and _", f.Name)
	}
	if t := f.Topics; t.Partitions < 0 || t.ReplicationFactor < 0 || t.MinInsyncReplicas < 0 {
		return bad("topics", "partitions, replicationFactor and minInsyncReplicas must not be negative")
	}
	if err := CheckCleanupPolicy(f.Topics.CanonicalCleanupPolicy); err != nil {
		return bad("topics.canonicalCleanupPolicy", "%v", err)
	}
	s := &f.Source
	if s.Vendor == "" {
		return bad("source.vendor", "missing")
	}
	if !nameRE.MatchString(s.Vendor) {
		return bad("source.vendor", "%q is not a vendor name", s.Vendor)
	}
	if s.API == "" {
		return bad("source.api", "missing")
	}
	if s.ID == "" {
		return bad("source.id", "missing: the field that identifies a record")
	}
	if s.Pagination.PageSize < 0 {
		return bad("source.pagination.pageSize", "must be positive")
	}
	if s.Pagination.PageSize == 0 {
		f.note("source.pagination", false, "no page size: ferry asks for the largest page %s serves", s.Vendor)
	}
	if s.Pagination.PageStart != 0 && s.Pagination.PageStart != 1 {
		return bad("source.pagination.pageStart", "must be 0 or 1")
	}
	if err := f.params(); err != nil {
		return err
	}
	f.seedKeys()
	if f.Processor.Zone.Location == nil {
		f.note("processor", false, "no zone: vendor times are read in %s (zone: UTC for UTC)", DefaultZone)
	}
	zone := f.Processor.Zone.Loc()
	windowed := s.Window.Max.D() > 0
	for i := range s.Request {
		r := &s.Request[i]
		path := fmt.Sprintf("source.request[%d]", i)
		if err := f.dollarValue(path, r); err != nil {
			return err
		}
		if err := r.compile(path, false, zone); err != nil {
			return err
		}
		if r.usesWindow() && !windowed {
			return bad(path+".value", "refers to the window, but the flow has no source.window (a full scan)")
		}
	}
	if s.Window.Max.D() < 0 || s.Window.Lag.D() < 0 || s.Window.Overlap.D() < 0 {
		return bad("source.window", "max, lag and overlap must not be negative")
	}
	if !topicRE.MatchString(s.Topic) {
		return bad("source.topic", "%q is not a Kafka topic name", s.Topic)
	}
	if s.Rate.Limit <= 0 {
		return bad("source.rate", "missing: the vendor's call budget, as 5/s or 100/min")
	}
	if f.Processor.Entity == "" {
		return bad("processor.entity", "missing: the canonical schema records become")
	}
	if c := f.Processor.Compatibility; c != "" && !slices.Contains(CompatibilityLevels, c) {
		return bad("processor.compatibility", "%q: want one of %s", c, strings.Join(CompatibilityLevels, ", "))
	}
	if err := f.Processor.compile(); err != nil {
		return err
	}
	t := &f.Target
	switch t.Deletes {
	case "":
		t.Deletes = "report"
	case "report", "tombstone":
	default:
		return bad("target.deletes", "%q: want report or tombstone", t.Deletes)
	}
	if t.Zone.Location == nil && t.Kind != "topic" && t.Kind != "" {
		f.note("target", false, "no zone: times are written in %s (zone: UTC for UTC)", DefaultZone)
	}
	switch t.Kind {
	case "mysql":
		return f.validateMySQL()
	case "topic":
	case "":
		return bad("target.kind", "missing")
	default: // a target API, whose connector the vendor table has
		if !nameRE.MatchString(t.Kind) {
			return bad("target.kind", "%q: want mysql, topic or a target API's vendor", t.Kind)
		}
		if t.API == "" {
			return bad("target.api", "missing")
		}
		for i := range t.Request {
			path := fmt.Sprintf("target.request[%d]", i)
			if err := f.dollarValue(path, &t.Request[i]); err != nil {
				return err
			}
			if err := t.Request[i].compile(path, true, t.Zone.Loc()); err != nil {
				return err
			}
		}
		if t.Rate.Limit <= 0 {
			return bad("target.rate", "missing: the target's call budget, as 10/s")
		}
		if t.GiveUp.D() == 0 {
			t.GiveUp = Duration(24 * time.Hour)
		}
	}
	return nil
}

// validateMySQL reads main_sql: the table, the columns (each a field of
// the canonical schema), the write mode its verb says unless mode is
// given, and a VALUES list or main_params the sink can honour.
func (f *Flow) validateMySQL() error {
	t := &f.Target
	m := mainSQLRE.FindStringSubmatch(t.MainSQL)
	if m == nil {
		return bad("target.main_sql", "want INSERT or REPLACE INTO table (columns …)")
	}
	verb, table := strings.ToUpper(m[1]), m[2]
	if t.Table != "" && !identRE.MatchString(t.Table) {
		return bad("target.table", "%q is not a table name: letters, digits and _, at most 64", t.Table)
	}
	if t.Table == "" {
		t.Table = table
	} else if !strings.EqualFold(t.Table, table) {
		return bad("target.main_sql", "writes to %s, but target.table is %s", table, t.Table)
	}
	for _, c := range strings.Split(m[3], ",") {
		c = strings.Trim(strings.TrimSpace(c), "`")
		if c == "" {
			return bad("target.main_sql", "empty column in the column list")
		}
		if !identRE.MatchString(c) {
			return bad("target.main_sql", "%q is not a column name: letters, digits and _, at most 64", c)
		}
		t.Columns = append(t.Columns, c)
	}
	if err := t.values(strings.TrimSpace(t.MainSQL[len(m[0]):])); err != nil {
		return err
	}
	if err := f.mainParams(); err != nil {
		return err
	}
	if s, err := schemas.Load(f.Processor.Entity); err != nil {
		return bad("processor.entity", "%v", err)
	} else if err := s.CheckColumns(t.Columns); err != nil {
		return bad("target.main_sql", "%v", err)
	}
	switch t.Mode {
	case "":
		t.Mode = "upsert"
		if verb == "REPLACE" {
			t.Mode = "replace"
			f.note("target.main_sql", false, "REPLACE INTO: mode replace, as written (deletes and re-inserts a row on any unique key; mode: upsert for version-guarded upserts)")
		} else {
			f.note("target.main_sql", false, "INSERT INTO: mode upsert (a row is replaced only by a record whose version is not older)")
		}
	case "upsert", "replace":
		if (verb == "REPLACE") != (t.Mode == "replace") {
			f.note("target.mode", false, "mode %s, as set, instead of main_sql's %s INTO", t.Mode, verb)
		}
	default:
		return bad("target.mode", "%q: want upsert or replace", t.Mode)
	}
	if t.Limit == 0 {
		t.Limit = 1000
	}
	if t.Limit < 0 {
		return bad("target.limit", "must be positive")
	}
	return nil
}

// values checks main_sql's VALUES list, if it has one: the sink writes
// each column from the canonical field of its name, so each value must be
// a placeholder, one for every column: ? or :column.
func (t *Target) values(rest string) error {
	rest = strings.TrimSuffix(strings.TrimSpace(rest), ";")
	if rest == "" {
		return nil
	}
	m := valuesRE.FindStringSubmatch(rest)
	if m == nil {
		return bad("target.main_sql", "after the column list: want VALUES (…) or nothing, not %q", rest)
	}
	vals := strings.Split(m[1], ",")
	if len(vals) != len(t.Columns) {
		return bad("target.main_sql", "VALUES has %d values for %d columns", len(vals), len(t.Columns))
	}
	for i, v := range vals {
		v = strings.TrimSpace(v)
		if v != "?" && v != ":"+t.Columns[i] {
			return bad("target.main_sql", "VALUES writes %s into column %s: the sink writes each column from the canonical field of its name (? or :%s); compute it in processor.map", v, t.Columns[i], t.Columns[i])
		}
	}
	return nil
}

// mainParams checks the seed's main_params, taken from the target or from
// a target.request entry of that name: each of its fields is a column,
// written from the canonical field of its name.
func (f *Flow) mainParams() error {
	t := &f.Target
	path := "target.main_params"
	for i, r := range t.Request {
		if r.Field == "main_params" {
			if len(t.MainParams) > 0 {
				return bad(fmt.Sprintf("target.request[%d]", i), "main_params given twice")
			}
			t.MainParams, path = r.Children, fmt.Sprintf("target.request[%d]", i)
			t.Request = slices.Delete(t.Request, i, i+1)
			break
		}
	}
	for i, r := range t.MainParams {
		p := fmt.Sprintf("%s.children[%d]", path, i)
		if !slices.Contains(t.Columns, r.Field) {
			return bad(p, "column %s is not in main_sql's column list", r.Field)
		}
		if v := strings.TrimSpace(fmt.Sprint(r.Value)); v != "{"+r.Field+"}" && v != ":"+r.Field {
			return bad(p+".value", "%s is written from the canonical field %s ({%s}), not %v; compute it in processor.map", r.Field, r.Field, r.Field, r.Value)
		}
	}
	return nil
}

// params appends the seed's params (field: value) to the request.
func (f *Flow) params() error {
	n := &f.Source.Params
	if n.Kind == 0 {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return bad("source.params", "want field: value pairs")
	}
	var names []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := "source.params." + k.Value
		if v.Kind != yaml.ScalarNode {
			return bad(path, "want a value, not a list or an object")
		}
		if slices.ContainsFunc(f.Source.Request, func(r RequestField) bool { return r.Field == k.Value }) {
			return bad(path, "%s is also in source.request", k.Value)
		}
		r := RequestField{Field: k.Value}
		if err := v.Decode(&r.Value); err != nil {
			return bad(path, "%v", err)
		}
		f.Source.Request = append(f.Source.Request, r)
		names = append(names, k.Value)
	}
	f.note("source.params", false, "read as request fields (%s); their values are sent as written", strings.Join(names, ", "))
	return nil
}

// dollarValue reads the seed's "$value$" as the field's value.
func (f *Flow) dollarValue(path string, r *RequestField) error {
	for i := range r.Children {
		if err := f.dollarValue(fmt.Sprintf("%s.children[%d]", path, i), &r.Children[i]); err != nil {
			return err
		}
	}
	if r.DollarValue == nil {
		return nil
	}
	if r.Value != nil {
		return bad(path+".$value$", "the field has a value too")
	}
	r.Value, r.DollarValue = r.DollarValue, nil
	f.note(path+".$value$", false, "read as the field's value")
	return nil
}

// seedKeys notes the seed keys the flow sets that ferry does not act on.
func (f *Flow) seedKeys() {
	s, t := &f.Source, &f.Target
	for _, k := range []struct {
		path string
		set  bool
		why  string
	}{
		{"source.effect", s.Effect != "", "ferry's sources only read"},
		{"source.idCheck", s.IDCheck, "ferry always dedupes records by source.id"},
		{"source.number", s.Number != "", "records are keyed by source.id"},
		{"source.name", s.NameField != "", "records are keyed by source.id"},
		{"target.effect", t.Effect != "", "the target kind says what a sink does"},
		{"target.api", t.Kind == "topic" && t.API != "", "kind topic writes only the canonical topic"},
		{"target.idCheck", t.IDCheck, "sinks write idempotently by the canonical key"},
		{"source.request[].label, describe", documented(s.Request), "documentation only"},
		{"target.request[].label, describe", documented(t.Request) || documented(t.MainParams), "documentation only"},
	} {
		if k.set {
			f.note(k.path, true, "seed key read, not acted on: %s", k.why)
		}
	}
}

func documented(rs []RequestField) bool {
	return slices.ContainsFunc(rs, func(r RequestField) bool {
		return r.Label != "" || r.Describe != "" || documented(r.Children)
	})
}

// lineOf finds the line of a dotted path ("source.request[1].value") in
// the document, or of its nearest existing parent.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		next := child(n, name)
		if next == nil {
			return line
		}
		line = next.Line
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func child(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if n.Content[i+1].Kind == yaml.ScalarNode {
				return n.Content[i] // the key's line is where the value starts
			}
			return n.Content[i+1]
		}
	}
	return nil
}

// MainParams are the columns of a seed's main_params block.
type MainParams []RequestField

// UnmarshalYAML accepts the seed's object ({"field": "main_params",
// "children": [...]}) and a plain list of fields.
func (m *MainParams) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		return n.Decode((*[]RequestField)(m))
	}
	var r RequestField
	if err := n.Decode(&r); err != nil {
		return err
	}
	if r.Field != "" && r.Field != "main_params" {
		return fmt.Errorf("line %d: main_params names field %q", n.Line, r.Field)
	}
	*m = r.Children
	return nil
}

// Duration is a time.Duration written as "90s", "2m", "720h".
type Duration time.Duration

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 90s or 720h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Zone is a time zone name such as Asia/Shanghai.
type Zone struct{ *time.Location }

// UnmarshalYAML implements yaml.Unmarshaler.
func (z *Zone) UnmarshalYAML(n *yaml.Node) error {
	loc, err := LoadZone(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	z.Location = loc
	return nil
}

// DefaultZone is the zone of a flow that names none: every vendor here is
// a Chinese SaaS, and so was the seed platform.
var DefaultZone, _ = LoadZone("Asia/Shanghai")

// Loc returns the zone, DefaultZone when unset.
func (z Zone) Loc() *time.Location {
	if z.Location == nil {
		return DefaultZone
	}
	return z.Location
}

// LoadZone loads a zone by name; Asia/Shanghai works without tzdata.
func LoadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	if name == "Asia/Shanghai" {
		return time.FixedZone("Asia/Shanghai", 8*3600), nil
	}
	return nil, fmt.Errorf("unknown time zone %q", name)
}

// Rate is a call budget such as "5/s" or "100/min".
type Rate struct {
	Limit rate.Limit
	Text  string
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseRate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*r = v
	return nil
}

// ParseRate reads "N/s", "N/min" or "N/h".
func ParseRate(s string) (Rate, error) {
	num, unit, ok := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("%q is not a rate such as 5/s or 100/min", s)
	}
	per := map[string]time.Duration{"s": time.Second, "min": time.Minute, "h": time.Hour}[unit]
	if per == 0 {
		return Rate{}, fmt.Errorf("%q: unit must be s, min or h", s)
	}
	return Rate{Limit: rate.Limit(n / per.Seconds()), Text: s}, nil
}
