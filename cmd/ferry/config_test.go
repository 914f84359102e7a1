package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // error text, or "" for success
		ok   func(Config) bool
	}{
		{"producer from env", []string{"producer", "--flow", "wdt_refunds"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:9092, b:9092", "FERRY_WDT_URL": "http://x/openapi"}, "",
			func(c Config) bool {
				return len(c.Brokers) == 2 && c.Brokers[1] == "b:9092" && c.Flows[0] == "wdt_refunds" && c.endpoint("wdt") == "http://x/openapi"
			}},
		{"flag beats env", []string{"processor", "--brokers", "c:9092"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:9092"}, "",
			func(c Config) bool { return len(c.Brokers) == 1 && c.Brokers[0] == "c:9092" }},
		{"up needs nothing", []string{"up", "--once", "--since", "72h"}, nil, "", func(c Config) bool { return c.Once && c.Since == "72h" }},
		{"roles need brokers", []string{"processor"}, nil, "no brokers", nil},
		// Only a flow that writes MySQL needs the database: its sink
		// refuses to start without one (openDB); a 班牛 sink does not.
		{"sink of API flows needs no database", []string{"sink"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:1"}, "", func(c Config) bool { return c.MySQLDSN == "" }},
		{"bad since", []string{"up", "--since", "last tuesday"}, nil, "--since", nil},
		{"unknown command", []string{"run"}, nil, "unknown command", nil},
		{"flag of another command", []string{"processor", "--once"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:1"}, "not defined", nil},
		{"flow import", []string{"flow", "import", "seed.json", "-o", "f.yaml"}, nil, "",
			func(c Config) bool {
				return c.Command == "flow import" && c.Import == "seed.json" && c.ImportOut == "f.yaml"
			}},
		{"flow import flag first", []string{"flow", "import", "-o", "f.yaml", "seed.json"}, nil, "",
			func(c Config) bool { return c.Import == "seed.json" && c.ImportOut == "f.yaml" }},
		{"flow without import", []string{"flow", "seed.json"}, nil, "want ferry flow import FILE", nil},
		{"flow import two files", []string{"flow", "import", "a.json", "b.json"}, nil, "want one scheme file, got 2", nil},
		{"dlq replay", []string{"dlq", "replay", "--flow", "wdt_refunds", "--reason", "not a time", "--since", "24h", "--key", "7"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:1"}, "",
			func(c Config) bool {
				return c.DLQ == DLQConfig{Action: "replay", Reason: "not a time", Since: "24h", Key: "7"}
			}},
		{"dlq without an action", []string{"dlq", "--flow", "wdt_refunds"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:1"}, "want list, show or replay", nil},
		{"dlq of every flow", []string{"dlq", "list"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:1"}, "name one flow with --flow", nil},
		{"dlq since when", []string{"dlq", "list", "--flow", "wdt_refunds", "--since", "last tuesday"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:1"}, "--since", nil},
		{"trace", []string{"trace", "--flow", "wdt_refunds", "--source", "1130073"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:1"}, "",
			func(c Config) bool { return c.TraceKey == "1130073" && c.TraceSource }},
		{"trace without a key", []string{"trace", "--flow", "wdt_refunds"}, map[string]string{"FERRY_KAFKA_BROKERS": "a:1"}, "want --flow F and one record key", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flagOutput = io.Discard
			cfg, err := parse(tc.args, env(tc.env))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.ok(cfg) {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}

func TestSince(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     now.Add(-72 * time.Hour),
		"2h":                   now.Add(-2 * time.Hour),
		"2024-01-01 08:00:00":  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		"2024-01-01T00:00:00Z": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := Config{Since: in}.since(now)
		if err != nil || !got.Equal(want) {
			t.Errorf("since %q = %v, %v; want %v", in, got, err, want)
		}
	}
}

// TestBadFlowRefusedAtStart: a service given a bad flow file stops before
// it connects to anything, naming the file, the line and the cause.
func TestBadFlowRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("../../flows/wdt_refunds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "rate: 1/s", "rate: often", 1)
	path := filepath.Join(dir, "wdt_refunds.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Command: "producer", FlowDir: dir, Brokers: []string{"127.0.0.1:1"}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = run(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler))
	line := strings.Count(string(good[:strings.Index(string(good), "rate: 1/s")]), "\n") + 1
	if err == nil || !strings.Contains(err.Error(), path+": line "+strconv.Itoa(line)) || !strings.Contains(err.Error(), `"often" is not a rate`) {
		t.Fatalf("error %v, want %s: line %d and the cause", err, path, line)
	}
}

// TestSecretsFromFiles: every secret setting may come from the file its
// _FILE variant names, as a mounted Secret gives it; a missing file, or
// both forms set, is refused at start.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FERRY_KAFKA_BROKERS": "kafka:9092"}
	for _, name := range Secrets {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("from-file-"+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env[name+"_FILE"] = path
	}
	cfg, err := parse([]string{"sink"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MySQLDSN != "from-file-FERRY_MYSQL_DSN" || cfg.Registry.Password != "from-file-FERRY_SCHEMA_REGISTRY_PASSWORD" ||
		cfg.Kafka.SASLPassword != "from-file-FERRY_KAFKA_SASL_PASSWORD" {
		t.Errorf("DSN %q, registry password %q, Kafka password %q", cfg.MySQLDSN, cfg.Registry.Password, cfg.Kafka.SASLPassword)
	}
	for _, v := range table.vendors() {
		for _, s := range v.Settings {
			if got := cfg.Accounts[v.Name][s.Name]; s.Secret && got != "from-file-"+v.Var(s.Name) {
				t.Errorf("%s = %q", v.Var(s.Name), got)
			}
		}
	}
	env["FERRY_MYSQL_DSN"] = "root@tcp(db)/x"
	if _, err := parse([]string{"sink"}, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Errorf("both forms: %v", err)
	}
	delete(env, "FERRY_MYSQL_DSN")
	env["FERRY_MYSQL_DSN_FILE"] = filepath.Join(dir, "absent")
	if _, err := parse([]string{"sink"}, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "FERRY_MYSQL_DSN_FILE") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestConfigFormatsWithoutSecrets: however a Config is printed or logged,
// its secrets stay out, and the rest stays in.
func TestConfigFormatsWithoutSecrets(t *testing.T) {
	env := map[string]string{
		"FERRY_KAFKA_BROKERS":            "kafka-1:9092",
		"FERRY_MYSQL_DSN":                "ferry:S3cret-dsn@tcp(db:3306)/bi",
		"FERRY_SCHEMA_REGISTRY_URL":      "https://registry:8081",
		"FERRY_SCHEMA_REGISTRY_USER":     "reg-user",
		"FERRY_SCHEMA_REGISTRY_PASSWORD": "S3cret-registry",
		"FERRY_KAFKA_SASL_MECHANISM":     "SCRAM-SHA-512",
		"FERRY_KAFKA_SASL_USERNAME":      "kafka-user",
		"FERRY_KAFKA_SASL_PASSWORD":      "S3cret-kafka",
	}
	var secrets []string
	for _, v := range table.vendors() {
		for _, s := range v.Settings {
			env[v.Var(s.Name)] = "value-of-" + v.Var(s.Name)
			if s.Secret {
				secrets = append(secrets, env[v.Var(s.Name)])
			}
		}
	}
	secrets = append(secrets, "S3cret-dsn", "S3cret-registry", "S3cret-kafka")
	cfg, err := parse([]string{"sink"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("config", "cfg", cfg)
	printed := fmt.Sprint(cfg) + fmt.Sprintf(" %v %+v %#v %s ", cfg, cfg, cfg, cfg) + log.String()
	for _, s := range secrets {
		if strings.Contains(printed, s) {
			t.Errorf("a printed Config shows the secret %q", s)
		}
	}
	for _, keep := range []string{"kafka-1:9092", "reg-user", "kafka-user", "value-of-FERRY_WDT_SID", "ferry:[redacted]@tcp(db:3306)/bi"} {
		if !strings.Contains(printed, keep) {
			t.Errorf("a printed Config lacks %q:\n%s", keep, printed)
		}
	}
	if cfg.MySQLDSN != env["FERRY_MYSQL_DSN"] || cfg.Accounts["wdt"]["APP_SECRET"] != env["FERRY_WDT_APP_SECRET"] {
		t.Error("redacting a copy changed the Config")
	}
}
