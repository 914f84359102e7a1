package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/internal/deadletter"
	"github.com/ferry-data/ferry/internal/lease"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/reconcile"
	"github.com/ferry-data/ferry/sinks"
)

// allTopics lists every topic the flows use, with the settings ferry
// creates it with, and ferry's own topics, each once, sorted by name.
func allTopics(cfg Config, fs []*flows.Flow) []bus.Topic {
	p := &pipeline{cfg: cfg}
	byName := map[string]bus.Topic{}
	add := func(ts ...bus.Topic) {
		for _, t := range ts {
			if _, ok := byName[t.Name]; !ok {
				byName[t.Name] = t
			}
		}
	}
	for _, f := range fs {
		add(processors.Topics(f, p.topics(f))...)
		add(deadletter.Topics(f, p.topics(f))...)
		if f.Target.Vendor() {
			add(bus.Topic{Name: sinks.RetryTopic(f), Settings: p.topics(f)})
		}
	}
	add(lease.TopicOf(cfg.Topics), checkpoint.TopicOf(cfg.Topics), reconcile.TopicOf(cfg.Topics))
	out := make([]bus.Topic, 0, len(byName))
	for _, t := range byName {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b bus.Topic) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// listTopics prints the topics: a table, or Strimzi KafkaTopic resources.
func listTopics(cfg Config, fs []*flows.Flow, w io.Writer) error {
	topics := allTopics(cfg, fs)
	if cfg.TopicsFormat == "strimzi" {
		for _, t := range topics {
			b, err := yaml.Marshal(strimziTopic(t, cfg.TopicsCluster))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "---\n%s", b)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "topic\tpartitions\treplicas\tconfig")
	for _, t := range topics {
		replicas := "broker's"
		if r := t.Settings.ReplicationFactor; r > 0 {
			replicas = strconv.Itoa(r)
		}
		var config []string
		for _, e := range t.Config() {
			config = append(config, e.ConfigName+"="+e.ConfigValue)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", t.Name, t.Partitions(), replicas, strings.Join(config, " "))
	}
	return tw.Flush()
}

// KafkaTopic is a Strimzi KafkaTopic (kafka.strimzi.io/v1beta2), with the
// fields of its published CRD schema that ferry sets.
type KafkaTopic struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   KafkaTopicMeta `json:"metadata"`
	Spec       KafkaTopicSpec `json:"spec"`
}

// KafkaTopicMeta is a KafkaTopic's metadata.
type KafkaTopicMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels"`
}

// KafkaTopicSpec is a KafkaTopic's spec.
type KafkaTopicSpec struct {
	TopicName  string            `json:"topicName"`
	Partitions int               `json:"partitions"`
	Replicas   int               `json:"replicas,omitempty"`
	Config     map[string]string `json:"config,omitempty"`
}

// strimziTopic is t as a KafkaTopic of cluster. Kubernetes names allow no
// underscore, so the resource is named after the topic with dashes, and
// spec.topicName keeps the topic's own name.
func strimziTopic(t bus.Topic, cluster string) KafkaTopic {
	k := KafkaTopic{
		APIVersion: "kafka.strimzi.io/v1beta2",
		Kind:       "KafkaTopic",
		Metadata: KafkaTopicMeta{Name: strings.ReplaceAll(t.Name, "_", "-"),
			Labels: map[string]string{"strimzi.io/cluster": cluster, "app.kubernetes.io/part-of": "ferry"}},
		Spec: KafkaTopicSpec{TopicName: t.Name, Partitions: t.Partitions(), Replicas: t.Settings.ReplicationFactor},
	}
	for _, e := range t.Config() {
		if k.Spec.Config == nil {
			k.Spec.Config = map[string]string{}
		}
		k.Spec.Config[e.ConfigName] = e.ConfigValue
	}
	return k
}
