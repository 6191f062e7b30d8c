// Package config holds the one Config a Kuayang node runs from, and loads it
// from defaults, an optional YAML file, KUAYANG_* environment variables and
// command-line flags, in that order of precedence (flags win).
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kuayang/kuayang/internal/clientip"
)

// Config is everything a node needs to run. The zero value is not valid;
// start from Default.
type Config struct {
	HTTPAddr     string        `yaml:"http_addr"`
	DataDir      string        `yaml:"data_dir"`
	UDPPort      int           `yaml:"udp_port"`
	TCPPort      int           `yaml:"tcp_port"`
	PublicURL    string        `yaml:"public_url"`
	PublicIP     string        `yaml:"public_ip"`
	PostgresURL  string        `yaml:"postgres_url"`
	RedisURL     string        `yaml:"redis_url"`
	S3URL        string        `yaml:"s3_url"`
	Demo         bool          `yaml:"demo"`
	LogLevel     string        `yaml:"log_level"`
	LogFormat    string        `yaml:"log_format"`
	JoinTokenTTL time.Duration `yaml:"join_token_ttl"`
	InviteTTL    time.Duration `yaml:"invite_ttl"`
	// AllowedOrigins are extra origins (scheme://host[:port]) accepted on
	// the websocket besides the public URL's and the request's own host.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// DebugAddr, when set, serves Go's profiler (/debug/pprof/) on that
	// address: keep it on loopback.
	DebugAddr string `yaml:"debug_addr"`
	// NodeID names this node in manifests and logs (default: host name).
	NodeID string `yaml:"node_id"`
	// SegmentDuration is the length of a recorded segment.
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// SealGrace is how long an empty recorded session waits for someone to
	// come back before it ends and is sealed.
	SealGrace time.Duration `yaml:"seal_grace"`
	// TrustedProxies are reverse proxies (addresses or CIDRs) whose
	// X-Forwarded-For is believed for the client address.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// UDPBatch sends and receives media with sendmmsg and recvmmsg on
	// Linux instead of one system call per packet. Off by default: on the
	// machines measured so far it did not lower the CPU per packet (see
	// docs/benchmarks.md).
	UDPBatch bool `yaml:"udp_batch"`
}

// Default returns the configuration of `kuayang serve` with nothing set:
// everything embedded, one node.
func Default() Config {
	return Config{
		HTTPAddr:        ":8080",
		DataDir:         "./data",
		UDPPort:         7882,
		TCPPort:         7881,
		LogLevel:        "info",
		LogFormat:       "text",
		JoinTokenTTL:    2 * time.Minute,
		InviteTTL:       30 * 24 * time.Hour,
		SegmentDuration: 30 * time.Second,
		SealGrace:       2 * time.Minute,
	}
}

// field describes one setting: its flag name, env twin and help.
type field struct {
	name string
	help string
	ptr  any // *string, *int, *bool, *time.Duration, *[]string
}

func (c *Config) fields() []field {
	return []field{
		{"http-addr", "HTTP listen address (web client, API, websocket, ICE-TCP is separate)", &c.HTTPAddr},
		{"data-dir", "directory for the SQLite database, keys, spool and local recordings", &c.DataDir},
		{"udp-port", "the one UDP port all media uses (ICE UDP mux)", &c.UDPPort},
		{"tcp-port", "ICE-TCP fallback port (0 disables)", &c.TCPPort},
		{"public-url", "URL people reach this node at, used in invite links (default http://localhost:<port>)", &c.PublicURL},
		{"public-ip", "public IP to advertise in ICE candidates (1:1 NAT)", &c.PublicIP},
		{"postgres-url", "PostgreSQL URL; empty means the embedded SQLite file", &c.PostgresURL},
		{"redis-url", "Redis URL for several nodes; empty means a single node", &c.RedisURL},
		{"s3-url", "object store as http(s)://ACCESS:SECRET@host:port/bucket; empty means files under the data dir", &c.S3URL},
		{"demo", "create a demo organization, accounts and session and print join links", &c.Demo},
		{"log-level", "debug, info, warn or error", &c.LogLevel},
		{"log-format", "text or json", &c.LogFormat},
		{"join-token-ttl", "lifetime of the join tokens the websocket accepts", &c.JoinTokenTTL},
		{"invite-ttl", "default lifetime of invite links", &c.InviteTTL},
		{"allowed-origins", "comma-separated extra websocket origins", &c.AllowedOrigins},
		{"debug-addr", "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (off when empty)", &c.DebugAddr},
		{"node-id", "this node's name in manifests and logs (default: the host name)", &c.NodeID},
		{"segment-duration", "length of a recorded segment", &c.SegmentDuration},
		{"seal-grace", "how long an empty recorded session waits before it ends and is sealed", &c.SealGrace},
		{"udp-batch", "send and receive media in batches (sendmmsg, recvmmsg) instead of one system call per packet", &c.UDPBatch},
		{"trusted-proxies", "comma-separated reverse proxy addresses or CIDRs whose X-Forwarded-For is believed", &c.TrustedProxies},
	}
}

// EnvName returns the environment twin of a flag name: KUAYANG_HTTP_ADDR
// for http-addr.
func EnvName(flagName string) string {
	return "KUAYANG_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Load builds the configuration from defaults, the YAML file named by
// --config or KUAYANG_CONFIG, the environment (getenv) and args, then
// validates it.
func Load(args []string, getenv func(string) string) (Config, error) {
	return LoadWith(args, getenv, nil)
}

// LoadWith is Load for a subcommand that has flags of its own: extra
// defines them on the flag set before parsing.
func LoadWith(args []string, getenv func(string) string, extra func(*flag.FlagSet)) (Config, error) {
	c := Default()
	path := configPath(args, getenv)
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return c, err
		}
	}
	if err := c.loadEnv(getenv); err != nil {
		return c, err
	}
	fs := c.FlagSet()
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	return c, c.Validate()
}

// configPath finds --config in args (either form) or KUAYANG_CONFIG.
func configPath(args []string, getenv func(string) string) string {
	for i, a := range args {
		a = strings.TrimPrefix(a, "-")
		a = strings.TrimPrefix(a, "-")
		if v, ok := strings.CutPrefix(a, "config="); ok {
			return v
		}
		if a == "config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return getenv("KUAYANG_CONFIG")
}

func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

func (c *Config) loadEnv(getenv func(string) string) error {
	for _, f := range c.fields() {
		env := EnvName(f.name)
		v := getenv(env)
		if v == "" {
			continue
		}
		if err := setValue(f.ptr, v); err != nil {
			return fmt.Errorf("config: %s: %w", env, err)
		}
	}
	return nil
}

// FlagSet returns a flag set bound to c, for parsing and for help output.
func (c *Config) FlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.String("config", "", "YAML configuration file (KUAYANG_CONFIG)")
	for _, f := range c.fields() {
		help := f.help + " (" + EnvName(f.name) + ")"
		switch p := f.ptr.(type) {
		case *string:
			fs.StringVar(p, f.name, *p, help)
		case *int:
			fs.IntVar(p, f.name, *p, help)
		case *bool:
			fs.BoolVar(p, f.name, *p, help)
		case *time.Duration:
			fs.DurationVar(p, f.name, *p, help)
		case *[]string:
			fs.Func(f.name, help, func(v string) error { return setValue(p, v) })
		}
	}
	return fs
}

func setValue(ptr any, v string) error {
	switch p := ptr.(type) {
	case *string:
		*p = v
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 90s, 2m)", v)
		}
		*p = d
	case *[]string:
		*p = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*p = append(*p, s)
			}
		}
	}
	return nil
}

// Validate checks the values and fills in derived defaults (PublicURL).
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("http-addr %q: %w", c.HTTPAddr, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	if c.UDPPort < 0 || c.UDPPort > 65535 {
		errs = append(errs, fmt.Errorf("udp-port %d out of range", c.UDPPort))
	}
	if c.TCPPort < 0 || c.TCPPort > 65535 {
		errs = append(errs, fmt.Errorf("tcp-port %d out of range", c.TCPPort))
	}
	if c.PublicIP != "" && net.ParseIP(c.PublicIP) == nil {
		errs = append(errs, fmt.Errorf("public-ip %q is not an IP address", c.PublicIP))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public-url %q must be an http or https URL", c.PublicURL))
		}
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	if c.S3URL != "" {
		if _, err := ParseS3URL(c.S3URL); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := clientip.New(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", c.LogFormat))
	}
	if c.JoinTokenTTL < 10*time.Second || c.JoinTokenTTL > time.Hour {
		errs = append(errs, fmt.Errorf("join-token-ttl %s: want between 10s and 1h", c.JoinTokenTTL))
	}
	if c.SegmentDuration < time.Second || c.SegmentDuration > 10*time.Minute {
		errs = append(errs, fmt.Errorf("segment-duration %s: want between 1s and 10m", c.SegmentDuration))
	}
	if c.SealGrace < time.Second || c.SealGrace > 24*time.Hour {
		errs = append(errs, fmt.Errorf("seal-grace %s: want between 1s and 24h", c.SealGrace))
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			errs = append(errs, fmt.Errorf("debug-addr %q: %w", c.DebugAddr, err))
		}
	}
	if c.NodeID == "" {
		c.NodeID, _ = os.Hostname()
	}
	if c.InviteTTL < time.Minute {
		errs = append(errs, fmt.Errorf("invite-ttl %s: want at least 1m", c.InviteTTL))
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// S3 is a parsed --s3-url.
type S3 struct {
	Endpoint  string // host:port
	Secure    bool
	AccessKey string
	SecretKey string
	Bucket    string
}

// ParseS3URL parses http(s)://ACCESS:SECRET@host:port/bucket.
func ParseS3URL(raw string) (S3, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return S3{}, fmt.Errorf("s3-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return S3{}, fmt.Errorf("s3-url: scheme must be http or https")
	}
	secret, _ := u.User.Password()
	bucket := strings.Trim(u.Path, "/")
	if u.User.Username() == "" || secret == "" || u.Host == "" || bucket == "" || strings.Contains(bucket, "/") {
		return S3{}, fmt.Errorf("s3-url: want http(s)://ACCESS:SECRET@host:port/bucket")
	}
	return S3{Endpoint: u.Host, Secure: u.Scheme == "https", AccessKey: u.User.Username(), SecretKey: secret, Bucket: bucket}, nil
}

// HTTPPort returns the port of HTTPAddr.
func (c *Config) HTTPPort() string {
	_, port, _ := net.SplitHostPort(c.HTTPAddr)
	return port
}
