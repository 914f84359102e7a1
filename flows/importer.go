package flows

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ferry-data/ferry/schemas"
)

// Imported is a seed scheme turned into a flow file.
type Imported struct {
	// Name is the flow's name.
	Name string
	// YAML is the flow file.
	YAML []byte
	// Changes are what the importer added, set aside or filled in, and
	// why; their lines are the flow file's.
	Changes []Note
	// Flow is the flow file as the loader reads it, with the loader's
	// notes; nil when the loader refuses it, and Err says why.
	Flow *Flow
	Err  error
}

// Import turns a seed-platform scheme into a flow file. The scheme is a
// JSON or YAML file holding the seed's metadata blocks as the seed
// documents show them:
//
//	{"name": "…", "title": "…", "source": {…}, "target": {…}}
//
// name and title are optional; the name defaults to the file's. Every key
// the seed wrote is kept as written. What a flow needs beyond the seed's
// metadata (the vendor, ferry's window, topic and call budget, the
// processor, the target kind, the write mode, the zones) comes from the
// shipped flow of the same API, its template, or else from the vendor's
// shipped flows. Where the seed's blocks hold a request example's values
// or an elided list such as main_sql's (...), the importer sets them
// aside or fills them in. Each of these is a Change, with its reason.
// outPath names the flow file in notes and errors; v are the binary's
// connectors, by which the importer tells the vendor of an API.
func Import(path, outPath string, data []byte, v Vendors) (*Imported, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, yamlError(err))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: want an object with the scheme's source and target blocks", path)
	}
	in := doc.Content[0]
	plain(in)
	for i := 0; i+1 < len(in.Content); i += 2 {
		switch k := in.Content[i]; k.Value {
		case "name", "title", "source", "processor", "target":
		default:
			return nil, fmt.Errorf("%s:%d: %s: unknown block (want source, target and optionally name, title, processor)", path, k.Line, k.Value)
		}
	}
	src := get(in, "source")
	if src == nil || src.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: no source block", path)
	}
	im := &importer{path: path, vendors: v, src: src}
	if err := im.load(); err != nil {
		return nil, err
	}
	if err := im.source(); err != nil {
		return nil, err
	}
	proc := get(in, "processor")
	if proc == nil {
		proc = im.processor()
	}
	tgt := get(in, "target")
	if tgt == nil {
		tgt = &yaml.Node{Kind: yaml.MappingNode}
	}
	if tgt.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: target: want an object", path, tgt.Line)
	}
	if err := im.target(tgt, proc); err != nil {
		return nil, err
	}

	name := scalarOf(get(in, "name"))
	if name == "" {
		name = nameFromFile(path)
		im.change("name", "%s, from the file's name", name)
	}
	out := &yaml.Node{Kind: yaml.MappingNode, HeadComment: fmt.Sprintf(
		"Imported by ferry flow import from %s. The seed's keys are kept as written;\nwhat ferry added or changed says why in a comment, and ferry flow import\nprinted it.", filepath.Base(path))}
	set(out, "name", str(name))
	if t := get(in, "title"); t != nil {
		set(out, "title", t)
	}
	set(out, "source", src)
	pk := str("processor")
	if get(in, "processor") == nil {
		pk.HeadComment = im.procWhy
	}
	setKey(out, pk, proc)
	set(out, "target", tgt)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res := &Imported{Name: name, YAML: buf.Bytes(), Changes: im.changes}
	var root yaml.Node
	if err := yaml.Unmarshal(res.YAML, &root); err == nil {
		for i := range res.Changes {
			res.Changes[i].Line = lineOf(&root, res.Changes[i].Path)
		}
	}
	res.Flow, res.Err = Parse(outPath, res.YAML)
	return res, nil
}

// importer carries one import: the source block, its templates and the
// changes made so far.
type importer struct {
	path    string
	vendors Vendors
	src     *yaml.Node
	api     string
	vendor  string
	tmpl    *template // shipped flow of the same API
	like    *template // a shipped flow of the same vendor
	changes []Note
	procWhy string // the processor block's comment
}

// template is a shipped flow and its file's nodes, whose comments come
// along when a setting is copied.
type template struct {
	flow              *Flow
	src, proc, target *yaml.Node
}

func (im *importer) change(path, format string, args ...any) {
	im.changes = append(im.changes, Note{Path: path, Text: fmt.Sprintf(format, args...)})
}

// load finds the source's API, its vendor and its templates.
func (im *importer) load() error {
	im.api = scalarOf(get(im.src, "api"))
	if im.api == "" {
		return fmt.Errorf("%s: source.api: missing", im.path)
	}
	ts, err := templates()
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.flow.Source.API == im.api && im.tmpl == nil {
			im.tmpl = t
		}
	}
	im.vendor = scalarOf(get(im.src, "vendor"))
	switch {
	case im.vendor != "":
	case im.vendors.Of(im.api) != "":
		im.vendor = im.vendors.Of(im.api)
		im.change("source.vendor", "%s, from the form of the api's name", im.vendor)
	case im.tmpl != nil:
		im.vendor = im.tmpl.flow.Source.Vendor
		im.change("source.vendor", "%s, as the shipped flow %s of the same api", im.vendor, im.tmpl.flow.Name)
	default:
		return fmt.Errorf("%s: source.api %q: ferry cannot tell its vendor (known: %s); set source.vendor", im.path, im.api, strings.Join(im.vendors.Sources, ", "))
	}
	for _, t := range ts {
		if t.flow.Source.Vendor == im.vendor && im.like == nil {
			im.like = t
		}
	}
	if im.tmpl == nil && im.like == nil {
		return fmt.Errorf("%s: source.vendor %q: ferry has no flow of that vendor to start from", im.path, im.vendor)
	}
	return nil
}

// source adds the vendor, the record key, the paging and ferry's settings
// to the source block, and sets a request example's values aside.
func (im *importer) source() error {
	src := im.src
	if get(src, "vendor") == nil {
		prepend(src, "vendor", str(im.vendor), "ferry: the vendor, from the api")
	}
	if get(src, "id") == nil && im.tmpl != nil {
		set(src, "id", str(im.tmpl.flow.Source.ID))
		im.change("source.id", "%s, the record key of the shipped flow %s of the same api (the seed names none)", im.tmpl.flow.Source.ID, im.tmpl.flow.Name)
		comment(src, "id", "ferry: the record key, as the shipped flow of this api")
	}
	im.setAside()
	if get(src, "pagination") == nil {
		im.paging()
	}
	from := im.tmpl
	why := "the shipped flow %s of the same api"
	if from == nil {
		from, why = im.like, "the shipped flow %s of the same vendor (none has this api)"
	}
	why = fmt.Sprintf(why, from.flow.Name)
	for _, k := range []struct{ key, what string }{
		{"window", "windows"},
		{"topic", "raw topic"},
		{"rate", "call budget"},
	} {
		if get(src, k.key) != nil {
			continue
		}
		v := get(from.src, k.key)
		if v == nil {
			continue // a full scan: no window
		}
		if k.key == "topic" && from != im.tmpl {
			v = str("raw." + im.vendor + "." + im.slug())
		}
		setKey(src, explained(keyOf(from.src, k.key), "ferry: from "+why), v)
		im.change("source."+k.key, "ferry's %s, from %s", k.what, why)
	}
	return nil
}

// exampleTime is a literal date-time: a request example's, not a window.
var exampleTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?`)

// setAside takes out of the request the values that belong to an example
// call rather than to the scheme: fixed times in a flow polled by window,
// and fixed record keys. They stay in the file as a comment.
func (im *importer) setAside() {
	windowed := get(im.src, "window") != nil || (im.tmpl != nil && im.tmpl.flow.Source.Window.Max.D() > 0)
	keys := map[string]bool{}
	for _, k := range []string{"id", "number"} {
		if v := scalarOf(get(im.src, k)); v != "" {
			keys[v] = true
		}
	}
	example := func(field, value string) string {
		switch {
		case value == "" || strings.HasPrefix(value, "_") || strings.Contains(value, "{"):
			return ""
		case windowed && exampleTime.MatchString(value):
			return "a fixed time: ferry polls by window"
		case keys[field]:
			return "fixed record keys would fetch only those records"
		}
		return ""
	}
	var aside []string
	note := func(block, field, value, why string) {
		aside = append(aside, fmt.Sprintf("%s: %q (%s)", field, value, why))
		im.change("source."+block, "set aside %s: %q, an example's value: %s", field, value, why)
	}
	if p := get(im.src, "params"); p != nil && p.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(p.Content); {
			k, v := p.Content[i], p.Content[i+1]
			if why := example(k.Value, scalarOf(v)); why != "" {
				note("params", k.Value, v.Value, why)
				p.Content = slices.Delete(p.Content, i, i+2)
				continue
			}
			i += 2
		}
		if len(aside) > 0 {
			comment(im.src, "params", "ferry: set aside, a request example's values:\n  "+strings.Join(aside, "\n  "))
		}
	}
	aside = nil
	if r := get(im.src, "request"); r != nil && r.Kind == yaml.SequenceNode {
		for i := 0; i < len(r.Content); {
			e := r.Content[i]
			field, value := scalarOf(get(e, "field")), fieldValue(e)
			if why := example(field, value); why != "" {
				note("request", field, value, why)
				r.Content = slices.Delete(r.Content, i, i+1)
				continue
			}
			i++
		}
		if len(aside) > 0 {
			comment(im.src, "request", "ferry: set aside, a request example's values:\n  "+strings.Join(aside, "\n  "))
		}
	}
}

// Paging field names the seed platform's schemes use.
var (
	pageSizeFields  = []string{"page_size", "pageSize"}
	pageStartFields = []string{"page_index", "pageIndex", "page_no", "pageNo", "page"}
)

// paging reads a source's page size and base from the request's paging
// fields, when they hold plain numbers.
func (im *importer) paging() {
	fields := map[string]string{}
	if p := get(im.src, "params"); p != nil && p.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(p.Content); i += 2 {
			fields[p.Content[i].Value] = scalarOf(p.Content[i+1])
		}
	}
	if r := get(im.src, "request"); r != nil && r.Kind == yaml.SequenceNode {
		for _, e := range r.Content {
			fields[scalarOf(get(e, "field"))] = fieldValue(e)
		}
	}
	pg := &yaml.Node{Kind: yaml.MappingNode}
	var from []string
	for _, f := range pageSizeFields {
		if v := fields[f]; isCount(v) && v != "0" {
			set(pg, "pageSize", num(v))
			from = append(from, f+" "+v)
			break
		}
	}
	for _, f := range pageStartFields {
		if v := fields[f]; v == "0" || v == "1" {
			set(pg, "pageStart", num(v))
			from = append(from, f+" "+v)
			break
		}
	}
	if len(pg.Content) == 0 {
		return
	}
	setKey(im.src, str("pagination"), pg)
	comment(im.src, "pagination", "ferry: from the request's paging fields; ferry sets those on every call")
	im.change("source.pagination", "from the request's paging fields (%s); ferry sets the paging fields itself on every call", strings.Join(from, ", "))
}

// processor is the template's processor, or a pass-through of the
// vendor's records.
func (im *importer) processor() *yaml.Node {
	if im.tmpl != nil {
		im.procWhy = "ferry: the mapping of the shipped flow " + im.tmpl.flow.Name + " (the seed's transformation is prose)"
		im.change("processor", "ferry's mapping of %s to canonical %s, from the shipped flow %s (the seed's transformation is prose, not metadata)",
			im.api, im.tmpl.flow.Processor.Entity, im.tmpl.flow.Name)
		return im.tmpl.proc
	}
	im.procWhy = "ferry: no mapping of this api yet; records pass field by field"
	entity := im.slug()
	p := &yaml.Node{Kind: yaml.MappingNode}
	set(p, "entity", str(entity))
	set(p, "zone", str(DefaultZone.String()))
	im.change("processor", "ferry has no mapping of %s yet: records become %s field by field; write schemas/%s.avsc and processor.map from the seed's transformation", im.api, entity, entity)
	return p
}

// noWrite are the seed platform's target APIs that write nothing: the
// platform itself takes the records.
var noWrite = []string{"写入空操作", "空操作"}

// target decides the target's kind and adds ferry's settings for it.
func (im *importer) target(t, proc *yaml.Node) error {
	api := scalarOf(get(t, "api"))
	kind := scalarOf(get(t, "kind"))
	ts, err := templates()
	if err != nil {
		return err
	}
	var from *template
	if im.tmpl != nil && (kind == "" || kind == im.tmpl.flow.Target.Kind) {
		from = im.tmpl
	}
	if kind == "" {
		_, inRequest := findField(get(t, "request"), "main_params")
		switch {
		case get(t, "main_sql") != nil || get(t, "main_params") != nil || inRequest:
			kind = "mysql"
			im.change("target.kind", "mysql: the seed writes with main_sql")
		case api == "" || slices.Contains(noWrite, api):
			kind = "topic"
			im.change("target.kind", "topic: the seed's target writes nothing (%s); its consumers read the canonical topic", orElse(api, "no api"))
		default:
			for _, x := range ts {
				if x.flow.Target.API == api && api != "" {
					kind = x.flow.Target.Kind
					if from == nil || from.flow.Target.Kind != kind {
						from = x
					}
					break
				}
			}
			if kind == "" {
				var apis []string
				for _, x := range ts {
					if x.flow.Target.API != "" && !slices.Contains(apis, x.flow.Target.API) {
						apis = append(apis, x.flow.Target.Kind+" "+x.flow.Target.API)
					}
				}
				return fmt.Errorf("%s:%d: target.api %q: ferry has no writer for it (targets: MySQL by main_sql, the canonical topic, or %s)", im.path, get(t, "api").Line, api, strings.Join(apis, ", "))
			}
			im.change("target.kind", "%s: the target api %s", kind, api)
		}
		prepend(t, "kind", str(kind), "ferry: the target kind")
	}
	if from != nil && from.flow.Target.Kind != kind {
		from = nil
	}
	if kind == "mysql" {
		im.mainSQL(t, proc, from)
	}
	if kind == "topic" {
		return nil
	}
	for _, key := range []string{"mode", "zone", "rate", "giveUp", "deletes"} {
		if get(t, key) != nil {
			continue
		}
		if from != nil {
			if v := get(from.target, key); v != nil {
				why := modeWhy(key, t, from)
				setKey(t, explained(keyOf(from.target, key), "ferry: from the shipped flow "+from.flow.Name+why), v)
				im.change("target."+key, "%s, from the shipped flow %s%s", scalarOf(v), from.flow.Name, why)
			}
			continue
		}
		if key == "zone" {
			set(t, "zone", str(DefaultZone.String()))
			comment(t, "zone", "ferry: the vendors and the seed platform are in China")
			im.change("target.zone", "%s: times are written as Beijing time, as on the seed platform", DefaultZone)
		}
	}
	return nil
}

// modeWhy explains a write mode taken from a template that differs from
// main_sql's verb.
func modeWhy(key string, t *yaml.Node, from *template) string {
	if key != "mode" {
		return ""
	}
	m := mainSQLRE.FindStringSubmatch(scalarOf(get(t, "main_sql")))
	if m == nil || strings.EqualFold(m[1], "REPLACE") == (from.flow.Target.Mode == "replace") {
		return ""
	}
	return fmt.Sprintf(" instead of main_sql's %s INTO: the records carry a version, and a version-guarded upsert keeps a replayed older record from overwriting a newer row (mode: replace for the statement as written)", strings.ToUpper(m[1]))
}

// elided matches main_sql written with its lists left out, as the seeds
// show it: REPLACE INTO t (...) VALUES (...).
var elided = regexp.MustCompile(`(?is)^\s*(REPLACE|INSERT)\s+INTO\s+` + "`?" + `([A-Za-z0-9_]+)` + "`?" + `\s*\(\s*(?:\.\.\.|…)\s*\)\s*(?:VALUES\s*\(\s*(?:\.\.\.|…)\s*\))?\s*;?\s*$`)

// mainSQL fills in an elided column list, and drops a VALUES list the sink
// cannot honour because it does not match the columns.
func (im *importer) mainSQL(t, proc *yaml.Node, from *template) {
	n := get(t, "main_sql")
	if n == nil {
		return
	}
	sql := scalarOf(n)
	if m := elided.FindStringSubmatch(sql); m != nil {
		verb, table := strings.ToUpper(m[1]), m[2]
		var cols []string
		var whence string
		if from != nil && strings.EqualFold(from.flow.Target.Table, table) {
			cols, whence = from.flow.Target.Columns, "the shipped flow "+from.flow.Name+"'s columns for "+table
		} else if s, err := schemas.Load(scalarOf(get(proc, "entity"))); err == nil {
			for _, f := range s.Fields {
				cols = append(cols, f.Name)
			}
			whence = "every field of the canonical " + s.Name
		}
		if cols == nil {
			im.change("target.main_sql", "the column list is elided and ferry knows no columns for %s: write them", table)
			return
		}
		n.Value = fmt.Sprintf("%s INTO %s (%s)", verb, table, strings.Join(cols, ", "))
		n.Style = yaml.FoldedStyle
		comment(t, "main_sql", fmt.Sprintf("ferry: the seed elides the lists: %s\ncolumns filled in; each is written from the canonical field of its name", oneLine(sql)))
		im.change("target.main_sql", "the seed elides the column list and VALUES (%s): columns filled in from %s; without VALUES, each column is written from the canonical field of its name", oneLine(sql), whence)
		return
	}
	m := mainSQLRE.FindStringSubmatch(sql)
	if m == nil {
		return
	}
	cols := strings.Split(m[3], ",")
	rest := strings.TrimSuffix(strings.TrimSpace(sql[len(m[0]):]), ";")
	if v := valuesRE.FindStringSubmatch(rest); v != nil {
		if vals := strings.Split(v[1], ","); len(vals) != len(cols) {
			n.Value = strings.TrimSpace(sql[:len(m[0])])
			n.Style = yaml.FoldedStyle
			comment(t, "main_sql", fmt.Sprintf("ferry: dropped the VALUES list: %d values for %d columns", len(vals), len(cols)))
			im.change("target.main_sql", "dropped the VALUES list, %d values for %d columns (MySQL would refuse it); each column is written from the canonical field of its name", len(vals), len(cols))
		}
	}
}

// templates are the shipped flows with their files' nodes.
func templates() ([]*template, error) {
	all, err := Shipped()
	if err != nil {
		return nil, err
	}
	var out []*template
	for _, f := range all {
		data, err := fs.ReadFile(shipped, filepath.Base(f.Path))
		if err != nil {
			return nil, err
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
		root := doc.Content[0]
		out = append(out, &template{flow: f, src: get(root, "source"), proc: get(root, "processor"), target: get(root, "target")})
	}
	return out, nil
}

// YAML node helpers.

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func keyOf(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return str(key)
}

func set(m *yaml.Node, key string, v *yaml.Node) { setKey(m, str(key), v) }

func setKey(m *yaml.Node, k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k.Value {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, k, v)
}

// explained is a copy of a key node, with why as its comment unless it
// has one.
func explained(k *yaml.Node, why string) *yaml.Node {
	c := *k
	if c.HeadComment == "" {
		c.HeadComment = why
	}
	return &c
}

func prepend(m *yaml.Node, key string, v *yaml.Node, why string) {
	k := str(key)
	k.HeadComment = why
	m.Content = append([]*yaml.Node{k, v}, m.Content...)
}

func comment(m *yaml.Node, key, text string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Value == key {
			if k.HeadComment != "" {
				text = k.HeadComment + "\n" + text
			}
			k.HeadComment = text
		}
	}
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
func num(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s} }

func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// fieldValue is a request entry's value, written as value or $value$.
func fieldValue(e *yaml.Node) string {
	if v := get(e, "value"); v != nil {
		return scalarOf(v)
	}
	return scalarOf(get(e, "$value$"))
}

func findField(req *yaml.Node, field string) (*yaml.Node, bool) {
	if req == nil || req.Kind != yaml.SequenceNode {
		return nil, false
	}
	for _, e := range req.Content {
		if scalarOf(get(e, "field")) == field {
			return e, true
		}
	}
	return nil, false
}

// plain drops the styles of the input (JSON's braces and quotes), so the
// flow file reads as block YAML; the encoder quotes what needs it.
func plain(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plain(c)
	}
}

func isCount(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes a name of the API: shop.trade.query → trade_query,
// /open/shops/query → shops_query.
func (im *importer) slug() string {
	s := strings.ToLower(im.api)
	for prefix := range im.vendors.APIPrefixes {
		s = strings.TrimPrefix(s, strings.ToLower(prefix))
	}
	s = strings.TrimPrefix(s, "v2/")
	return strings.Trim(nonName.ReplaceAllString(s, "_"), "_")
}

// nameFromFile makes a flow name of a file's: 002_shop-trades.json →
// shop_trades.
func nameFromFile(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	s := strings.Trim(nonName.ReplaceAllString(strings.ToLower(base), "_"), "_")
	s = strings.TrimLeft(s, "0123456789_")
	if s == "" {
		return "imported"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orElse(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
