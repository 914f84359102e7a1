package main

import (
	"context"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// TestComposeFileMatchesBinary loads docker-compose.yml with the compose
// spec's own loader and checks that every ferry service's command and
// environment are ones this binary accepts.
func TestComposeFileMatchesBinary(t *testing.T) {
	root, _ := filepath.Abs("../..")
	project, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("ferry", true) })
	if err != nil {
		t.Fatal(err)
	}
	ferry := map[string]types.ServiceConfig{}
	for name, svc := range project.Services {
		if svc.Build != nil {
			ferry[name] = svc
		}
	}
	for _, role := range []string{"producer", "processor", "sink", "sandbox"} {
		if _, ok := ferry[role]; !ok {
			t.Errorf("no %s service built from this repository", role)
		}
	}
	for name, svc := range ferry {
		env := map[string]string{}
		for k, v := range svc.Environment {
			if !slices.Contains(Env, k) {
				t.Errorf("%s: environment variable %s is not one ferry reads (%v)", name, k, Env)
			}
			if v != nil {
				env[k] = *v
			}
		}
		cfg, err := parse(svc.Command, func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%s: ferry refuses its command %q: %v", name, svc.Command, err)
			continue
		}
		if cfg.Command != name {
			t.Errorf("service %s runs ferry %s", name, cfg.Command)
		}
		for _, b := range cfg.Brokers {
			host, _, _ := strings.Cut(b, ":")
			if _, ok := project.Services[host]; !ok {
				t.Errorf("%s: broker %s is not a service", name, b)
			}
		}
		served := serveSandboxes(table, 1, time.Now())
		for _, vendor := range table.sandboxNames() {
			sb := served[vendor]
			endpoint := cfg.endpoint(vendor)
			if endpoint == "" {
				continue
			}
			u, err := url.Parse(endpoint)
			if err != nil {
				t.Fatal(err)
			}
			host, ok := project.Services[u.Hostname()]
			if !ok {
				t.Errorf("%s: %s endpoint %s is not a service", name, vendor, endpoint)
				continue
			}
			hostCfg, err := parse(host.Command, func(string) string { return "" })
			if err != nil || hostCfg.Command != "sandbox" || !strings.HasSuffix(hostCfg.SandboxListen[vendor], ":"+u.Port()) || u.Path != sb.Path {
				t.Errorf("%s: %s endpoint %s is not where the sandbox serves it (%v)", name, vendor, endpoint, err)
			}
			want := Config{}
			want.useSandbox(vendor, endpoint, sb)
			if !maps.Equal(want.Accounts[vendor], cfg.Accounts[vendor]) {
				t.Errorf("%s: %s credentials differ from the sandbox's", name, vendor)
			}
		}
	}
}
