package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/registry"
	"github.com/ferry-data/ferry/vendors"
	"github.com/go-sql-driver/mysql"
)

// Config is everything a ferry command is told, from flags and the
// environment.
type Config struct {
	Command string
	// Flows names the flows to serve; empty means all.
	Flows []string
	// FlowDir is where flow files are read from; empty means the flows
	// that ship with ferry.
	FlowDir string
	// Brokers are the Kafka bootstrap servers (FERRY_KAFKA_BROKERS); up
	// starts an in-process broker when empty.
	Brokers []string
	// MySQLDSN is the target database (FERRY_MYSQL_DSN); up starts an
	// embedded one when empty.
	MySQLDSN string
	// Since starts the first window of a flow without checkpoint: a time
	// (RFC 3339 or yyyy-MM-dd HH:mm:ss) or a duration back from now.
	Since string
	// MySQLCAFile, when set, is the CA ferry trusts for TLS to the
	// database (FERRY_MYSQL_TLS_CA_FILE).
	MySQLCAFile string
	// Kafka is how ferry reaches the cluster: TLS and SASL
	// (FERRY_KAFKA_TLS*, FERRY_KAFKA_SASL_*).
	Kafka bus.Security
	// PollInterval is the producers' pause between passes once caught up
	// (FERRY_POLL_INTERVAL); 0 means 30s.
	PollInterval time.Duration
	// AnswerLimit is the most bytes of a vendor answer ferry reads
	// (FERRY_VENDOR_ANSWER_LIMIT); 0 means vendors.DefaultMaxAnswer.
	AnswerLimit int
	// Progress, when set, is where up --once keeps a live progress line:
	// the terminal, as main decides.
	Progress io.Writer
	// Once makes up sync everything up to now − lag, print a summary and
	// exit.
	Once bool
	// From and To bound reconcile's range (times or durations back from
	// now); Repair re-polls the windows that differ.
	From, To string
	Repair   bool
	// SandboxListen is the address of each vendor's sandbox.
	SandboxListen map[string]string
	// Seed seeds the sandbox's data.
	Seed int64
	// Accounts are the vendor accounts by vendor name, from the
	// FERRY_<VENDOR>_* variables of the vendor table; up serves a vendor's
	// sandbox when its URL is empty.
	Accounts map[string]vendors.Account
	// Metrics is the address of the /metrics and /healthz endpoint of a
	// role (FERRY_METRICS_ADDR); none when empty.
	Metrics string
	// Import is the seed scheme flow import reads, and ImportOut the flow
	// file it writes (standard output when empty).
	Import, ImportOut string
	// Topics are how ferry creates topics (FERRY_TOPIC_PARTITIONS,
	// FERRY_TOPIC_REPLICATION_FACTOR, FERRY_TOPIC_MIN_INSYNC_REPLICAS); a
	// flow's topics block overrides them.
	Topics bus.Settings
	// SinkParallel is how many partitions a sink writes at once
	// (FERRY_SINK_PARALLEL); default 2.
	SinkParallel int
	// Session is the session timeout of the roles' Kafka groups
	// (FERRY_GROUP_SESSION_TIMEOUT): how long a dead replica holds its
	// partitions or flows; default bus.DefaultSession.
	Session time.Duration
	// Registry is the schema registry (FERRY_SCHEMA_REGISTRY_*); without a
	// URL canonical records use single-object encoding, and up serves an
	// in-process registry.
	Registry registry.Config
	// ExportDir is where ferry schemas export writes.
	ExportDir string
	// RebuildFrom starts a rebuild at records written since (a time or a
	// duration back); empty for the topic's beginning. RebuildKeep keeps
	// the old table; RebuildAbandon drops an interrupted rebuild.
	RebuildFrom                 string
	RebuildKeep, RebuildAbandon bool
	// Tail is what ferry tail prints.
	Tail TailConfig
	// DLQ is what ferry dlq does.
	DLQ DLQConfig
	// TraceKey is the key of the record ferry trace follows; TraceSource
	// asks the vendor for its current version too.
	TraceKey    string
	TraceSource bool
	// TopicsFormat is how ferry topics prints: text, or strimzi for
	// KafkaTopic resources of TopicsCluster.
	TopicsFormat, TopicsCluster string
	// Timeout bounds up --once; default 10m.
	Timeout  time.Duration
	LogLevel slog.Level
}

// TailConfig is what ferry tail prints: a topic's records from its
// beginning, or the last Limit of each partition; with Follow, new ones as
// they come; with Key, only those of that key.
type TailConfig struct {
	Topic         string
	FromBeginning bool
	Follow        bool
	Key           string
	// Limit is the most records printed; 0 for no limit.
	Limit int
}

// DLQConfig is what ferry dlq does: list, show or replay a flow's dead
// letters, those whose reason contains Reason, written since Since, of
// key Key.
type DLQConfig struct {
	Action             string
	Reason, Since, Key string
}

// accountEnv binds each account setting of the vendor table, and of the
// schema registry, to its environment variable.
func (c *Config) accountEnv() []struct {
	name string
	set  func(string)
} {
	type binding = struct {
		name string
		set  func(string)
	}
	var out []binding
	for _, v := range table.vendors() {
		for _, s := range v.Settings {
			out = append(out, binding{v.Var(s.Name), func(x string) {
				if x == "" {
					return
				}
				if c.Accounts == nil {
					c.Accounts = map[string]vendors.Account{}
				}
				if c.Accounts[v.Name] == nil {
					c.Accounts[v.Name] = vendors.Account{}
				}
				c.Accounts[v.Name][s.Name] = x
			}})
		}
	}
	for _, r := range []struct {
		name string
		dst  *string
	}{
		{"FERRY_MYSQL_TLS_CA_FILE", &c.MySQLCAFile},
		{"FERRY_KAFKA_TLS_CA_FILE", &c.Kafka.CAFile},
		{"FERRY_KAFKA_TLS_CERT_FILE", &c.Kafka.CertFile},
		{"FERRY_KAFKA_TLS_KEY_FILE", &c.Kafka.KeyFile},
		{"FERRY_KAFKA_SASL_MECHANISM", &c.Kafka.SASLMechanism},
		{"FERRY_KAFKA_SASL_USERNAME", &c.Kafka.SASLUser},
		{"FERRY_KAFKA_SASL_PASSWORD", &c.Kafka.SASLPassword},
		{"FERRY_SCHEMA_REGISTRY_URL", &c.Registry.URL},
		{"FERRY_SCHEMA_REGISTRY_USER", &c.Registry.User},
		{"FERRY_SCHEMA_REGISTRY_PASSWORD", &c.Registry.Password},
		{"FERRY_SCHEMA_REGISTRY_CA_FILE", &c.Registry.CAFile},
	} {
		out = append(out, binding{r.name, func(x string) { *r.dst = x }})
	}
	return out
}

// topicEnv binds each topic setting to its environment variable and flag.
func (c *Config) topicEnv() []struct {
	name, flag, usage string
	dst               *int
} {
	return []struct {
		name, flag, usage string
		dst               *int
	}{
		{"FERRY_TOPIC_PARTITIONS", "partitions", "partitions of the topics ferry creates (default 6)", &c.Topics.Partitions},
		{"FERRY_TOPIC_REPLICATION_FACTOR", "replication-factor", "replication factor of the topics ferry creates (default: the broker's)", &c.Topics.ReplicationFactor},
		{"FERRY_TOPIC_MIN_INSYNC_REPLICAS", "min-insync-replicas", "min.insync.replicas of the topics ferry creates (default: the broker's)", &c.Topics.MinInsyncReplicas},
	}
}

// Env lists every environment variable ferry reads.
var Env = func() []string {
	out := []string{"FERRY_KAFKA_BROKERS", "FERRY_MYSQL_DSN", "FERRY_SINCE", "FERRY_LOG_LEVEL", "FERRY_METRICS_ADDR", "FERRY_GROUP_SESSION_TIMEOUT", "FERRY_SINK_PARALLEL", "FERRY_CANONICAL_CLEANUP_POLICY", "FERRY_SCHEMA_REGISTRY_READ_ONLY", "FERRY_VENDOR_ANSWER_LIMIT", "FERRY_KAFKA_TLS", "FERRY_POLL_INTERVAL"}
	for _, t := range (&Config{}).topicEnv() {
		out = append(out, t.name)
	}
	for _, b := range (&Config{}).accountEnv() {
		out = append(out, b.name)
	}
	for _, name := range Secrets {
		out = append(out, name+"_FILE")
	}
	return out
}()

// Secrets lists the settings that hold secrets: each vendor's secret
// settings, the database DSN (it holds a password) and the registry's
// password. Each may come from a file instead, whose path <NAME>_FILE
// names (a mounted Secret), so that it never sits in the environment.
var Secrets = func() []string {
	out := []string{"FERRY_MYSQL_DSN", "FERRY_SCHEMA_REGISTRY_PASSWORD", "FERRY_KAFKA_SASL_PASSWORD"}
	for _, v := range table.vendors() {
		for _, s := range v.Settings {
			if s.Secret {
				out = append(out, v.Var(s.Name))
			}
		}
	}
	return out
}()

// secretFiles returns getenv with each secret of Secrets read from the
// file its <NAME>_FILE names, when it is set; the file's trailing line
// break is dropped.
func secretFiles(getenv func(string) string) (func(string) string, error) {
	files := map[string]string{}
	for _, name := range Secrets {
		path := getenv(name + "_FILE")
		if path == "" {
			continue
		}
		if getenv(name) != "" {
			return nil, fmt.Errorf("%s and %s_FILE are both set: set one", name, name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s_FILE: %w", name, err)
		}
		files[name] = strings.TrimRight(string(b), "\r\n")
	}
	return func(name string) string {
		if v, ok := files[name]; ok {
			return v
		}
		return getenv(name)
	}, nil
}

// Commands lists ferry's commands.
var Commands = []string{"producer", "processor", "sink", "up", "sandbox", "reconcile", "rebuild", "flow", "tail", "dlq", "trace", "schemas", "topics"}

var errHelp = errors.New("help requested")

const usage = `usage: ferry <command> [flags]

commands:
  producer    poll vendor APIs and publish raw records to Kafka
  processor   map raw records to canonical Avro topics
  sink        write canonical records to their targets
  up          run all three roles in one process (embedded broker, database and sandbox unless configured)
  sandbox     serve the vendor sandboxes
  reconcile   compare a flow's target with its source over a time range (exit 1 on differences)
  rebuild     rebuild a flow's MySQL table from its canonical topic beside the live one, then swap them
  flow import turn a seed-platform scheme (its source and target metadata) into a flow file
  tail        print a topic's records as JSON lines (raw, canonical, dead-letter, retry)
  dlq list|show|replay
              group a flow's dead letters by reason, print them decoded, or send them back where they failed
  trace ID    follow one record of a flow through the fetches, the processor and the target, and say where it stands
  topics      list every topic the flows use, with its settings; --format strimzi prints KafkaTopic resources
  schemas export DIR
              write the canonical Avro schemas, and their earlier versions, into DIR

Run ferry <command> -h for its flags.`

// parse reads the command line and the environment.
func parse(args []string, getenv func(string) string) (Config, error) {
	var cfg Config
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(flagOutput, usage)
		if len(args) == 0 {
			return cfg, errors.New("no command")
		}
		return cfg, errHelp
	}
	cfg.Command = args[0]
	known := false
	for _, c := range Commands {
		known = known || c == cfg.Command
	}
	if !known {
		return cfg, fmt.Errorf("unknown command %q (commands: %s)", cfg.Command, strings.Join(Commands, ", "))
	}
	if cfg.Command == "flow" {
		return parseFlow(cfg, args[1:])
	}
	if cfg.Command == "schemas" {
		if len(args) != 3 || args[1] != "export" {
			return cfg, errors.New("ferry schemas: want ferry schemas export DIR")
		}
		cfg.Command, cfg.ExportDir = "schemas export", args[2]
		return cfg, nil
	}
	getenv, err := secretFiles(getenv)
	if err != nil {
		return cfg, err
	}
	fs := flag.NewFlagSet("ferry "+cfg.Command, flag.ContinueOnError)
	fs.SetOutput(flagOutput)
	roles := cfg.Command != "sandbox"
	brokers := getenv("FERRY_KAFKA_BROKERS")
	cfg.MySQLDSN = getenv("FERRY_MYSQL_DSN")
	cfg.Since = getenv("FERRY_SINCE")
	level := getenv("FERRY_LOG_LEVEL")
	for _, b := range cfg.accountEnv() {
		b.set(getenv(b.name))
	}
	fs.StringVar(&level, "log-level", level, "debug, info, warn or error (FERRY_LOG_LEVEL)")
	if roles {
		fs.Func("flow", "serve this flow (repeatable; default all)", func(s string) error {
			cfg.Flows = append(cfg.Flows, s)
			return nil
		})
		fs.StringVar(&cfg.FlowDir, "flows", "", "directory of flow files (default: the flows that ship with ferry)")
		fs.StringVar(&brokers, "brokers", brokers, "Kafka bootstrap servers, comma separated (FERRY_KAFKA_BROKERS)")
		for _, t := range cfg.topicEnv() {
			if v := getenv(t.name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return cfg, fmt.Errorf("%s: %q is not a whole number", t.name, v)
				}
				*t.dst = n
			}
			fs.IntVar(t.dst, t.flag, *t.dst, t.usage+" ("+t.name+")")
		}
		fs.StringVar(&cfg.Registry.URL, "schema-registry", cfg.Registry.URL, "URL of a Confluent-compatible schema registry; canonical records then use its wire format (FERRY_SCHEMA_REGISTRY_URL)")
		if v := getenv("FERRY_SCHEMA_REGISTRY_READ_ONLY"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return cfg, fmt.Errorf("FERRY_SCHEMA_REGISTRY_READ_ONLY: %q is not true or false", v)
			}
			cfg.Registry.ReadOnly = b
		}
		cfg.Topics.CanonicalCleanup = getenv("FERRY_CANONICAL_CLEANUP_POLICY")
		fs.StringVar(&cfg.Topics.CanonicalCleanup, "canonical-cleanup-policy", cfg.Topics.CanonicalCleanup, "cleanup.policy of canonical topics: compact (default), delete or compact,delete (FERRY_CANONICAL_CLEANUP_POLICY)")
		if v := getenv("FERRY_POLL_INTERVAL"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return cfg, fmt.Errorf("FERRY_POLL_INTERVAL: %q is not a duration such as 30s", v)
			}
			cfg.PollInterval = d
		}
		if v := getenv("FERRY_KAFKA_TLS"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return cfg, fmt.Errorf("FERRY_KAFKA_TLS: %q is not true or false", v)
			}
			cfg.Kafka.TLS = b
		}
		if m := cfg.Kafka.SASLMechanism; m != "" && !slices.Contains(bus.SASLMechanisms, m) {
			return cfg, fmt.Errorf("FERRY_KAFKA_SASL_MECHANISM: %q: want one of %s", m, strings.Join(bus.SASLMechanisms, ", "))
		}
		if v := getenv("FERRY_VENDOR_ANSWER_LIMIT"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return cfg, fmt.Errorf("FERRY_VENDOR_ANSWER_LIMIT: %q is not a positive number of bytes", v)
			}
			cfg.AnswerLimit = n
		}
		cfg.Session = bus.DefaultSession
		if v := getenv("FERRY_GROUP_SESSION_TIMEOUT"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return cfg, fmt.Errorf("FERRY_GROUP_SESSION_TIMEOUT: %q is not a duration such as 6s", v)
			}
			cfg.Session = d
		}
		fs.DurationVar(&cfg.Session, "session-timeout", cfg.Session, "how long a dead replica holds its partitions or flows; the broker's group.min.session.timeout.ms bounds it (FERRY_GROUP_SESSION_TIMEOUT)")
	}
	if roles && cfg.Command != "reconcile" && cfg.Command != "tail" && cfg.Command != "dlq" && cfg.Command != "trace" && cfg.Command != "rebuild" && cfg.Command != "topics" {
		fs.StringVar(&cfg.Metrics, "metrics", getenv("FERRY_METRICS_ADDR"), "serve /metrics, /healthz (liveness) and /readyz (readiness) on this address, e.g. :9090 (FERRY_METRICS_ADDR)")
	}
	if cfg.Command == "reconcile" {
		fs.StringVar(&cfg.From, "from", "", "start of the range: a time or a duration back from now such as 24h (required)")
		fs.StringVar(&cfg.To, "to", "0s", "end of the range: a time or a duration back from now (default now)")
		fs.BoolVar(&cfg.Repair, "repair", false, "re-poll the windows that differ through the producer path, then check again")
	}
	if cfg.Command == "rebuild" {
		fs.StringVar(&cfg.RebuildFrom, "from", "", "rebuild from the records written since: a time or a duration back from now (default: the topic's beginning)")
		fromBeginning := false
		fs.BoolVar(&fromBeginning, "from-beginning", false, "rebuild from the topic's beginning (the default)")
		fs.BoolVar(&cfg.RebuildKeep, "keep", false, "keep the old table under a dated name instead of dropping it")
		fs.BoolVar(&cfg.RebuildAbandon, "abandon", false, "drop an interrupted rebuild's shadow table; the live table is untouched")
	}
	if cfg.Command == "sink" || cfg.Command == "up" || cfg.Command == "reconcile" || cfg.Command == "rebuild" || cfg.Command == "trace" {
		fs.StringVar(&cfg.MySQLDSN, "mysql-dsn", cfg.MySQLDSN, "MySQL DSN of the target database (FERRY_MYSQL_DSN)")
	}
	if cfg.Command == "sink" || cfg.Command == "up" {
		if v := getenv("FERRY_SINK_PARALLEL"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return cfg, fmt.Errorf("FERRY_SINK_PARALLEL: %q is not a positive whole number", v)
			}
			cfg.SinkParallel = n
		}
		fs.IntVar(&cfg.SinkParallel, "sink-parallel", cfg.SinkParallel, "partitions a MySQL sink writes at once (default 2) (FERRY_SINK_PARALLEL)")
	}
	if cfg.Command == "producer" || cfg.Command == "up" {
		fs.StringVar(&cfg.Since, "since", cfg.Since, "start of the first window when a flow has no checkpoint: a time or a duration back from now such as 72h (FERRY_SINCE)")
	}
	if cfg.Command == "up" {
		fs.BoolVar(&cfg.Once, "once", false, "sync everything up to now − lag, wait until it is written, print a summary and exit")
		fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "give up --once after this long")
	}
	if cfg.Command == "tail" {
		fs.BoolVar(&cfg.Tail.FromBeginning, "from-beginning", false, "start at each partition's first record (default: its last --limit)")
		fs.BoolVar(&cfg.Tail.Follow, "follow", false, "keep printing records as they come, until interrupted")
		fs.StringVar(&cfg.Tail.Key, "key", "", "print only the records of this key")
		fs.IntVar(&cfg.Tail.Limit, "limit", 10, "print at most this many records (0: no limit)")
	}
	if cfg.Command == "trace" {
		fs.BoolVar(&cfg.TraceSource, "source", false, "ask the vendor for its current version of the record too (one call, within the flow's budget)")
	}
	if cfg.Command == "dlq" {
		fs.StringVar(&cfg.DLQ.Reason, "reason", "", "only the dead letters whose reason contains this text")
		fs.StringVar(&cfg.DLQ.Since, "since", "", "only the dead letters written since: a time or a duration back from now such as 24h")
		fs.StringVar(&cfg.DLQ.Key, "key", "", "only the dead letters of this key")
	}
	if cfg.Command == "topics" {
		fs.StringVar(&cfg.TopicsFormat, "format", "text", "text, or strimzi for Strimzi KafkaTopic resources")
		fs.StringVar(&cfg.TopicsCluster, "cluster", "kafka", "the Strimzi Kafka cluster the KafkaTopic resources belong to (their strimzi.io/cluster label)")
	}
	if cfg.Command == "sandbox" {
		cfg.SandboxListen = map[string]string{}
		for i, v := range table.sandboxNames() {
			addr := fmt.Sprintf(":%d", 8080+i)
			cfg.SandboxListen[v] = addr
			fs.Func(v+"-listen", "address of the "+v+" sandbox (default "+addr+")", func(s string) error {
				cfg.SandboxListen[v] = s
				return nil
			})
		}
		fs.Int64Var(&cfg.Seed, "seed", 1, "seed of the sandbox's data")
	}
	positional, err := parseArgs(fs, args[1:])
	if err != nil {
		return cfg, err
	}
	if len(positional) > 0 && cfg.Command != "tail" && cfg.Command != "dlq" && cfg.Command != "trace" {
		return cfg, fmt.Errorf("ferry %s: unexpected arguments %q", cfg.Command, positional)
	}
	if cfg.Command == "tail" {
		if len(positional) != 1 {
			return cfg, fmt.Errorf("ferry tail: want one topic, got %d", len(positional))
		}
		cfg.Tail.Topic = positional[0]
	}
	for _, b := range strings.Split(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			cfg.Brokers = append(cfg.Brokers, b)
		}
	}
	if err := flows.CheckCleanupPolicy(cfg.Topics.CanonicalCleanup); err != nil {
		return cfg, fmt.Errorf("canonical cleanup policy: %w", err)
	}
	if level != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
			return cfg, fmt.Errorf("log level: %w", err)
		}
	}
	if cfg.Command == "topics" && cfg.TopicsFormat != "text" && cfg.TopicsFormat != "strimzi" {
		return cfg, fmt.Errorf("ferry topics: --format %q: want text or strimzi", cfg.TopicsFormat)
	}
	if roles && cfg.Command != "up" && cfg.Command != "topics" && len(cfg.Brokers) == 0 {
		return cfg, fmt.Errorf("ferry %s: no brokers (set FERRY_KAFKA_BROKERS or --brokers)", cfg.Command)
	}
	if _, err := cfg.since(time.Now()); err != nil {
		return cfg, err
	}
	if cfg.Command == "trace" {
		if len(positional) != 1 || len(cfg.Flows) != 1 {
			return cfg, errors.New("ferry trace: want --flow F and one record key")
		}
		cfg.TraceKey = positional[0]
	}
	if cfg.Command == "dlq" {
		if len(positional) != 1 || !slices.Contains([]string{"list", "show", "replay"}, positional[0]) {
			return cfg, fmt.Errorf("ferry dlq: want list, show or replay, got %q", positional)
		}
		cfg.DLQ.Action = positional[0]
		if len(cfg.Flows) != 1 {
			return cfg, errors.New("ferry dlq: name one flow with --flow")
		}
		if cfg.DLQ.Since != "" {
			if _, err := parseTime(cfg.DLQ.Since, time.Now()); err != nil {
				return cfg, fmt.Errorf("ferry dlq: --since %w", err)
			}
		}
	}
	if cfg.Command == "rebuild" {
		if len(cfg.Flows) != 1 {
			return cfg, errors.New("ferry rebuild: name one flow with --flow")
		}
		if cfg.MySQLDSN == "" {
			return cfg, errors.New("ferry rebuild: no database (set FERRY_MYSQL_DSN or --mysql-dsn)")
		}
		if cfg.RebuildFrom != "" {
			if _, err := parseTime(cfg.RebuildFrom, time.Now()); err != nil {
				return cfg, fmt.Errorf("ferry rebuild: --from %w", err)
			}
		}
	}
	if cfg.Command == "reconcile" {
		if len(cfg.Flows) == 0 {
			return cfg, errors.New("ferry reconcile: name a flow with --flow (repeatable)")
		}
		if cfg.From == "" {
			return cfg, errors.New("ferry reconcile: --from is required")
		}
		for _, s := range []string{cfg.From, cfg.To} {
			if _, err := parseTime(s, time.Now()); err != nil {
				return cfg, fmt.Errorf("ferry reconcile: %w", err)
			}
		}
	}
	return cfg, nil
}

// parseArgs parses flags that may come before or after the positional
// arguments, and returns those.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional, args = append(positional, fs.Arg(0)), fs.Args()[1:]
	}
}

// parseFlow reads ferry flow import FILE [-o OUT]; flags may come before
// or after the file.
func parseFlow(cfg Config, args []string) (Config, error) {
	if len(args) == 0 || args[0] != "import" {
		return cfg, errors.New("ferry flow: want ferry flow import FILE [-o OUT]")
	}
	fs := flag.NewFlagSet("ferry flow import", flag.ContinueOnError)
	fs.SetOutput(flagOutput)
	fs.StringVar(&cfg.ImportOut, "o", "", "write the flow file here (default standard output; the report goes to standard error)")
	files, err := parseArgs(fs, args[1:])
	if err != nil {
		return cfg, err
	}
	if len(files) != 1 {
		return cfg, fmt.Errorf("ferry flow import: want one scheme file, got %d", len(files))
	}
	cfg.Command, cfg.Import = "flow import", files[0]
	return cfg, nil
}

// flagOutput is where usage goes.
var flagOutput io.Writer = stderr{}

// since resolves the --since setting against now; default 72h back.
func (c Config) since(now time.Time) (time.Time, error) {
	if c.Since == "" {
		return now.Add(-72 * time.Hour).Truncate(time.Second), nil
	}
	t, err := parseTime(c.Since, now)
	if err != nil {
		return t, fmt.Errorf("--since %w", err)
	}
	return t, nil
}

// parseTime reads a time (RFC 3339, or yyyy-MM-dd [HH:mm:ss] in
// Asia/Shanghai) or a duration back from now.
func parseTime(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d).Truncate(time.Second), nil
	}
	for _, l := range []string{time.RFC3339, time.DateTime, time.DateOnly} {
		if t, err := time.ParseInLocation(l, s, shanghai); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want a time (2024-01-01 00:00:00, Asia/Shanghai unless a zone is given) or a duration such as 72h", s)
}

// shanghai is the zone of times given without one.
var shanghai, _ = flows.LoadZone("Asia/Shanghai")

// redacted stands for a secret in a Config that is printed.
const redacted = "[redacted]"

// Redacted returns c with every secret replaced: the vendors' secret
// settings, the database password and the registry's password.
func (c Config) Redacted() Config {
	if c.Accounts != nil {
		accounts := make(map[string]vendors.Account, len(c.Accounts))
		for name, a := range c.Accounts {
			secret := map[string]bool{}
			for _, v := range table.vendors() {
				if v.Name == name {
					for _, s := range v.Settings {
						secret[s.Name] = s.Secret
					}
				}
			}
			out := vendors.Account{}
			for k, v := range a {
				if secret[k] && v != "" {
					v = redacted
				}
				out[k] = v
			}
			accounts[name] = out
		}
		c.Accounts = accounts
	}
	if c.MySQLDSN != "" {
		if d, err := mysql.ParseDSN(c.MySQLDSN); err == nil {
			if d.Passwd != "" {
				d.Passwd = redacted
			}
			c.MySQLDSN = d.FormatDSN()
		} else {
			c.MySQLDSN = redacted // unreadable: it may hold anything
		}
	}
	if c.Registry.Password != "" {
		c.Registry.Password = redacted
	}
	if c.Kafka.SASLPassword != "" {
		c.Kafka.SASLPassword = redacted
	}
	return c
}

// plainConfig is Config without its formatting methods.
type plainConfig Config

// String formats c without its secrets, as %v and %+v print it.
func (c Config) String() string { return fmt.Sprintf("%+v", plainConfig(c.Redacted())) }

// GoString formats c without its secrets, as %#v prints it.
func (c Config) GoString() string { return fmt.Sprintf("%#v", plainConfig(c.Redacted())) }

// LogValue logs c without its secrets.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
