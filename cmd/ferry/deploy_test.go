package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/telemetry"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/vendors"
)

// The TestDeploy tests build the Kubernetes manifests under deploy/ with
// kustomize's own library, as kubectl apply -k does, decode what they hold
// into the Kubernetes API's types (k8s.io/api), and check them against
// this binary: every Deployment's args parse with ferry's own parse, in
// the environment the manifests give it, as the Deployment's role; every
// variable fed to ferry is one it reads; the producers fail over; the KEDA
// triggers cover every flow; the pods stay hardened; no Secret is applied;
// and every file under deploy/ is used.

// deployDir is deploy/, seen from cmd/ferry.
const deployDir = "../../deploy"

// roleLabel names a Deployment's role.
const roleLabel = "app.kubernetes.io/component"

var roles = []string{"producer", "processor", "sink"}

// deployTree is deploy/ as kustomize reads it.
type deployTree struct {
	// kustomizations are the folders holding a kustomization.yaml, by
	// path below deploy/.
	kustomizations map[string]*types.Kustomization
	// yamlFiles are every YAML file below deploy/ but kustomization files.
	yamlFiles []string
	// secrets are the Secrets documented under deploy/ (its examples), by
	// name: the keys a Secret made by hand must have.
	secrets map[string]*corev1.Secret
	// secretFiles are the files holding a Secret.
	secretFiles map[string]string
}

func loadDeployTree(t *testing.T) *deployTree {
	t.Helper()
	tree := &deployTree{kustomizations: map[string]*types.Kustomization{}, secrets: map[string]*corev1.Secret{}, secretFiles: map[string]string{}}
	err := filepath.WalkDir(deployDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return err
		}
		rel, _ := filepath.Rel(deployDir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if base := path.Base(rel); base == "kustomization.yaml" || base == "kustomization.yml" {
			var k types.Kustomization
			if err := yaml.UnmarshalStrict(data, &k); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			tree.kustomizations[path.Dir(rel)] = &k
			return nil
		}
		tree.yamlFiles = append(tree.yamlFiles, rel)
		nodes, err := (&kio.ByteReader{Reader: strings.NewReader(string(data)), OmitReaderAnnotations: true}).Read()
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		for _, n := range nodes {
			if n.GetKind() != "Secret" {
				continue
			}
			var s corev1.Secret
			if err := yaml.Unmarshal([]byte(n.MustString()), &s); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			tree.secrets[s.Name], tree.secretFiles[s.Name] = &s, rel
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// dirs are the kustomization folders, sorted.
func (tree *deployTree) dirs() []string {
	var out []string
	for d := range tree.kustomizations {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// build builds one kustomization with kustomize's library.
func build(dir string) (resmap.ResMap, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	return k.Run(filesys.MakeFsOnDisk(), filepath.Join(deployDir, filepath.FromSlash(dir)))
}

// deployBuild is one kustomization's build, each object decoded strictly
// into its type: the Kubernetes API's (k8s.io/api), Prometheus
// Operator's, and for Strimzi and KEDA, the fields of their published
// CRD schemas that ferry uses.
type deployBuild struct {
	dir             string
	deployments     []*appsv1.Deployment
	cronJobs        []*batchv1.CronJob
	configMaps      map[string]*corev1.ConfigMap
	services        []*corev1.Service
	pdbs            []*policyv1.PodDisruptionBudget
	networkPolicies []*networkingv1.NetworkPolicy
	podMonitors     []*monitoringv1.PodMonitor
	prometheusRules []*monitoringv1.PrometheusRule
	kafkaTopics     []*KafkaTopic
	scaledObjects   []*scaledObject
	triggerAuths    []*triggerAuthentication
	kinds           []string // every resource, as Kind/name
}

// scaledObject is KEDA's ScaledObject (keda.sh/v1alpha1), with the fields
// of its published CRD schema that deploy/ sets (KEDA's Go types would
// bring its whole operator along).
type scaledObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		ScaleTargetRef struct {
			Name string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount int `json:"minReplicaCount"`
		MaxReplicaCount int `json:"maxReplicaCount"`
		CooldownPeriod  int `json:"cooldownPeriod"`
		Triggers        []struct {
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
			} `json:"authenticationRef"`
		} `json:"triggers"`
	} `json:"spec"`
}

// triggerAuthentication is KEDA's TriggerAuthentication
// (keda.sh/v1alpha1), with the fields of its published CRD schema that
// deploy/ sets.
type triggerAuthentication struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

// decodeStrict decodes obj into v, refusing any field v's type lacks.
func decodeStrict(obj map[string]any, v any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// builds builds every kustomization but the components, which are built
// as part of the kustomizations that include them.
func (tree *deployTree) builds(t *testing.T) []deployBuild {
	t.Helper()
	var out []deployBuild
	for _, dir := range tree.dirs() {
		if tree.kustomizations[dir].Kind == types.ComponentKind {
			continue
		}
		b, err := buildDecoded(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		out = append(out, b)
	}
	return out
}

// installations are the builds of the overlays: what kubectl apply -k
// deploy/overlays/<name> brings up.
func (tree *deployTree) installations(t *testing.T) []deployBuild {
	t.Helper()
	var out []deployBuild
	for _, b := range tree.builds(t) {
		if path.Dir(b.dir) == "overlays" {
			out = append(out, b)
		}
	}
	if len(out) < 2 {
		t.Fatalf("%d overlays under deploy/overlays, want dev and prod", len(out))
	}
	return out
}

func buildDecoded(dir string) (deployBuild, error) {
	m, err := build(dir)
	if err != nil {
		return deployBuild{}, fmt.Errorf("kustomize build: %w", err)
	}
	b := deployBuild{dir: dir, configMaps: map[string]*corev1.ConfigMap{}}
	for _, r := range m.Resources() {
		b.kinds = append(b.kinds, r.GetKind()+"/"+r.GetName())
		obj, err := r.Map()
		if err != nil {
			return b, err
		}
		var into any
		kube := true
		switch r.GetKind() {
		case "Deployment":
			d := &appsv1.Deployment{}
			b.deployments, into = append(b.deployments, d), d
		case "CronJob":
			c := &batchv1.CronJob{}
			b.cronJobs, into = append(b.cronJobs, c), c
		case "ConfigMap":
			c := &corev1.ConfigMap{}
			b.configMaps[r.GetName()], into = c, c
		case "Service":
			s := &corev1.Service{}
			b.services, into = append(b.services, s), s
		case "PodDisruptionBudget":
			p := &policyv1.PodDisruptionBudget{}
			b.pdbs, into = append(b.pdbs, p), p
		case "NetworkPolicy":
			n := &networkingv1.NetworkPolicy{}
			b.networkPolicies, into = append(b.networkPolicies, n), n
		case "Namespace":
			into = &corev1.Namespace{}
		case "PodMonitor":
			p := &monitoringv1.PodMonitor{}
			b.podMonitors, into = append(b.podMonitors, p), p
		case "PrometheusRule":
			p := &monitoringv1.PrometheusRule{}
			b.prometheusRules, into = append(b.prometheusRules, p), p
		case "KafkaTopic":
			k := &KafkaTopic{}
			b.kafkaTopics, into, kube = append(b.kafkaTopics, k), k, false
		case "ScaledObject":
			s := &scaledObject{}
			b.scaledObjects, into, kube = append(b.scaledObjects, s), s, false
		case "TriggerAuthentication":
			a := &triggerAuthentication{}
			b.triggerAuths, into, kube = append(b.triggerAuths, a), a, false
		default:
			return b, fmt.Errorf("%s %s: a kind the deploy tests do not know", r.GetKind(), r.GetName())
		}
		if kube {
			err = runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj, into, true)
		} else {
			err = decodeStrict(obj, into)
		}
		if err != nil {
			return b, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
	}
	return b, nil
}

func isExample(file string) bool {
	return strings.HasSuffix(file, ".example.yaml") || strings.HasSuffix(file, ".example.yml")
}

// TestDeployKustomizationFilesExist checks that every kustomization builds
// (a file or folder it names that does not exist fails the build), that
// none names a remote resource, and that every YAML file under deploy/ is
// used: a resource, patch, generator source or configuration of a
// kustomization, or an example (*.example.yaml) that no kustomization
// applies.
func TestDeployKustomizationFilesExist(t *testing.T) {
	tree := loadDeployTree(t)
	used := map[string]string{}
	for _, dir := range tree.dirs() {
		k := tree.kustomizations[dir]
		kf := dir + "/kustomization.yaml"
		var files []string
		for _, r := range slices.Concat(k.Resources, k.Components) {
			if strings.Contains(r, "://") {
				t.Errorf("%s: remote resource %s: keep deploy/ self-contained", kf, r)
				continue
			}
			files = append(files, r)
		}
		for _, p := range k.Patches {
			files = append(files, p.Path)
		}
		files = append(files, k.Configurations...)
		for _, g := range k.ConfigMapGenerator {
			files = append(files, g.EnvSources...)
			for _, f := range g.FileSources {
				_, src, ok := strings.Cut(f, "=")
				if !ok {
					src = f
				}
				files = append(files, src)
			}
		}
		for _, f := range files {
			if f != "" {
				used[path.Join(dir, f)] = kf
			}
		}
	}
	tree.builds(t)
	for _, f := range tree.yamlFiles {
		kf, ok := used[f]
		switch {
		case isExample(f) && ok:
			t.Errorf("%s applies the example %s: examples are documentation and must never be applied", kf, f)
		case !isExample(f) && !ok:
			t.Errorf("%s is in no kustomization's resources, patches, generators or configurations: list it, or name it *.example.yaml if it only documents", f)
		}
	}
}

// TestDeploySecretsAreExamplesOnly checks that no Secret is applied by a
// kustomization: real credentials never go into the repository, and the
// Secrets under deploy/ only document what must exist.
func TestDeploySecretsAreExamplesOnly(t *testing.T) {
	tree := loadDeployTree(t)
	for name, f := range tree.secretFiles {
		if !isExample(f) {
			t.Errorf("%s: Secret %s outside a *.example.yaml file; keep credentials out of the repository", f, name)
		}
	}
	for _, dir := range tree.dirs() {
		for _, g := range tree.kustomizations[dir].SecretGenerator {
			t.Errorf("%s/kustomization.yaml: secretGenerator %s: create Secrets by hand (see deploy/README.md)", dir, g.Name)
		}
	}
	for _, b := range tree.builds(t) {
		for _, k := range b.kinds {
			if strings.HasPrefix(k, "Secret/") {
				t.Errorf("%s: kustomization %s applies a Secret; create Secrets by hand (see deploy/README.md)", k, b.dir)
			}
		}
	}
}

// workload is a Deployment's or a CronJob's pod, as the tests read it.
type workload struct {
	where  string // the build and the object, for messages
	name   string
	role   string // the component label: producer, processor, sink or reconcile
	labels map[string]string
	pod    corev1.PodSpec
	// cfg is ferry's parse of the container's args and environment.
	cfg Config
	// secrets are the keys of Secrets the pod reads (env or mounted).
	secrets []string
}

// workloads parses every Deployment's and CronJob's container as ferry
// would, reporting what ferry refuses.
func (b deployBuild) workloads(t *testing.T, tree *deployTree) []workload {
	t.Helper()
	var out []workload
	add := func(kind, name string, labels map[string]string, pod corev1.PodSpec) {
		w := workload{where: b.dir + ": " + kind + " " + name, name: name, role: labels[roleLabel], labels: labels, pod: pod}
		if len(pod.Containers) != 1 {
			t.Errorf("%s: %d containers, want ferry's one", w.where, len(pod.Containers))
			return
		}
		c := pod.Containers[0]
		if name, _, _ := strings.Cut(c.Image, ":"); path.Base(name) != "ferry" {
			t.Errorf("%s: image %q, want the ferry image", w.where, c.Image)
		}
		if len(c.Command) > 0 && !slices.Equal(c.Command, []string{"/ferry"}) {
			t.Errorf("%s: command %q; leave it to the image's ENTRYPOINT /ferry", w.where, c.Command)
		}
		env, secrets, problems := ferryEnv(b, tree.secrets, pod, c)
		for _, p := range problems {
			t.Errorf("%s: %s", w.where, p)
		}
		slices.Sort(secrets)
		w.secrets = secrets
		cfg, err := parse(c.Args, func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%s: ferry refuses args %q: %v", w.where, c.Args, err)
			return
		}
		if cfg.Command != w.role {
			t.Errorf("%s: runs ferry %s, but its role label says %s", w.where, cfg.Command, w.role)
		}
		w.cfg = cfg
		out = append(out, w)
	}
	for _, d := range b.deployments {
		add("Deployment", d.Name, d.Spec.Template.Labels, d.Spec.Template.Spec)
	}
	for _, c := range b.cronJobs {
		add("CronJob", c.Name, c.Spec.JobTemplate.Spec.Template.Labels, c.Spec.JobTemplate.Spec.Template.Spec)
	}
	return out
}

// flows are the flows a workload serves.
func (w workload) flows(t *testing.T) []*flows.Flow {
	fs, err := loadFlows(w.cfg, table)
	if err != nil {
		t.Errorf("%s: %v", w.where, err)
	}
	return fs
}

// TestDeployDeploymentsMatchBinary checks, in every overlay, that each
// Deployment and CronJob runs ferry as its role with args and an
// environment ferry accepts, and that every shipped flow is served by one
// producer, one processor, one sink when it has a target beyond its
// topic, and one nightly reconcile.
func TestDeployDeploymentsMatchBinary(t *testing.T) {
	tree := loadDeployTree(t)
	shipped, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range tree.installations(t) {
		served := map[string]map[string]int{} // role → flow → workloads
		for _, w := range b.workloads(t, tree) {
			if served[w.role] == nil {
				served[w.role] = map[string]int{}
			}
			for _, f := range w.flows(t) {
				served[w.role][f.Name]++
			}
		}
		for _, f := range shipped {
			for _, role := range []string{"producer", "processor", "sink", "reconcile"} {
				want := 1
				if role == "sink" && f.Target.Kind == "topic" {
					want = served[role][f.Name] // a sink may list it; it has nothing to write
				}
				if n := served[role][f.Name]; n != want {
					t.Errorf("%s: flow %s is served by %d %s workloads, want %d", b.dir, f.Name, n, role, want)
				}
			}
		}
	}
}

// ferryEnv assembles the environment a container starts with: envFrom
// first, then env, as Kubernetes does. ConfigMap values come from the
// build, Secret values from the Secret examples under deploy/ (their
// values are placeholders), and a <NAME>_FILE setting from the Secret
// item mounted where it points: it becomes NAME, as ferry reads it. It
// returns the Secret keys read, and reports every variable ferry does
// not read and every reference it cannot resolve.
func ferryEnv(b deployBuild, secrets map[string]*corev1.Secret, pod corev1.PodSpec, c corev1.Container) (env map[string]string, read, problems []string) {
	env = map[string]string{}
	secretKey := func(name, key string) bool {
		s := secrets[name]
		if s == nil {
			return false
		}
		_, ok := s.StringData[key]
		if !ok {
			_, ok = s.Data[key]
		}
		return ok
	}
	configMap := func(name string) map[string]string {
		if cm := b.configMaps[name]; cm != nil {
			return cm.Data
		}
		return nil
	}
	set := func(name, value string) {
		if !slices.Contains(Env, name) {
			problems = append(problems, fmt.Sprintf("environment variable %s is not one ferry reads", name))
		}
		env[name] = value
	}
	// mounted finds the Secret item a file path names.
	mounted := func(file string) (secret, key string, ok bool) {
		for _, m := range c.VolumeMounts {
			rel, err := filepath.Rel(m.MountPath, file)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			for _, v := range pod.Volumes {
				if v.Name != m.Name || v.Secret == nil {
					continue
				}
				for _, it := range v.Secret.Items {
					if it.Path == rel {
						return v.Secret.SecretName, it.Key, true
					}
				}
			}
		}
		return "", "", false
	}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			data := configMap(ef.ConfigMapRef.Name)
			if data == nil {
				problems = append(problems, fmt.Sprintf("envFrom: no ConfigMap %s in the build", ef.ConfigMapRef.Name))
			}
			for k, v := range data {
				set(ef.Prefix+k, v)
			}
		default:
			problems = append(problems, "envFrom a Secret: every role would get every key; mount only the keys its flows need")
		}
	}
	for _, e := range c.Env {
		switch {
		case strings.HasSuffix(e.Name, "_FILE") && e.ValueFrom == nil:
			name := strings.TrimSuffix(e.Name, "_FILE")
			s, key, ok := mounted(e.Value)
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("env %s: %s is no mounted Secret item", e.Name, e.Value))
			case !secretKey(s, key):
				problems = append(problems, fmt.Sprintf("env %s: key %s of Secret %s is documented by no Secret example under deploy/", e.Name, key, s))
			case key != name:
				problems = append(problems, fmt.Sprintf("env %s: reads key %s of Secret %s", e.Name, key, s))
			}
			if !slices.Contains(Env, e.Name) {
				problems = append(problems, fmt.Sprintf("environment variable %s is not one ferry reads", e.Name))
			}
			env[name] = "placeholder"
			read = append(read, key)
		case e.ValueFrom == nil:
			set(e.Name, e.Value)
		case e.ValueFrom.ConfigMapKeyRef != nil:
			r := e.ValueFrom.ConfigMapKeyRef
			v, ok := configMap(r.Name)[r.Key]
			if !ok {
				problems = append(problems, fmt.Sprintf("env %s: no key %s in ConfigMap %s", e.Name, r.Key, r.Name))
			}
			set(e.Name, v)
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			if !secretKey(r.Name, r.Key) {
				problems = append(problems, fmt.Sprintf("env %s: key %s of Secret %s is documented by no Secret example under deploy/", e.Name, r.Key, r.Name))
			}
			set(e.Name, "placeholder")
			read = append(read, r.Key)
		default:
			set(e.Name, "placeholder")
		}
	}
	return env, read, problems
}

// TestDeploySecretsFollowTheFlows checks, in every overlay, that each
// Deployment and CronJob reads exactly the credentials its flows need in
// its role: a producer its sources' accounts, a sink its target APIs'
// and the database's when a flow writes MySQL, reconcile both, a
// processor none; and every role Kafka's SASL user when it speaks SASL.
func TestDeploySecretsFollowTheFlows(t *testing.T) {
	tree := loadDeployTree(t)
	for _, b := range tree.installations(t) {
		for _, w := range b.workloads(t, tree) {
			want := map[string]bool{}
			account := func(name string) {
				i := slices.IndexFunc(table.vendors(), func(v vendors.Vendor) bool { return v.Name == name })
				if i < 0 {
					t.Fatalf("no vendor %s in the table", name)
				}
				v := table.vendors()[i]
				for _, s := range v.Settings {
					if s.Name != vendors.URL {
						want[v.Var(s.Name)] = true
					}
				}
			}
			if w.cfg.Kafka.SASLMechanism != "" {
				want["FERRY_KAFKA_SASL_USERNAME"], want["FERRY_KAFKA_SASL_PASSWORD"] = true, true
			}
			for _, f := range w.flows(t) {
				if w.role == "producer" || w.role == "reconcile" {
					account(f.Source.Vendor)
				}
				if w.role == "sink" || w.role == "reconcile" {
					switch {
					case f.Target.Kind == "mysql":
						want["FERRY_MYSQL_DSN"] = true
					case f.Target.Vendor():
						account(f.Target.Kind)
					}
				}
			}
			wanted := slices.Sorted(maps.Keys(want))
			if !slices.Equal(w.secrets, wanted) {
				t.Errorf("%s reads the Secret keys %v, want exactly %v", w.where, w.secrets, wanted)
			}
		}
	}
}

// selects reports whether a label selector selects the labels.
func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && !s.Empty() && s.Matches(k8slabels.Set(labels))
}

// TestDeployRolesAreWatchedAndGuarded checks, in every overlay, that each
// Deployment probes /healthz and /readyz on its metrics port and has a
// PodDisruptionBudget, a metrics Service and a NetworkPolicy of its own
// that let its metrics port in, that the reconcile CronJobs have their
// NetworkPolicy, and that a PodMonitor scrapes the metrics port.
func TestDeployRolesAreWatchedAndGuarded(t *testing.T) {
	tree := loadDeployTree(t)
	for _, b := range tree.installations(t) {
		own := func(labels map[string]string) *networkingv1.NetworkPolicy {
			for _, np := range b.networkPolicies {
				if len(np.Spec.Egress)+len(np.Spec.Ingress) > 0 && selects(&np.Spec.PodSelector, labels) {
					return np
				}
			}
			return nil
		}
		for _, w := range b.workloads(t, tree) {
			np := own(w.labels)
			if np == nil {
				t.Errorf("%s: no NetworkPolicy of its own", w.where)
			}
			if w.role == "reconcile" {
				continue
			}
			c := w.pod.Containers[0]
			for _, p := range []struct {
				name  string
				probe *corev1.Probe
				path  string
			}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
				if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "metrics" {
					t.Errorf("%s: %s probe is not GET %s on the metrics port", w.where, p.name, p.path)
				}
			}
			if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" && p.ContainerPort == 9090 }) {
				t.Errorf("%s: no metrics port 9090", w.where)
			}
			if !slices.ContainsFunc(b.pdbs, func(p *policyv1.PodDisruptionBudget) bool { return selects(p.Spec.Selector, w.labels) }) {
				t.Errorf("%s: no PodDisruptionBudget selects its pods", w.where)
			}
			if !slices.ContainsFunc(b.services, func(s *corev1.Service) bool {
				return len(s.Spec.Selector) > 0 && k8slabels.SelectorFromSet(s.Spec.Selector).Matches(k8slabels.Set(w.labels)) &&
					slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "metrics" })
			}) {
				t.Errorf("%s: no Service exposes its metrics port", w.where)
			}
			if np != nil && !slices.ContainsFunc(np.Spec.Ingress, func(r networkingv1.NetworkPolicyIngressRule) bool {
				return slices.ContainsFunc(r.Ports, func(p networkingv1.NetworkPolicyPort) bool { return p.Port != nil && p.Port.IntValue() == 9090 })
			}) {
				t.Errorf("%s: NetworkPolicy %s does not let the metrics port in", w.where, np.Name)
			}
			if !slices.ContainsFunc(b.podMonitors, func(m *monitoringv1.PodMonitor) bool {
				return selects(&m.Spec.Selector, w.labels) && slices.ContainsFunc(m.Spec.PodMetricsEndpoints, func(e monitoringv1.PodMetricsEndpoint) bool {
					return e.Port != nil && *e.Port == "metrics"
				})
			}) {
				t.Errorf("%s: no PodMonitor scrapes its metrics port", w.where)
			}
		}
	}
}

// TestDeployProducersFailOver checks, in every overlay, that each
// producer Deployment runs at least two replicas: each flow's lease lets
// one poll and the other take over.
func TestDeployProducersFailOver(t *testing.T) {
	tree := loadDeployTree(t)
	for _, b := range tree.installations(t) {
		for _, d := range b.deployments {
			if d.Labels[roleLabel] != "producer" {
				continue
			}
			if r := d.Spec.Replicas; r == nil || *r < 2 {
				t.Errorf("%s: Deployment %s: replicas below 2: a single producer leaves its flows unpolled while it restarts", b.dir, d.Name)
			}
		}
	}
}

// TestDeployPodsAreHardened checks, in every overlay, that ferry's pods
// run as non-root on a read-only root file system without capabilities,
// with resources bounded and time to drain on SIGTERM.
func TestDeployPodsAreHardened(t *testing.T) {
	tree := loadDeployTree(t)
	isTrue := func(b *bool) bool { return b != nil && *b }
	for _, b := range tree.installations(t) {
		for _, w := range b.workloads(t, tree) {
			pod := w.pod
			if g := pod.TerminationGracePeriodSeconds; g == nil || *g < 60 {
				t.Errorf("%s: terminationGracePeriodSeconds below 60 or unset: ferry drains on SIGTERM", w.where)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Errorf("%s: mounts a service account token ferry does not use", w.where)
			}
			for _, c := range pod.Containers {
				sc := c.SecurityContext
				if sc == nil {
					sc = &corev1.SecurityContext{}
				}
				nonRoot := sc.RunAsNonRoot
				if nonRoot == nil && pod.SecurityContext != nil {
					nonRoot = pod.SecurityContext.RunAsNonRoot
				}
				if !isTrue(nonRoot) {
					t.Errorf("%s: runAsNonRoot is not true", w.where)
				}
				if !isTrue(sc.ReadOnlyRootFilesystem) {
					t.Errorf("%s: readOnlyRootFilesystem is not true", w.where)
				}
				if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					t.Errorf("%s: allowPrivilegeEscalation is not false", w.where)
				}
				if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
					t.Errorf("%s: capabilities do not drop ALL", w.where)
				}
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
						t.Errorf("%s: no %s request", w.where, r)
					}
				}
				if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
					t.Errorf("%s: no memory limit", w.where)
				}
			}
		}
	}
}

// TestDeployScalersCoverFlows checks, in every overlay with KEDA, that
// each processor and sink Deployment is scaled on exactly its flows'
// groups and topics, up to the partitions ferry creates.
func TestDeployScalersCoverFlows(t *testing.T) {
	tree := loadDeployTree(t)
	scaled := 0
	for _, b := range tree.installations(t) {
		byTarget := map[string]*scaledObject{}
		for _, so := range b.scaledObjects {
			byTarget[so.Spec.ScaleTargetRef.Name] = so
			if !slices.ContainsFunc(b.deployments, func(d *appsv1.Deployment) bool { return d.Name == so.Spec.ScaleTargetRef.Name }) {
				t.Errorf("%s: ScaledObject %s scales %s, which is no Deployment", b.dir, so.Metadata.Name, so.Spec.ScaleTargetRef.Name)
			}
			if so.Spec.MaxReplicaCount > bus.DefaultPartitions {
				t.Errorf("%s: ScaledObject %s: maxReplicaCount %d, more than the %d partitions ferry creates", b.dir, so.Metadata.Name, so.Spec.MaxReplicaCount, bus.DefaultPartitions)
			}
		}
		if len(b.scaledObjects) == 0 {
			continue
		}
		for _, w := range b.workloads(t, tree) {
			if w.role != "processor" && w.role != "sink" {
				continue
			}
			scaled++
			so := byTarget[w.name]
			if so == nil {
				t.Errorf("%s: no ScaledObject", w.where)
				continue
			}
			want := map[string]string{}
			for _, f := range w.flows(t) {
				switch {
				case w.role == "processor":
					want[processors.Group(f)] = f.Source.Topic
				case f.Target.Kind != "topic":
					want[sinks.Group(f)] = f.CanonicalTopic()
				}
			}
			have := map[string]string{}
			for _, tr := range so.Spec.Triggers {
				if tr.Type != "kafka" || tr.Metadata["bootstrapServersFromEnv"] != "FERRY_KAFKA_BROKERS" {
					t.Errorf("%s: trigger %+v: want a kafka trigger reading FERRY_KAFKA_BROKERS", so.Metadata.Name, tr)
				}
				// A scaler reaches Kafka as the role does: with its SASL
				// user through a TriggerAuthentication of the build.
				switch {
				case w.cfg.Kafka.SASLMechanism == "" && tr.AuthenticationRef != nil:
					t.Errorf("%s: trigger authenticates, but the role does not", so.Metadata.Name)
				case w.cfg.Kafka.SASLMechanism != "" && (tr.AuthenticationRef == nil || tr.Metadata["sasl"] != kedaSASL[w.cfg.Kafka.SASLMechanism] ||
					!slices.ContainsFunc(b.triggerAuths, func(a *triggerAuthentication) bool { return a.Metadata.Name == tr.AuthenticationRef.Name })):
					t.Errorf("%s: trigger %+v: the role speaks SASL %s; want sasl in its metadata and an authenticationRef to a TriggerAuthentication of the build", so.Metadata.Name, tr, w.cfg.Kafka.SASLMechanism)
				case w.cfg.Kafka.TLS != (tr.Metadata["tls"] == "enable"):
					t.Errorf("%s: trigger %+v: TLS %v, but the role's is %v", so.Metadata.Name, tr, tr.Metadata["tls"] == "enable", w.cfg.Kafka.TLS)
				}
				have[tr.Metadata["consumerGroup"]] = tr.Metadata["topic"]
			}
			if !maps.Equal(have, want) {
				t.Errorf("%s: ScaledObject %s triggers on %v, want its flows' %v", w.where, so.Metadata.Name, have, want)
			}
		}
	}
	if scaled == 0 {
		t.Error("no overlay scales with KEDA")
	}
}

// TestDeployTopicsMatchFerry checks that the prod overlay defines, as
// Strimzi KafkaTopics, exactly the topics ferry topics lists with the
// settings the overlay gives ferry.
func TestDeployTopicsMatchFerry(t *testing.T) {
	b, err := buildDecoded("overlays/prod")
	if err != nil {
		t.Fatal(err)
	}
	var settings map[string]string
	for name, cm := range b.configMaps {
		if strings.HasPrefix(name, "ferry-") && cm.Data["FERRY_KAFKA_BROKERS"] != "" {
			settings = cm.Data
		}
	}
	cfg, err := parse([]string{"topics"}, func(k string) string { return settings[k] })
	if err != nil {
		t.Fatal(err)
	}
	fs, err := loadFlows(cfg, table)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]KafkaTopic{}
	for _, k := range b.kafkaTopics {
		spec := *k
		spec.Metadata.Namespace = ""
		have[k.Spec.TopicName] = spec
	}
	for _, topic := range allTopics(cfg, fs) {
		want := strimziTopic(topic, "kafka")
		got, ok := have[topic.Name]
		if !ok {
			t.Errorf("no KafkaTopic for %s", topic.Name)
			continue
		}
		delete(have, topic.Name)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("KafkaTopic %s:\n%+v\nwant, as ferry topics says with the overlay's settings:\n%+v", topic.Name, got, want)
		}
	}
	for name := range have {
		t.Errorf("KafkaTopic for %s, a topic ferry does not use", name)
	}
}

// metricNames returns the metric names a PromQL expression selects.
func metricNames(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs.Name)
		}
		return nil
	})
	return out, nil
}

// catalogued reports whether a series name is one of the catalog's, or a
// histogram's series of one.
func catalogued(name string) bool {
	for _, m := range telemetry.Catalog {
		if name == m.Name {
			return true
		}
		if m.Type == "histogram" {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				if name == m.Name+s {
					return true
				}
			}
		}
	}
	return false
}

// TestDeployAlertsAndDashboardNameRealMetrics parses every alert rule and
// every dashboard query with Prometheus' own PromQL parser and fails on a
// metric that ferry does not export; each alert must have a summary and a
// runbook in deploy/README.md.
func TestDeployAlertsAndDashboardNameRealMetrics(t *testing.T) {
	b, err := buildDecoded("base")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(deployDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(where, expr string) {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
		}
		if len(names) == 0 {
			t.Errorf("%s: selects no metric", where)
		}
		for _, n := range names {
			if !catalogued(n) {
				t.Errorf("%s: metric %s is not one ferry exports", where, n)
			}
		}
	}
	alerts := 0
	for _, pr := range b.prometheusRules {
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				alerts++
				where := "alert " + r.Alert
				check(where, r.Expr.String())
				if r.Annotations["summary"] == "" {
					t.Errorf("%s: no summary", where)
				}
				anchor := "#" + strings.ToLower(r.Alert)
				if !strings.HasSuffix(r.Annotations["runbook_url"], "deploy/README.md"+anchor) {
					t.Errorf("%s: runbook_url %q does not point to deploy/README.md%s", where, r.Annotations["runbook_url"], anchor)
				}
				if !strings.Contains(string(readme), "\n### "+r.Alert+"\n") {
					t.Errorf("%s: deploy/README.md has no runbook section ### %s", where, r.Alert)
				}
			}
		}
	}
	if alerts < 7 {
		t.Errorf("%d alerts, want the seven of the issue", alerts)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	cm := b.configMaps
	var raw string
	for name, c := range cm {
		if strings.HasPrefix(name, "ferry-dashboard") {
			raw = c.Data["ferry.json"]
		}
	}
	if err := json.Unmarshal([]byte(raw), &dash); err != nil || len(dash.Panels) == 0 {
		t.Fatalf("the dashboard ConfigMap holds no dashboard: %v", err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			check("dashboard panel "+p.Title, tg.Expr)
		}
	}
}

// kedaSASL names ferry's SASL mechanisms as KEDA's kafka scaler does.
var kedaSASL = map[string]string{"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}
