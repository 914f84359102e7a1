package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/ferry-data/ferry/vendors"
	"sigs.k8s.io/yaml"
)

// update rewrites the files under deploy/ that derive from the binary
// instead of comparing them: go test ./cmd/ferry -run TestDeployGenerated -update
var update = flag.Bool("update", false, "rewrite the generated files under deploy/")

// secretDir is where a role finds the files of a mounted Secret.
const secretDir = "/var/run/secrets/ferry"

// credentials are what a role needs of one Secret: the keys read from
// the environment (not secret: account names and keys) and those read
// from mounted files (<NAME>_FILE).
type credentials struct {
	// Component names the folder under deploy/components/vendors.
	Component string
	// Secret is the Secret made by hand that holds them.
	Secret string
	// Title says whose they are.
	Title string
	// Roles are the Deployments or CronJobs, by name, that need them.
	Roles      []string
	Env, Files []string
}

// deployCredentials derives, from the vendor table, the credentials each
// vendor's flows need, and the database's: a source vendor's for the
// producer, a target's and the database's for the sink, and all for
// reconcile, which reads both sides.
func deployCredentials() []credentials {
	var out []credentials
	add := func(v vendors.Vendor, role string) {
		c := credentials{Component: v.Name, Secret: "ferry-" + v.Name, Title: v.Title, Roles: []string{"ferry-" + role, "ferry-reconcile"}}
		for _, s := range v.Settings {
			switch {
			case s.Name == vendors.URL: // in the ConfigMap
			case s.Secret:
				c.Files = append(c.Files, v.Var(s.Name))
			default:
				c.Env = append(c.Env, v.Var(s.Name))
			}
		}
		out = append(out, c)
	}
	for _, s := range table.Sources {
		add(s.Vendor, "producer")
	}
	for _, s := range table.Targets {
		add(s.Vendor, "sink")
	}
	return append(out, credentials{Component: "mysql", Secret: "ferry-mysql", Title: "the MySQL target",
		Roles: []string{"ferry-sink", "ferry-reconcile"}, Files: []string{"FERRY_MYSQL_DSN"}})
}

var componentTemplate = template.Must(template.New("").Parse(`# GENERATED from ferry's vendor table by
#   go test ./cmd/ferry -run TestDeployGenerated -update
# Do not edit.
#
# The credentials of {{.Title}}, from the Secret {{.Secret}}, for the
# roles that use them ({{range $i, $r := .Roles}}{{if $i}}, {{end}}{{$r}}{{end}}). A flow group
# includes this component when one of its flows uses {{.Title}}; no other
# role sees them. Secret settings are mounted as files ({{.Secret}} in
# ` + secretDir + `/{{.Component}}) and read through <NAME>_FILE, so that
# they never sit in the environment.
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component

patches:
{{- range .Patches}}
  - target:
      kind: {{.Kind}}
      name: {{.Name}}
    patch: |-
{{.Patch}}
{{- end}}
`))

// rolePatch is a strategic-merge patch of a role's Deployment, or of the
// reconcile CronJob, that gives its container c's credentials.
type rolePatch struct {
	Kind, Name string
	Patch      string // indented for the kustomization file
}

func (c credentials) Patches(t *testing.T) []rolePatch {
	var env, mounts, volumes []any
	for _, e := range c.Env {
		env = append(env, map[string]any{"name": e, "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": c.Secret, "key": e}}})
	}
	var items []any
	for _, f := range c.Files {
		env = append(env, map[string]any{"name": f + "_FILE", "value": secretDir + "/" + c.Component + "/" + f})
		items = append(items, map[string]any{"key": f, "path": f})
	}
	container := map[string]any{"name": "ferry", "env": env}
	pod := map[string]any{"containers": []any{container}}
	if len(items) > 0 {
		mounts = append(mounts, map[string]any{"name": c.Secret, "mountPath": secretDir + "/" + c.Component, "readOnly": true})
		volumes = append(volumes, map[string]any{"name": c.Secret, "secret": map[string]any{"secretName": c.Secret, "items": items}})
		container["volumeMounts"], pod["volumes"] = mounts, volumes
	}
	var out []rolePatch
	for _, role := range c.Roles {
		p := rolePatch{Kind: "Deployment", Name: role}
		obj := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": role},
			"spec": map[string]any{"template": map[string]any{"spec": pod}}}
		if role == "ferry-reconcile" {
			p.Kind = "CronJob"
			obj = map[string]any{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": map[string]any{"name": role},
				"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": pod}}}}}
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		p.Patch = "      " + strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n      ")
		out = append(out, p)
	}
	return out
}

var secretsTemplate = template.Must(template.New("").Parse(`# GENERATED from ferry's vendor table by
#   go test ./cmd/ferry -run TestDeployGenerated -update
# Do not edit.
#
# EXAMPLES ONLY: the Secrets ferry's roles read, one for each vendor and
# one for the database. No kustomization lists this file, so
# ` + "`kubectl apply -k`" + ` never applies it. Create each Secret your flow groups use
# in the namespace ferry runs in, from a file kept OUTSIDE this
# repository, for instance:
#
#   kubectl -n ferry create secret generic ferry-wdt \
#     --from-env-file=/secure/place/ferry-wdt.env
#
# where the env file holds one KEY=value a line (no quotes) with the keys
# below. Every key must exist; an optional setting may be empty. Never
# commit real values. See deploy/README.md.
{{- range .}}
---
# {{.Title}}: read by {{range $i, $r := .Roles}}{{if $i}} and {{end}}{{$r}}{{end}}.
apiVersion: v1
kind: Secret
metadata:
  name: {{.Secret}}
  labels:
    app.kubernetes.io/name: ferry
type: Opaque
stringData:
{{- range .Env}}
  {{.}}: ""
{{- end}}
{{- range .Files}}
  {{.}}: ""
{{- end}}
{{- end}}
`))

// generated are the files under deploy/ that derive from the binary, by
// path below deploy/.
func generated(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	creds := deployCredentials()
	for _, c := range creds {
		var b bytes.Buffer
		data := struct {
			credentials
			Patches []rolePatch
		}{c, c.Patches(t)}
		if err := componentTemplate.Execute(&b, data); err != nil {
			t.Fatal(err)
		}
		out["components/vendors/"+c.Component+"/kustomization.yaml"] = b.Bytes()
	}
	var b bytes.Buffer
	if err := secretsTemplate.Execute(&b, creds); err != nil {
		t.Fatal(err)
	}
	out["base/secrets.example.yaml"] = b.Bytes()
	out["strimzi/topics.yaml"] = strimziTopics(t)
	return out
}

// topicsArgs are the arguments deploy/strimzi/topics.yaml is generated
// with: a production cluster's replication.
var topicsArgs = []string{"topics", "--format", "strimzi", "--cluster", "kafka", "--replication-factor", "3", "--min-insync-replicas", "2"}

func strimziTopics(t *testing.T) []byte {
	cfg, err := parse(topicsArgs, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# GENERATED by\n#   ferry %s\n# (go test ./cmd/ferry -run TestDeployGenerated -update). Do not edit.\n#\n", strings.Join(topicsArgs, " "))
	fmt.Fprintf(&b, "# Every topic of the shipped flows, and ferry's own, as Strimzi KafkaTopic\n# resources of the Kafka cluster \"kafka\".\n")
	if err := run(context.Background(), cfg, &b, newTestLog(t, 0).With()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDeployGenerated checks that the files under deploy/ that derive from
// the binary (the vendors' credential components, the Secret examples,
// the Strimzi topics) are what it derives now.
func TestDeployGenerated(t *testing.T) {
	for rel, want := range generated(t) {
		p := filepath.Join(deployDir, filepath.FromSlash(rel))
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("deploy/%s is not what the binary derives (run go test ./cmd/ferry -run TestDeployGenerated -update):\n%s", rel, want)
		}
	}
}
