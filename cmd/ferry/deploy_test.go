package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/sinks"
)

// The TestDeploy tests read the Kubernetes manifests under deploy/ and
// check them against this binary: every Deployment's args parse with
// ferry's own parse, in the environment the manifests give it, as the
// Deployment's role; every variable fed to ferry is one it reads; the
// producers fail over; the KEDA triggers cover every flow; the pods stay
// hardened; and the kustomizations
// refer to files that exist.
//
// Overlays are checked as built: the tests apply their strategic-merge
// patch files, replicas and images themselves (only the fields checked
// here), and TestDeployKustomizeBuild builds them with kubectl's own
// kustomize where kubectl is installed.

// deployDir is deploy/, seen from cmd/ferry.
const deployDir = "../../deploy"

// roleLabel names a Deployment's role.
const roleLabel = "app.kubernetes.io/component"

// kobject is one YAML document of a manifest, with the fields the tests
// read.
type kobject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	// Data and StringData are a ConfigMap's or a Secret's.
	Data       map[string]any    `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       yaml.Node         `yaml:"spec"`

	// deploy is Spec decoded, for a Deployment.
	deploy *kdeployment
	// from names the files the object was read from, then patched by.
	from []string
}

type kdeployment struct {
	Replicas *int `yaml:"replicas"`
	Strategy struct {
		Type string `yaml:"type"`
	} `yaml:"strategy"`
	Template struct {
		Spec kpod `yaml:"spec"`
	} `yaml:"template"`
}

type kpod struct {
	TerminationGracePeriodSeconds *int64       `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               *ksecurity   `yaml:"securityContext"`
	Containers                    []kcontainer `yaml:"containers"`
}

type kcontainer struct {
	Name            string     `yaml:"name"`
	Image           string     `yaml:"image"`
	Command         []string   `yaml:"command"`
	Args            []string   `yaml:"args"`
	Env             []kenv     `yaml:"env"`
	EnvFrom         []kenvFrom `yaml:"envFrom"`
	SecurityContext *ksecurity `yaml:"securityContext"`
	Resources       struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type kenv struct {
	Name      string  `yaml:"name"`
	Value     *string `yaml:"value"`
	ValueFrom *struct {
		ConfigMapKeyRef *kref `yaml:"configMapKeyRef"`
		SecretKeyRef    *kref `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type kenvFrom struct {
	Prefix       string `yaml:"prefix"`
	ConfigMapRef *kref  `yaml:"configMapRef"`
	SecretRef    *kref  `yaml:"secretRef"`
}

type kref struct {
	Name     string `yaml:"name"`
	Key      string `yaml:"key"`
	Optional *bool  `yaml:"optional"`
}

type ksecurity struct {
	RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
	ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	Capabilities             *struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

// kustomization is a kustomization.yaml, with the fields the tests read.
type kustomization struct {
	// Kind is Kustomization, or Component for a part that overlays
	// include (and are built with).
	Kind                  string   `yaml:"kind"`
	Resources             []string `yaml:"resources"`
	Components            []string `yaml:"components"`
	PatchesStrategicMerge []string `yaml:"patchesStrategicMerge"`
	Patches               []struct {
		Path   string `yaml:"path"`
		Patch  string `yaml:"patch"`
		Target *struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"target"`
	} `yaml:"patches"`
	Replicas []struct {
		Name  string `yaml:"name"`
		Count int    `yaml:"count"`
	} `yaml:"replicas"`
	SecretGenerator []struct {
		Name     string   `yaml:"name"`
		Literals []string `yaml:"literals"`
	} `yaml:"secretGenerator"`
	Images []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
		Digest  string `yaml:"digest"`
	} `yaml:"images"`

	// dir is the kustomization's folder, relative to deploy/.
	dir string
}

// patchFiles are the files a kustomization applies as patches.
func (k *kustomization) patchFiles() []string {
	out := slices.Clone(k.PatchesStrategicMerge)
	for _, p := range k.Patches {
		if p.Path != "" {
			out = append(out, p.Path)
		}
	}
	return out
}

// readDocs reads every YAML document of a file under deploy/ (rel is
// slash-separated, relative to deploy/).
func readDocs(rel string) ([]*kobject, error) {
	data, err := os.ReadFile(filepath.Join(deployDir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	return decodeDocs(rel, data)
}

// decodeDocs decodes a multi-document YAML stream; name names it in
// errors.
func decodeDocs(name string, data []byte) ([]*kobject, error) {
	var out []*kobject
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(n.Content) == 0 || n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null" {
			continue // an empty document, as after a trailing ---
		}
		if n.Content[0].Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: document %d is not an object (a JSON 6902 patch? write a strategic-merge patch, which these tests understand)", name, i+1)
		}
		o := &kobject{from: []string{name}}
		if err := n.Decode(o); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		if o.Kind == "Deployment" {
			o.deploy = &kdeployment{}
			if err := o.Spec.Decode(o.deploy); err != nil {
				return nil, fmt.Errorf("%s: Deployment %s: %w", name, o.Metadata.Name, err)
			}
		}
		out = append(out, o)
	}
}

// deployTree is everything under deploy/.
type deployTree struct {
	// yamlFiles are the YAML files, slash-separated relative to deploy/.
	yamlFiles []string
	// kustomizations by folder.
	kustomizations map[string]*kustomization
	// secrets are the Secret documents anywhere under deploy/, by name:
	// the examples that document the Secrets the Deployments read.
	secrets map[string]*kobject
	// secretDocs are all of them, even two of one name.
	secretDocs []*kobject
}

func isKustomizationFile(name string) bool {
	return name == "kustomization.yaml" || name == "kustomization.yml" || name == "Kustomization"
}

func loadDeployTree(t *testing.T) *deployTree {
	t.Helper()
	tree := &deployTree{kustomizations: map[string]*kustomization{}, secrets: map[string]*kobject{}}
	err := filepath.WalkDir(deployDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(deployDir, p)
		rel = filepath.ToSlash(rel)
		if isKustomizationFile(d.Name()) {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			k := &kustomization{dir: path.Dir(rel)}
			if err := yaml.Unmarshal(data, k); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			tree.kustomizations[k.dir] = k
			return nil
		}
		if ext := path.Ext(rel); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		tree.yamlFiles = append(tree.yamlFiles, rel)
		docs, err := readDocs(rel)
		if err != nil {
			return err
		}
		for _, o := range docs {
			if o.Kind == "Secret" {
				tree.secrets[o.Metadata.Name] = o
				tree.secretDocs = append(tree.secretDocs, o)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.kustomizations) == 0 {
		t.Fatalf("no kustomization under %s", deployDir)
	}
	return tree
}

// dirs are the kustomization folders, sorted.
func (tree *deployTree) dirs() []string {
	var out []string
	for d := range tree.kustomizations {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// build assembles what kustomize would make of the kustomization in dir,
// as far as the tests look: its resources (recursively), then its
// strategic-merge patches, replicas and images.
func (tree *deployTree) build(dir string) ([]*kobject, error) {
	k, ok := tree.kustomizations[dir]
	if !ok {
		return nil, fmt.Errorf("%s: no kustomization", dir)
	}
	var objs []*kobject
	for _, r := range k.Resources {
		rel := path.Join(dir, r)
		if _, ok := tree.kustomizations[rel]; ok {
			sub, err := tree.build(rel)
			if err != nil {
				return nil, err
			}
			objs = append(objs, sub...)
			continue
		}
		docs, err := readDocs(rel)
		if err != nil {
			return nil, fmt.Errorf("%s/kustomization.yaml: resource %s: %w", dir, r, err)
		}
		objs = append(objs, docs...)
	}
	for _, p := range k.Patches {
		if p.Patch != "" {
			return nil, fmt.Errorf("%s/kustomization.yaml: inline patch: write it as a strategic-merge patch file, so that the TestDeploy tests can check it", dir)
		}
	}
	for _, pf := range k.patchFiles() {
		rel := path.Join(dir, pf)
		patches, err := readDocs(rel)
		if err != nil {
			return nil, err
		}
		for _, p := range patches {
			if err := applyPatch(objs, p); err != nil {
				return nil, fmt.Errorf("%s: %w", rel, err)
			}
		}
	}
	for _, r := range k.Replicas {
		d := find(objs, "Deployment", r.Name)
		if d == nil {
			return nil, fmt.Errorf("%s/kustomization.yaml: replicas: no Deployment %s", dir, r.Name)
		}
		d.deploy.Replicas = &r.Count
		d.from = append(d.from, dir+"/kustomization.yaml (replicas)")
	}
	for _, im := range k.Images {
		matched := false
		for _, o := range objs {
			if o.deploy == nil {
				continue
			}
			for i := range o.deploy.Template.Spec.Containers {
				c := &o.deploy.Template.Spec.Containers[i]
				name, tag := splitImage(c.Image)
				if name != im.Name {
					continue
				}
				matched = true
				if im.NewName != "" {
					name = im.NewName
				}
				if im.NewTag != "" {
					tag = ":" + im.NewTag
				}
				if im.Digest != "" {
					tag = "@" + im.Digest
				}
				c.Image = name + tag
			}
		}
		if !matched {
			return nil, fmt.Errorf("%s/kustomization.yaml: images: %q is the image of no container, so kustomize would leave the images as they are", dir, im.Name)
		}
	}
	return objs, nil
}

// splitImage splits an image reference into its name and its ":tag" or
// "@digest".
func splitImage(ref string) (name, tag string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], ref[i:]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i:]
	}
	return ref, ""
}

func find(objs []*kobject, kind, name string) *kobject {
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	return nil
}

// applyPatch merges a strategic-merge patch into the object it names, for
// the fields the tests read.
func applyPatch(objs []*kobject, p *kobject) error {
	dst := find(objs, p.Kind, p.Metadata.Name)
	if dst == nil {
		return fmt.Errorf("patch of %s %s, which no resource defines", p.Kind, p.Metadata.Name)
	}
	dst.from = append(dst.from, p.from...)
	for k, v := range p.Metadata.Labels {
		if dst.Metadata.Labels == nil {
			dst.Metadata.Labels = map[string]string{}
		}
		dst.Metadata.Labels[k] = v
	}
	switch p.Kind {
	case "ConfigMap":
		for k, v := range p.Data {
			if dst.Data == nil {
				dst.Data = map[string]any{}
			}
			dst.Data[k] = v
		}
	case "Deployment":
		d, s := dst.deploy, p.deploy
		if s.Replicas != nil {
			d.Replicas = s.Replicas
		}
		if s.Strategy.Type != "" {
			d.Strategy.Type = s.Strategy.Type
		}
		dp, sp := &d.Template.Spec, &s.Template.Spec
		if sp.TerminationGracePeriodSeconds != nil {
			dp.TerminationGracePeriodSeconds = sp.TerminationGracePeriodSeconds
		}
		dp.SecurityContext = mergeSecurity(dp.SecurityContext, sp.SecurityContext)
		for _, sc := range sp.Containers {
			i := slices.IndexFunc(dp.Containers, func(c kcontainer) bool { return c.Name == sc.Name })
			if i < 0 {
				dp.Containers = append(dp.Containers, sc)
				continue
			}
			dc := &dp.Containers[i]
			if sc.Image != "" {
				dc.Image = sc.Image
			}
			if sc.Command != nil {
				dc.Command = sc.Command
			}
			if sc.Args != nil {
				dc.Args = sc.Args
			}
			if sc.EnvFrom != nil {
				dc.EnvFrom = sc.EnvFrom
			}
			for _, e := range sc.Env {
				if j := slices.IndexFunc(dc.Env, func(x kenv) bool { return x.Name == e.Name }); j >= 0 {
					dc.Env[j] = e
				} else {
					dc.Env = append(dc.Env, e)
				}
			}
			dc.SecurityContext = mergeSecurity(dc.SecurityContext, sc.SecurityContext)
			for k, v := range sc.Resources.Requests {
				if dc.Resources.Requests == nil {
					dc.Resources.Requests = map[string]string{}
				}
				dc.Resources.Requests[k] = v
			}
			for k, v := range sc.Resources.Limits {
				if dc.Resources.Limits == nil {
					dc.Resources.Limits = map[string]string{}
				}
				dc.Resources.Limits[k] = v
			}
		}
	default:
		return fmt.Errorf("patch of a %s: the TestDeploy tests merge patches of ConfigMaps and Deployments only; teach applyPatch the kind", p.Kind)
	}
	return nil
}

func mergeSecurity(dst, src *ksecurity) *ksecurity {
	if src == nil {
		return dst
	}
	if dst == nil {
		return src
	}
	out := *dst
	if src.RunAsNonRoot != nil {
		out.RunAsNonRoot = src.RunAsNonRoot
	}
	if src.ReadOnlyRootFilesystem != nil {
		out.ReadOnlyRootFilesystem = src.ReadOnlyRootFilesystem
	}
	if src.AllowPrivilegeEscalation != nil {
		out.AllowPrivilegeEscalation = src.AllowPrivilegeEscalation
	}
	if src.Capabilities != nil {
		out.Capabilities = src.Capabilities
	}
	return &out
}

// where names an object for errors.
func (o *kobject) where() string {
	return fmt.Sprintf("%s %s (%s)", o.Kind, o.Metadata.Name, strings.Join(o.from, ", patched by "))
}

// TestDeployKustomizationFilesExist checks that every file or folder a
// kustomization names exists, and that every YAML file under deploy/ is
// used: a kustomization, a resource or a patch of one, or an example
// (*.example.yaml) that no kustomization applies.
func TestDeployKustomizationFilesExist(t *testing.T) {
	tree := loadDeployTree(t)
	used := map[string]string{}
	for _, dir := range tree.dirs() {
		k := tree.kustomizations[dir]
		kf := dir + "/kustomization.yaml"
		for _, r := range slices.Concat(k.Resources, k.Components) {
			if strings.Contains(r, "://") {
				t.Errorf("%s: remote resource %s: keep deploy/ self-contained", kf, r)
				continue
			}
			rel := path.Join(dir, r)
			fi, err := os.Stat(filepath.Join(deployDir, filepath.FromSlash(rel)))
			switch {
			case err != nil:
				t.Errorf("%s: resource %s does not exist: %v", kf, r, err)
			case fi.IsDir():
				if _, ok := tree.kustomizations[rel]; !ok {
					t.Errorf("%s: resource %s is a folder without a kustomization.yaml", kf, r)
				}
			default:
				used[rel] = kf
			}
		}
		for _, p := range k.patchFiles() {
			rel := path.Join(dir, p)
			if _, err := os.Stat(filepath.Join(deployDir, filepath.FromSlash(rel))); err != nil {
				t.Errorf("%s: patch %s does not exist: %v", kf, p, err)
			}
			used[rel] = kf
		}
	}
	for _, f := range tree.yamlFiles {
		kf, ok := used[f]
		example := strings.HasSuffix(f, ".example.yaml") || strings.HasSuffix(f, ".example.yml")
		switch {
		case example && ok:
			t.Errorf("%s applies the example %s: examples are documentation and must never be applied", kf, f)
		case !example && !ok:
			t.Errorf("%s is in no kustomization's resources or patches: list it, or name it *.example.yaml if it only documents", f)
		}
	}
}

// TestDeploySecretsAreExamplesOnly checks that no Secret is applied by a
// kustomization: real credentials never go into the repository, and the
// Secrets under deploy/ only document what must exist.
func TestDeploySecretsAreExamplesOnly(t *testing.T) {
	tree := loadDeployTree(t)
	for _, s := range tree.secretDocs {
		if f := s.from[0]; !strings.HasSuffix(f, ".example.yaml") && !strings.HasSuffix(f, ".example.yml") {
			t.Errorf("%s: a Secret outside a *.example.yaml file; keep credentials out of the repository", s.where())
		}
	}
	for _, dir := range tree.dirs() {
		for _, g := range tree.kustomizations[dir].SecretGenerator {
			if len(g.Literals) > 0 {
				t.Errorf("%s/kustomization.yaml: secretGenerator %s has literals: credentials committed to the repository; read them from a file users create (envs: or files:) or create the Secret by hand", dir, g.Name)
			}
		}
	}
	for _, dir := range tree.dirs() {
		if tree.kustomizations[dir].Kind == "Component" {
			continue // built as part of the overlays that include it
		}
		objs, err := tree.build(dir)
		if err != nil {
			continue // reported by the tests of the Deployments
		}
		for _, o := range objs {
			if o.Kind == "Secret" {
				t.Errorf("%s: kustomization %s applies a Secret; create Secrets by hand (see deploy/README.md)", o.where(), dir)
			}
		}
	}
}

// builds returns every kustomization's build, in the order of their
// folders.
func (tree *deployTree) builds(t *testing.T) []deployBuild {
	t.Helper()
	var out []deployBuild
	for _, dir := range tree.dirs() {
		if tree.kustomizations[dir].Kind == "Component" {
			continue // built as part of the overlays that include it
		}
		objs, err := tree.build(dir)
		if err != nil {
			t.Errorf("build %s: %v", dir, err)
			continue
		}
		out = append(out, deployBuild{dir, objs})
	}
	return out
}

// deployBuild is one kustomization's build.
type deployBuild struct {
	dir  string
	objs []*kobject
}

// TestDeployDeploymentsMatchBinary checks, in every kustomization's build,
// that each role has a Deployment and that each Deployment's container
// runs ferry as its role, with args and an environment ferry accepts.
func TestDeployDeploymentsMatchBinary(t *testing.T) {
	tree := loadDeployTree(t)
	for _, b := range tree.builds(t) {
		checkDeploymentsMatchBinary(t, b.dir, b.objs, tree.secrets)
	}
}

// TestDeployProducersFailOver checks, in every kustomization's build, that
// each producer Deployment runs at least two replicas: each flow's lease
// lets one poll and the other take over.
func TestDeployProducersFailOver(t *testing.T) {
	tree := loadDeployTree(t)
	for _, b := range tree.builds(t) {
		checkProducersFailOver(t, b.dir, b.objs)
	}
}

// TestDeployPodsAreHardened checks, in every kustomization's build, that
// ferry's pods run as non-root on a read-only root file system without
// capabilities, with resources bounded and time to drain on SIGTERM.
func TestDeployPodsAreHardened(t *testing.T) {
	tree := loadDeployTree(t)
	for _, b := range tree.builds(t) {
		checkPodsAreHardened(t, b.dir, b.objs)
	}
}

var roles = []string{"producer", "processor", "sink"}

// deployments returns a build's Deployments.
func deployments(objs []*kobject) []*kobject {
	var out []*kobject
	for _, o := range objs {
		if o.Kind == "Deployment" {
			out = append(out, o)
		}
	}
	return out
}

// ferryEnv assembles the environment a container starts with: envFrom
// first, then env, as Kubernetes does. ConfigMap values come from the
// build, Secret values from the Secret documented under deploy/ (its
// example values are placeholders). It reports every variable name that
// ferry does not read, and every reference it cannot resolve.
func ferryEnv(objs []*kobject, secrets map[string]*kobject, c kcontainer) (map[string]string, []string) {
	env := map[string]string{}
	var problems []string
	configMap := func(name string) map[string]string {
		cm := find(objs, "ConfigMap", name)
		if cm == nil {
			return nil
		}
		out := map[string]string{}
		for k, v := range cm.Data {
			s, ok := v.(string)
			if !ok {
				problems = append(problems, fmt.Sprintf("ConfigMap %s: %s: %v is a YAML %T, not a string; quote it", name, k, v, v))
			}
			out[k] = s
		}
		return out
	}
	secret := func(name string) map[string]string {
		s := secrets[name]
		if s == nil {
			return nil
		}
		out := map[string]string{}
		for k, v := range s.Data {
			b, _ := base64.StdEncoding.DecodeString(fmt.Sprint(v))
			out[k] = string(b)
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
		case e.Value != nil:
			set(e.Name, *e.Value)
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			r := e.ValueFrom.ConfigMapKeyRef
			v, ok := configMap(r.Name)[r.Key]
			if !ok {
				problems = append(problems, fmt.Sprintf("env %s: no key %s in ConfigMap %s", e.Name, r.Key, r.Name))
			}
			set(e.Name, v)
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
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

// parseContainer parses a container's args as ferry would, in the
// environment the manifests give it.
func parseContainer(objs []*kobject, secrets map[string]*kobject, c kcontainer) (Config, []string, error) {
	env, problems := ferryEnv(objs, secrets, c)
	cfg, err := parse(c.Args, func(k string) string { return env[k] })
	return cfg, problems, err
}

func checkDeploymentsMatchBinary(t *testing.T, build string, objs []*kobject, secrets map[string]*kobject) {
	t.Helper()
	found := map[string]bool{}
	for _, d := range deployments(objs) {
		role := d.Metadata.Labels[roleLabel]
		if !slices.Contains(roles, role) {
			t.Errorf("%s: %s: label %s is %q, want one of %v", build, d.where(), roleLabel, role, roles)
			continue
		}
		found[role] = true
		cs := d.deploy.Template.Spec.Containers
		if len(cs) == 0 {
			t.Errorf("%s: %s: no container", build, d.where())
		}
		for _, c := range cs {
			if name, _ := splitImage(c.Image); path.Base(name) != "ferry" {
				t.Errorf("%s: %s: container %s runs image %q, want the ferry image", build, d.where(), c.Name, c.Image)
			}
			if len(c.Command) > 0 && !slices.Equal(c.Command, []string{"/ferry"}) {
				t.Errorf("%s: %s: container %s sets command %q; leave it to the image's ENTRYPOINT /ferry", build, d.where(), c.Name, c.Command)
			}
			cfg, problems, err := parseContainer(objs, secrets, c)
			for _, p := range problems {
				t.Errorf("%s: %s: container %s: %s", build, d.where(), c.Name, p)
			}
			if err != nil {
				t.Errorf("%s: %s: container %s: ferry refuses args %q: %v", build, d.where(), c.Name, c.Args, err)
				continue
			}
			if cfg.Command != role {
				t.Errorf("%s: %s: container %s runs ferry %s, but the Deployment's role is %s", build, d.where(), c.Name, cfg.Command, role)
			}
			if cfg.FlowDir == "" {
				if _, err := loadFlows(cfg, table); err != nil {
					t.Errorf("%s: %s: container %s: %v", build, d.where(), c.Name, err)
				}
			}
		}
	}
	for _, role := range roles {
		if !found[role] {
			t.Errorf("%s: no Deployment with label %s=%s", build, roleLabel, role)
		}
	}
}

func checkProducersFailOver(t *testing.T, build string, objs []*kobject) {
	t.Helper()
	producers := 0
	for _, d := range deployments(objs) {
		if d.Metadata.Labels[roleLabel] != "producer" {
			continue
		}
		producers++
		if r := d.deploy.Replicas; r == nil || *r < 2 {
			got := "unset"
			if r != nil {
				got = fmt.Sprint(*r)
			}
			t.Errorf("%s: %s: replicas %s, want 2 or more: a single producer leaves its flows unpolled while it restarts", build, d.where(), got)
		}
	}
	if producers == 0 {
		t.Errorf("%s: no producer Deployment", build)
	}
}

func checkPodsAreHardened(t *testing.T, build string, objs []*kobject) {
	t.Helper()
	for _, d := range deployments(objs) {
		pod := d.deploy.Template.Spec
		if g := pod.TerminationGracePeriodSeconds; g == nil || *g < 60 {
			t.Errorf("%s: %s: terminationGracePeriodSeconds below 60 or unset: ferry drains on SIGTERM", build, d.where())
		}
		for _, c := range pod.Containers {
			sc := mergeSecurity(pod.SecurityContext, c.SecurityContext)
			if sc == nil {
				sc = &ksecurity{}
			}
			isTrue := func(b *bool) bool { return b != nil && *b }
			if !isTrue(sc.RunAsNonRoot) {
				t.Errorf("%s: %s: container %s: runAsNonRoot is not true", build, d.where(), c.Name)
			}
			if !isTrue(sc.ReadOnlyRootFilesystem) {
				t.Errorf("%s: %s: container %s: readOnlyRootFilesystem is not true", build, d.where(), c.Name)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: %s: container %s: allowPrivilegeEscalation is not false", build, d.where(), c.Name)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s: %s: container %s: capabilities do not drop ALL", build, d.where(), c.Name)
			}
			for _, r := range []string{"cpu", "memory"} {
				if c.Resources.Requests[r] == "" {
					t.Errorf("%s: %s: container %s: no %s request", build, d.where(), c.Name, r)
				}
			}
			if c.Resources.Limits["memory"] == "" {
				t.Errorf("%s: %s: container %s: no memory limit", build, d.where(), c.Name)
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
		var so struct {
			Spec struct {
				MaxReplicaCount int `yaml:"maxReplicaCount"`
				Triggers        []struct {
					Type     string            `yaml:"type"`
					Metadata map[string]string `yaml:"metadata"`
				} `yaml:"triggers"`
			} `yaml:"spec"`
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
