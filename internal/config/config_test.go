package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.DataDir != "./data" || c.UDPPort != 7882 || c.PublicURL != "" || c.Demo {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "k.yaml")
	yaml := "http_addr: \":9000\"\nudp_port: 9001\ndata_dir: /from/file\njoin_token_ttl: 5m\npublic_ip: 10.0.0.1\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"file", []string{"--config", file}, nil, func(t *testing.T, c Config) {
			if c.HTTPAddr != ":9000" || c.UDPPort != 9001 || c.JoinTokenTTL != 5*time.Minute || c.DataDir != "/from/file" {
				t.Fatalf("%+v", c)
			}
		}},
		{"env over file", []string{"-config=" + file}, map[string]string{"KUAYANG_UDP_PORT": "9100", "KUAYANG_DEMO": "true"}, func(t *testing.T, c Config) {
			if c.UDPPort != 9100 || !c.Demo || c.HTTPAddr != ":9000" {
				t.Fatalf("%+v", c)
			}
		}},
		{"flag over env", []string{"--udp-port", "9200", "--public-url", "https://k.example.org/"},
			map[string]string{"KUAYANG_CONFIG": file, "KUAYANG_UDP_PORT": "9100"}, func(t *testing.T, c Config) {
				if c.UDPPort != 9200 || c.PublicURL != "https://k.example.org" || c.DataDir != "/from/file" {
					t.Fatalf("%+v", c)
				}
			}},
		{"list env", nil, map[string]string{"KUAYANG_ALLOWED_ORIGINS": "https://a.org, https://b.org"}, func(t *testing.T, c Config) {
			if len(c.AllowedOrigins) != 2 || c.AllowedOrigins[1] != "https://b.org" {
				t.Fatalf("%q", c.AllowedOrigins)
			}
		}},
		{"s3", []string{"--s3-url", "http://ak:sk@127.0.0.1:9000/evidence"}, nil, func(t *testing.T, c Config) {
			s, err := ParseS3URL(c.S3URL)
			if err != nil || s.Bucket != "evidence" || s.AccessKey != "ak" || s.SecretKey != "sk" || s.Secure {
				t.Fatalf("%+v %v", s, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("htp_addr: x\n"), 0o600)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad port", []string{"--udp-port", "70000"}, nil, "udp-port"},
		{"port not a number", nil, map[string]string{"KUAYANG_UDP_PORT": "many"}, "KUAYANG_UDP_PORT"},
		{"bad public ip", []string{"--public-ip", "localhost"}, nil, "public-ip"},
		{"bad public url", []string{"--public-url", "ftp://x"}, nil, "public-url"},
		{"bad s3", []string{"--s3-url", "http://host/bucket"}, nil, "s3-url"},
		{"bad http addr", []string{"--http-addr", "8080"}, nil, "http-addr"},
		{"bad duration", []string{"--join-token-ttl", "2"}, nil, "join-token-ttl"},
		{"ttl too long", []string{"--join-token-ttl", "48h"}, nil, "join-token-ttl"},
		{"unknown flag", []string{"--nope"}, nil, "nope"},
		{"stray argument", []string{"extra"}, nil, "extra"},
		{"unknown yaml key", []string{"--config", bad}, nil, "htp_addr"},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, nil, "none.yaml"},
		{"log level", []string{"--log-level", "loud"}, nil, "log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("http-addr"); got != "KUAYANG_HTTP_ADDR" {
		t.Fatal(got)
	}
}

// The example in deploy/ stays loadable.
func TestExampleConfig(t *testing.T) {
	c, err := Load([]string{"--config", "../../deploy/kuayang.example.yaml"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://mediation.example.org" || c.LogFormat != "json" {
		t.Fatalf("%+v", c)
	}
}
