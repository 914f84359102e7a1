package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/sinks"
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

// deployBuild is one kustomization's build, decoded.
type deployBuild struct {
	dir         string
	deployments []*appsv1.Deployment
	configMaps  map[string]*corev1.ConfigMap
	kinds       []string // every resource, as Kind/name
}

// builds builds every kustomization but the components, which are built
// as part of the overlays that include them.
func (tree *deployTree) builds(t *testing.T) []deployBuild {
	t.Helper()
	var out []deployBuild
	for _, dir := range tree.dirs() {
		if tree.kustomizations[dir].Kind == types.ComponentKind {
			continue
		}
		m, err := build(dir)
		if err != nil {
			t.Errorf("kustomize build %s: %v", dir, err)
			continue
		}
		b := deployBuild{dir: dir, configMaps: map[string]*corev1.ConfigMap{}}
		for _, r := range m.Resources() {
			b.kinds = append(b.kinds, r.GetKind()+"/"+r.GetName())
			obj, err := r.Map()
			if err != nil {
				t.Fatal(err)
			}
			switch r.GetKind() {
			case "Deployment":
				var d appsv1.Deployment
				if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj, &d, true); err != nil {
					t.Errorf("%s: Deployment %s: %v", dir, r.GetName(), err)
					continue
				}
				b.deployments = append(b.deployments, &d)
			case "ConfigMap":
				var cm corev1.ConfigMap
				if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj, &cm, true); err != nil {
					t.Errorf("%s: ConfigMap %s: %v", dir, r.GetName(), err)
					continue
				}
				b.configMaps[cm.Name] = &cm
			}
		}
		out = append(out, b)
	}
	return out
}

func isExample(file string) bool {
	return strings.HasSuffix(file, ".example.yaml") || strings.HasSuffix(file, ".example.yml")
}

// TestDeployKustomizationFilesExist checks that every kustomization builds
// (a file or folder it names that does not exist fails the build), that
// none names a remote resource, and that every YAML file under deploy/ is
// used: a resource or a patch of a kustomization, or an example
// (*.example.yaml) that no kustomization applies.
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
		for _, g := range k.ConfigMapGenerator {
			files = append(files, slices.Concat(g.FileSources, g.EnvSources)...)
		}
		for _, g := range k.SecretGenerator {
			files = append(files, slices.Concat(g.FileSources, g.EnvSources)...)
		}
		for _, f := range files {
			if f != "" {
				used[path.Join(dir, f)] = kf
			}
		}
	}
	for _, dir := range tree.dirs() {
		if tree.kustomizations[dir].Kind == types.ComponentKind {
			continue
		}
		if _, err := build(dir); err != nil {
			t.Errorf("kustomize build %s: %v", dir, err)
		}
	}
	for _, f := range tree.yamlFiles {
		kf, ok := used[f]
		switch {
		case isExample(f) && ok:
			t.Errorf("%s applies the example %s: examples are documentation and must never be applied", kf, f)
		case !isExample(f) && !ok:
			t.Errorf("%s is in no kustomization's resources or patches: list it, or name it *.example.yaml if it only documents", f)
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
			if len(g.LiteralSources) > 0 {
				t.Errorf("%s/kustomization.yaml: secretGenerator %s has literals: credentials committed to the repository; read them from a file users create (envs: or files:) or create the Secret by hand", dir, g.Name)
			}
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

// TestDeployDeploymentsMatchBinary checks, in every kustomization's build,
// that each role has a Deployment and that each Deployment's container
// runs ferry as its role, with args and an environment ferry accepts.
func TestDeployDeploymentsMatchBinary(t *testing.T) {
	tree := loadDeployTree(t)
	for _, b := range tree.builds(t) {
		found := map[string]bool{}
		for _, d := range b.deployments {
			where := b.dir + ": Deployment " + d.Name
			role := d.Labels[roleLabel]
			if !slices.Contains(roles, role) {
				t.Errorf("%s: label %s is %q, want one of %v", where, roleLabel, role, roles)
				continue
			}
			found[role] = true
			if len(d.Spec.Template.Spec.Containers) == 0 {
				t.Errorf("%s: no container", where)
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				name, _, _ := strings.Cut(c.Image, ":")
				if path.Base(name) != "ferry" {
					t.Errorf("%s: container %s runs image %q, want the ferry image", where, c.Name, c.Image)
				}
				if len(c.Command) > 0 && !slices.Equal(c.Command, []string{"/ferry"}) {
					t.Errorf("%s: container %s sets command %q; leave it to the image's ENTRYPOINT /ferry", where, c.Name, c.Command)
				}
				env, problems := ferryEnv(b, tree.secrets, c)
				for _, p := range problems {
					t.Errorf("%s: container %s: %s", where, c.Name, p)
				}
				cfg, err := parse(c.Args, func(k string) string { return env[k] })
				if err != nil {
					t.Errorf("%s: container %s: ferry refuses args %q: %v", where, c.Name, c.Args, err)
					continue
				}
				if cfg.Command != role {
					t.Errorf("%s: container %s runs ferry %s, but the Deployment's role is %s", where, c.Name, cfg.Command, role)
				}
				if cfg.FlowDir == "" {
					if _, err := loadFlows(cfg, table); err != nil {
						t.Errorf("%s: container %s: %v", where, c.Name, err)
					}
				}
			}
		}
		for _, role := range roles {
			if !found[role] {
				t.Errorf("%s: no Deployment with label %s=%s", b.dir, roleLabel, role)
			}
		}
	}
}

// ferryEnv assembles the environment a container starts with: envFrom
// first, then env, as Kubernetes does. ConfigMap values come from the
// build, Secret values from the Secret documented under deploy/ (its
// example values are placeholders). It reports every variable name that
// ferry does not read, and every reference it cannot resolve.
func ferryEnv(b deployBuild, secrets map[string]*corev1.Secret, c corev1.Container) (map[string]string, []string) {
	env := map[string]string{}
	var problems []string
	secret := func(name string) map[string]string {
		s := secrets[name]
		if s == nil {
			return nil
		}
		out := map[string]string{}
		for k, v := range s.Data {
			out[k] = string(v)
		}
		for k, v := range s.StringData {
			out[k] = v
		}
		for k, v := range out {
			if v == "" {
				out[k] = "placeholder"
			}
		}
		return out
	}
	configMap := func(name string) map[string]string {
		if cm := b.configMaps[name]; cm != nil {
			return cm.Data
		}
		return nil
	}
	set := func(name, value string) {
		if !slices.Contains(Env, name) {
			problems = append(problems, fmt.Sprintf("environment variable %s is not one ferry reads (%v)", name, Env))
		}
		env[name] = value
	}
	for _, ef := range c.EnvFrom {
		var data map[string]string
		switch {
		case ef.ConfigMapRef != nil:
			if data = configMap(ef.ConfigMapRef.Name); data == nil {
				problems = append(problems, fmt.Sprintf("envFrom: no ConfigMap %s in the build", ef.ConfigMapRef.Name))
			}
		case ef.SecretRef != nil:
			if data = secret(ef.SecretRef.Name); data == nil {
				problems = append(problems, fmt.Sprintf("envFrom: Secret %s is documented by no Secret example under deploy/", ef.SecretRef.Name))
			}
		}
		for k, v := range data {
			set(ef.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		switch {
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
			v, ok := secret(r.Name)[r.Key]
			if !ok {
				problems = append(problems, fmt.Sprintf("env %s: key %s of Secret %s is documented by no Secret example under deploy/", e.Name, r.Key, r.Name))
			}
			set(e.Name, v)
		default:
			set(e.Name, "placeholder")
		}
	}
	return env, problems
}

// TestDeployProducersFailOver checks, in every kustomization's build, that
// each producer Deployment runs at least two replicas: each flow's lease
// lets one poll and the other take over.
func TestDeployProducersFailOver(t *testing.T) {
	tree := loadDeployTree(t)
	for _, b := range tree.builds(t) {
		producers := 0
		for _, d := range b.deployments {
			if d.Labels[roleLabel] != "producer" {
				continue
			}
			producers++
			if r := d.Spec.Replicas; r == nil || *r < 2 {
				got := "unset"
				if r != nil {
					got = fmt.Sprint(*r)
				}
				t.Errorf("%s: Deployment %s: replicas %s, want 2 or more: a single producer leaves its flows unpolled while it restarts", b.dir, d.Name, got)
			}
		}
		if producers == 0 {
			t.Errorf("%s: no producer Deployment", b.dir)
		}
	}
}

// TestDeployPodsAreHardened checks, in every kustomization's build, that
// ferry's pods run as non-root on a read-only root file system without
// capabilities, with resources bounded and time to drain on SIGTERM.
func TestDeployPodsAreHardened(t *testing.T) {
	tree := loadDeployTree(t)
	isTrue := func(b *bool) bool { return b != nil && *b }
	for _, b := range tree.builds(t) {
		for _, d := range b.deployments {
			where := b.dir + ": Deployment " + d.Name
			pod := d.Spec.Template.Spec
			if g := pod.TerminationGracePeriodSeconds; g == nil || *g < 60 {
				t.Errorf("%s: terminationGracePeriodSeconds below 60 or unset: ferry drains on SIGTERM", where)
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
					t.Errorf("%s: container %s: runAsNonRoot is not true", where, c.Name)
				}
				if !isTrue(sc.ReadOnlyRootFilesystem) {
					t.Errorf("%s: container %s: readOnlyRootFilesystem is not true", where, c.Name)
				}
				if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					t.Errorf("%s: container %s: allowPrivilegeEscalation is not false", where, c.Name)
				}
				if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
					t.Errorf("%s: container %s: capabilities do not drop ALL", where, c.Name)
				}
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
						t.Errorf("%s: container %s: no %s request", where, c.Name, r)
					}
				}
				if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
					t.Errorf("%s: container %s: no memory limit", where, c.Name)
				}
			}
		}
	}
}

// TestDeployScalersCoverFlows checks that KEDA scales the processors on
// every shipped flow's processor group and raw topic, and the sinks on
// every flow's sink group and canonical topic, up to the partitions ferry
// creates.
func TestDeployScalersCoverFlows(t *testing.T) {
	fs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file  string
		want  func(*flows.Flow) (group, topic string, ok bool)
		label string
	}{
		{"processor-scaler.yaml", func(f *flows.Flow) (string, string, bool) {
			return processors.Group(f), f.Source.Topic, true
		}, "processor"},
		{"sink-scaler.yaml", func(f *flows.Flow) (string, string, bool) {
			return sinks.Group(f), f.CanonicalTopic(), f.Target.Kind != "topic"
		}, "sink"},
	} {
		data, err := os.ReadFile(filepath.Join(deployDir, "components", "keda", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		// KEDA's ScaledObject, as far as the test reads it (KEDA's Go
		// types would bring its whole operator along).
		var so struct {
			Spec struct {
				MaxReplicaCount int `json:"maxReplicaCount"`
				Triggers        []struct {
					Type     string            `json:"type"`
					Metadata map[string]string `json:"metadata"`
				} `json:"triggers"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(data, &so); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if so.Spec.MaxReplicaCount > bus.DefaultPartitions {
			t.Errorf("%s: maxReplicaCount %d, more than the %d partitions ferry creates", tc.file, so.Spec.MaxReplicaCount, bus.DefaultPartitions)
		}
		have := map[string]string{}
		for _, tr := range so.Spec.Triggers {
			if tr.Type != "kafka" || tr.Metadata["bootstrapServersFromEnv"] != "FERRY_KAFKA_BROKERS" {
				t.Errorf("%s: trigger %+v: want a kafka trigger reading FERRY_KAFKA_BROKERS", tc.file, tr)
			}
			have[tr.Metadata["consumerGroup"]] = tr.Metadata["topic"]
		}
		for _, f := range fs {
			group, topic, ok := tc.want(f)
			if !ok {
				continue
			}
			if have[group] != topic {
				t.Errorf("%s: no trigger for flow %s's %s group %s on %s", tc.file, f.Name, tc.label, group, topic)
			}
			delete(have, group)
		}
		for group := range have {
			t.Errorf("%s: trigger for group %s, which no shipped flow has", tc.file, group)
		}
	}
}
