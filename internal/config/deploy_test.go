package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestTLSTURNMetricsSettings(t *testing.T) {
	c, err := Load([]string{"--tls-cert", "/etc/k/cert.pem", "--tls-key", "/etc/k/key.pem", "--turn-port", "3478",
		"--turn-tls-port", "5349", "--turn-relay-ip", "10.0.0.5", "--turn-host", "turn.example.org",
		"--metrics-allow", "10.0.0.0/8, 192.0.2.1"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.TLS() || !c.EmbeddedTURN() || c.TURNTTL != 12*time.Hour || len(c.MetricsAllow) != 2 {
		t.Fatalf("%+v", c)
	}
	p, err := ParsePrefixes(c.MetricsAllow)
	if err != nil || p[1].String() != "192.0.2.1/32" {
		t.Fatalf("%v %v", p, err)
	}
	d, _ := Load(nil, env(nil))
	if strings.Join(d.MetricsAllow, ",") != "127.0.0.0/8,::1/128" {
		t.Fatalf("default metrics-allow %q", d.MetricsAllow)
	}
	ext, err := Load(nil, env(map[string]string{"KUAYANG_TURN_EXTERNAL": "turn:turn.example.org:3478?transport=udp,turns:turn.example.org:443?transport=tcp",
		"KUAYANG_TURN_SECRET": "s"}))
	if err != nil || len(ext.TURNExternal) != 2 {
		t.Fatalf("%+v %v", ext.TURNExternal, err)
	}
	acme, err := Load([]string{"--acme-host", "mediation.example.org", "--acme-http-addr", ":80", "--turn-tls-port", "443"}, env(nil))
	if err != nil || !acme.TLS() {
		t.Fatalf("%v", err)
	}
}

func TestTLSTURNMetricsErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"cert without key", []string{"--tls-cert", "c.pem"}, "tls-cert and tls-key go together"},
		{"acme and files", []string{"--acme-host", "a.example.org", "--tls-cert", "c", "--tls-key", "k"}, "acme-host and tls-cert"},
		{"acme host not a name", []string{"--acme-host", "https://a.example.org"}, "acme-host"},
		{"acme http without acme", []string{"--acme-http-addr", ":80"}, "acme-http-addr needs acme-host"},
		{"turn tls without certificate", []string{"--turn-tls-port", "5349"}, "turn-tls-port needs a certificate"},
		{"turn port range", []string{"--turn-port", "70000"}, "turn-port 70000 out of range"},
		{"relay ip", []string{"--turn-port", "3478", "--turn-relay-ip", "relay.example.org"}, "turn-relay-ip"},
		{"external without secret", []string{"--turn-external", "turn:t.example.org:3478"}, "turn-external needs turn-secret"},
		{"external not a turn url", []string{"--turn-external", "https://t.example.org", "--turn-secret", "s"}, "turn-external"},
		{"external bad transport", []string{"--turn-external", "turn:t.example.org?transport=sctp", "--turn-secret", "s"}, "transport"},
		{"secret alone", []string{"--turn-secret", "s"}, "no TURN server is"},
		{"ttl", []string{"--turn-port", "3478", "--turn-ttl", "1m"}, "turn-ttl"},
		{"metrics allow", []string{"--metrics-allow", "everyone"}, "metrics-allow"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.args, env(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// The README's configuration table lists every flag of `kuayang serve`
// with its true environment variable and YAML key, and nothing else; the
// example file mentions every YAML key (set or commented).
func TestREADMEConfigTableAndExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../deploy/kuayang.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)` \\| `([A-Z0-9_]+)` \\| `?([a-z0-9_]*)`? \\|")
	table := map[string][2]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		table[m[1]] = [2]string{m[2], m[3]}
	}
	var c Config
	tags := yamlTags()
	for _, f := range c.fields() {
		got, ok := table[f.name]
		if !ok {
			t.Errorf("README lacks --%s", f.name)
			continue
		}
		if got[0] != EnvName(f.name) || got[1] != tags[f.name] {
			t.Errorf("README row of --%s says %s / %s, want %s / %s", f.name, got[0], got[1], EnvName(f.name), tags[f.name])
		}
		if !regexp.MustCompile(`(?m)^#? ?` + tags[f.name] + `:`).Match(example) {
			t.Errorf("deploy/kuayang.example.yaml does not mention %s", tags[f.name])
		}
		delete(table, f.name)
	}
	delete(table, "config")
	for name := range table {
		t.Errorf("README lists --%s, which serve does not have", name)
	}
}

// yamlTags maps flag names to YAML keys through the struct tags.
func yamlTags() map[string]string {
	var c Config
	out := map[string]string{}
	v := reflectFields(&c)
	for _, f := range c.fields() {
		out[f.name] = v[f.ptr]
	}
	return out
}

// reflectFields maps the address of each field of c to its YAML key.
func reflectFields(c *Config) map[any]string {
	v := reflect.ValueOf(c).Elem()
	out := map[any]string{}
	for i := range v.NumField() {
		out[v.Field(i).Addr().Interface()] = strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]
	}
	return out
}

// The deployment files in deploy/ parse, set only settings that exist
// (KUAYANG_* variables), and the Kubernetes ConfigMap's configuration file
// loads.
func TestDeployFiles(t *testing.T) {
	known := map[string]bool{"KUAYANG_CONFIG": true}
	var c Config
	for _, f := range c.fields() {
		known[EnvName(f.name)] = true
	}
	envVar := regexp.MustCompile(`\bKUAYANG_[A-Z0-9_]+\b`)
	files, _ := filepath.Glob("../../deploy/k8s/*.yaml")
	files = append(files, "../../deploy/compose.yaml", "../../deploy/kuayang.service", "../../deploy/Dockerfile")
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(path, ".yaml") {
			dec := yaml.NewDecoder(bytes.NewReader(b))
			for {
				var doc map[string]any
				if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if cm, ok := doc["data"].(map[string]any); ok && doc["kind"] == "ConfigMap" {
					checkConfigMap(t, cm)
				}
			}
		}
		for _, v := range envVar.FindAllString(string(b), -1) {
			// compose.yaml's own .env variables are named differently;
			// KUAYANG_S3_SECRET is one of them.
			if !known[v] && v != "KUAYANG_S3_SECRET" {
				t.Errorf("%s sets %s, which is no setting", path, v)
			}
		}
	}
}

func checkConfigMap(t *testing.T, data map[string]any) {
	t.Helper()
	text, ok := data["kuayang.yaml"].(string)
	if !ok {
		t.Fatal("the ConfigMap has no kuayang.yaml")
	}
	path := filepath.Join(t.TempDir(), "kuayang.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--config", path}, env(nil))
	if err != nil {
		t.Fatalf("the ConfigMap's kuayang.yaml: %v", err)
	}
	if !c.EmbeddedTURN() || c.HTTPAddr != ":8080" {
		t.Errorf("ConfigMap config %+v", c)
	}
}
