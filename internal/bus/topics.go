package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/segmentio/kafka-go"
)

// DefaultPartitions is the partition count of the topics ferry creates
// when no setting says otherwise: enough for six replicas of a role.
const DefaultPartitions = 6

// Settings are how ferry creates topics. A zero field takes the default:
// DefaultPartitions, and the broker's replication factor and
// min.insync.replicas.
type Settings struct {
	Partitions        int
	ReplicationFactor int
	MinInsyncReplicas int
	// CanonicalCleanup is the cleanup.policy of canonical topics: compact
	// (the default), delete, or compact,delete.
	CanonicalCleanup string
}

// DeleteRetention is how long a compacted canonical topic keeps a
// tombstone (delete.retention.ms): a consumer that is less than this far
// behind sees every deletion.
const DeleteRetention = 7 * 24 * time.Hour

// Canonical is a canonical topic: compacted unless the settings say
// otherwise, so that the newest record of every key stays for as long as
// the topic exists and a replay from the beginning rebuilds a table.
func Canonical(name string, s Settings) Topic {
	t := Topic{Name: name, Settings: s, Compacted: s.CanonicalCleanup != "delete", Cleanup: s.CanonicalCleanup}
	if t.Compacted {
		t.DeleteRetention = DeleteRetention
	}
	return t
}

// Over returns s with its unset fields taken from base.
func (s Settings) Over(base Settings) Settings {
	if s.Partitions == 0 {
		s.Partitions = base.Partitions
	}
	if s.ReplicationFactor == 0 {
		s.ReplicationFactor = base.ReplicationFactor
	}
	if s.MinInsyncReplicas == 0 {
		s.MinInsyncReplicas = base.MinInsyncReplicas
	}
	if s.CanonicalCleanup == "" {
		s.CanonicalCleanup = base.CanonicalCleanup
	}
	return s
}

// Topic is a topic ferry needs.
type Topic struct {
	Name     string
	Settings Settings
	// Compacted topics (cleanup.policy=compact) hold state: the newest
	// record of each key.
	Compacted bool
	// Cleanup, if set, is the cleanup.policy to create the topic with
	// (compact,delete); Compacted says whether it must compact.
	Cleanup string
	// DeleteRetention, if set, is a compacted topic's delete.retention.ms.
	DeleteRetention time.Duration
	// With names the topic this one is co-partitioned with: a key's
	// records sit in the same partition number of both, so both need the
	// same number of partitions. A state changelog is co-partitioned with
	// the input whose partitions own the state.
	With string
}

// Partitions is the partition count the topic is created with.
func (t Topic) Partitions() int {
	if t.Settings.Partitions > 0 {
		return t.Settings.Partitions
	}
	return DefaultPartitions
}

// Config is the topic configuration it is created with.
func (t Topic) Config() []kafka.ConfigEntry {
	var out []kafka.ConfigEntry
	switch {
	case t.Cleanup != "":
		out = append(out, kafka.ConfigEntry{ConfigName: "cleanup.policy", ConfigValue: t.Cleanup})
	case t.Compacted:
		out = append(out, kafka.ConfigEntry{ConfigName: "cleanup.policy", ConfigValue: "compact"})
	}
	if t.DeleteRetention > 0 {
		out = append(out, kafka.ConfigEntry{ConfigName: "delete.retention.ms", ConfigValue: strconv.FormatInt(t.DeleteRetention.Milliseconds(), 10)})
	}
	if t.Settings.MinInsyncReplicas > 0 {
		out = append(out, kafka.ConfigEntry{ConfigName: "min.insync.replicas", ConfigValue: strconv.Itoa(t.Settings.MinInsyncReplicas)})
	}
	return out
}

// EnsureTopics creates the topics that do not exist yet and checks the
// ones that do. A co-partitioned topic is created with its partner's
// partition count when the partner exists. An existing topic that
// compaction or co-partitioning needs differently (a state topic that
// deletes by age, co-partitioned topics with different partition counts)
// is refused with what to change; one whose partition count only differs
// from the settings is used, and log says so. A broker that is briefly
// out of reach (a cut connection, a timeout) is tried again, maxFailures
// times at most, so that a role starting during a broker's restart does
// not exit.
func EnsureTopics(ctx context.Context, brokers []string, log *slog.Logger, topics ...Topic) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return backoff.Do(ctx, backoff.Policy{Base: 200 * time.Millisecond, Max: 10 * time.Second, Tries: maxFailures}, func() error {
		err := ensureTopics(ctx, brokers, log, topics...)
		if err != nil && Passing(err) {
			return &backoff.Retry{Err: err}
		}
		return err
	}, func(attempt int, wait time.Duration, err error) {
		log.Warn("cannot check the topics; trying again", "attempt", attempt+1, "wait", wait, "err", err)
	})
}

// Passing tells a broker's passing failures (a connection cut, refused or
// timed out; an error Kafka calls retriable) from its answers.
func Passing(err error) bool {
	var ke kafka.Error
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &ne) || (errors.As(err, &ke) && ke.Temporary())
}

func ensureTopics(ctx context.Context, brokers []string, log *slog.Logger, topics ...Topic) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	names := make([]string, 0, len(topics))
	for _, t := range topics {
		names = append(names, t.Name)
		if t.With != "" && !slices.Contains(names, t.With) {
			names = append(names, t.With)
		}
	}
	have, err := partitionCounts(ctx, client, names)
	if err != nil {
		return err
	}
	req := &kafka.CreateTopicsRequest{}
	var created []Topic
	for _, t := range topics {
		if _, ok := have[t.Name]; ok {
			continue
		}
		n := t.Partitions()
		if p, ok := have[t.With]; ok && t.With != "" {
			n = p // follow the existing partner
		}
		cfg := kafka.TopicConfig{Topic: t.Name, NumPartitions: n, ReplicationFactor: -1, ConfigEntries: t.Config()}
		if t.Settings.ReplicationFactor > 0 {
			cfg.ReplicationFactor = t.Settings.ReplicationFactor
		}
		req.Topics = append(req.Topics, cfg)
		created = append(created, t)
	}
	if len(req.Topics) > 0 {
		res, err := client.CreateTopics(ctx, req)
		if err != nil {
			return fmt.Errorf("create topics: %w", err)
		}
		for name, err := range res.Errors {
			if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
				return fmt.Errorf("create topic %s: %w", name, err)
			}
		}
		for _, t := range created {
			log.Info("topic created", "topic", t.Name, "partitions", partitionsOf(req, t.Name), "compacted", t.Compacted)
		}
		if have, err = partitionCounts(ctx, client, names); err != nil {
			return err
		}
	}
	return check(ctx, client, log, topics, have)
}

// check refuses existing topics that compaction or co-partitioning needs
// differently, and logs those whose partition count differs from the
// settings.
func check(ctx context.Context, client *kafka.Client, log *slog.Logger, topics []Topic, have map[string]int) error {
	var compacted []kafka.DescribeConfigRequestResource
	for _, t := range topics {
		n, ok := have[t.Name]
		if !ok {
			return fmt.Errorf("topic %s: not found after creating it", t.Name)
		}
		if p, ok := have[t.With]; ok && t.With != "" && p != n {
			return fmt.Errorf("topic %s has %d partitions and %s %d: they are co-partitioned (a key's state lives in the partition of its input), so both need the same count; add partitions to the smaller with kafka-topics --alter --partitions, or delete the state topic to rebuild it",
				t.Name, n, t.With, p)
		}
		if want := t.Settings.Partitions; want > 0 && want != n {
			log.Warn("topic has another partition count than the settings; using it as it is", "topic", t.Name, "partitions", n, "settings", want)
		}
		if t.Compacted {
			compacted = append(compacted, kafka.DescribeConfigRequestResource{
				ResourceType: kafka.ResourceTypeTopic, ResourceName: t.Name, ConfigNames: []string{"cleanup.policy"}})
		}
	}
	if len(compacted) == 0 {
		return nil
	}
	res, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: compacted})
	if err != nil {
		return fmt.Errorf("describe topic configs: %w", err)
	}
	for _, r := range res.Resources {
		if r.Error != nil {
			return fmt.Errorf("describe topic %s: %w", r.ResourceName, r.Error)
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "cleanup.policy" && !slices.Contains(strings.Split(e.ConfigValue, ","), "compact") {
				return fmt.Errorf("topic %s has cleanup.policy=%s: it holds state, which would be deleted with age; set cleanup.policy=compact with kafka-configs --alter --add-config",
					r.ResourceName, e.ConfigValue)
			}
		}
	}
	return nil
}

// partitionCounts returns the partition count of each named topic that
// exists.
func partitionCounts(ctx context.Context, client *kafka.Client, names []string) (map[string]int, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return nil, fmt.Errorf("topic metadata: %w", err)
	}
	out := map[string]int{}
	for _, t := range meta.Topics {
		switch {
		case t.Error == nil:
			out[t.Name] = len(t.Partitions)
		case errors.Is(t.Error, kafka.UnknownTopicOrPartition):
		default:
			return nil, fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
	}
	return out, nil
}

func partitionsOf(req *kafka.CreateTopicsRequest, name string) int {
	for _, t := range req.Topics {
		if t.Topic == name {
			return t.NumPartitions
		}
	}
	return 0
}

// Ping asks the cluster for its brokers through a connection of its own
// (no cached metadata), to tell whether Kafka answers now.
func Ping(ctx context.Context, brokers []string) error {
	var last error
	for _, b := range brokers {
		conn, err := kafka.DialContext(ctx, "tcp", b)
		if err != nil {
			last = err
			continue
		}
		if dl, ok := ctx.Deadline(); ok {
			conn.SetDeadline(dl)
		}
		_, err = conn.Brokers()
		conn.Close()
		if err == nil {
			return nil
		}
		last = err
	}
	if last == nil {
		last = errors.New("no brokers configured")
	}
	return fmt.Errorf("kafka does not answer: %w", last)
}
