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
	"net/netip"
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
	// FailoverWait is how long sealing waits for a node that stopped while
	// recording the session to come back and store what its spool held.
	FailoverWait time.Duration `yaml:"failover_wait"`
	// ResumeWindow is how long a participant whose connection dropped
	// keeps their place in the call (media, room) to come back without a
	// new join; 0 turns it off.
	ResumeWindow time.Duration `yaml:"resume_window"`
	// TrustedProxies are reverse proxies (addresses or CIDRs) whose
	// X-Forwarded-For is believed for the client address.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// UDPBatch sends and receives media with sendmmsg and recvmmsg on
	// Linux instead of one system call per packet. Off by default: on the
	// machines measured so far it did not lower the CPU per packet (see
	// docs/benchmarks.md).
	UDPBatch bool `yaml:"udp_batch"`

	// MetricsAllow are the client addresses (CIDRs or single addresses)
	// that GET /metrics answers; everyone else gets 403. The client address
	// is the one X-Forwarded-For names when the peer is a trusted proxy.
	MetricsAllow []string `yaml:"metrics_allow"`

	// TLSCert and TLSKey are PEM files: when set, --http-addr serves HTTPS
	// and WSS. The files are read again when they change.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// ACMEHost, instead of TLSCert and TLSKey, obtains and renews a
	// certificate for this host name from Let's Encrypt (ACME); it is
	// cached under <data-dir>/acme.
	ACMEHost string `yaml:"acme_host"`
	// ACMEEmail is the contact address given to the ACME server (optional).
	ACMEEmail string `yaml:"acme_email"`
	// ACMEHTTPAddr, when set (usually ":80"), serves the ACME HTTP-01
	// challenge there and redirects everything else to HTTPS. Without it
	// the TLS-ALPN-01 challenge on --http-addr must reach port 443.
	ACMEHTTPAddr string `yaml:"acme_http_addr"`

	// TURNPort is the embedded TURN server's UDP and TCP port; 0 disables it.
	TURNPort int `yaml:"turn_port"`
	// TURNTLSPort is the embedded TURN server's TLS port (TURN over TLS,
	// turns:); 0 disables it. Needs a certificate (TLSCert or ACMEHost).
	TURNTLSPort int `yaml:"turn_tls_port"`
	// TURNRelayIP is the relayed address the TURN server gives out (default:
	// PublicIP, else the host's first non-loopback address).
	TURNRelayIP string `yaml:"turn_relay_ip"`
	// TURNHost is the host name or address put in the turn: and turns: URLs
	// handed to clients (default: the host of the public URL, or of the
	// request when the public URL is not set).
	TURNHost string `yaml:"turn_host"`
	// TURNExternal are the URLs of an external TURN server (coturn with
	// use-auth-secret) handed to clients with credentials made from
	// TURNSecret.
	TURNExternal []string `yaml:"turn_external"`
	// TURNSecret is the shared secret of the TURN REST credentials: required
	// with TURNExternal; for the embedded server it replaces the secret kept
	// in <data-dir>/turn.key.
	TURNSecret string `yaml:"turn_secret"`
	// TURNTTL is how long the TURN credentials of a join answer stay valid.
	TURNTTL time.Duration `yaml:"turn_ttl"`

	// TSAURL is an RFC 3161 timestamp authority: each sealed manifest is
	// timestamped by it (manifest.tsr). Off when empty.
	TSAURL string `yaml:"tsa_url"`
	// TSACA is a PEM file of the timestamp authority's root certificates:
	// the node's verify checks that tokens chain to them.
	TSACA string `yaml:"tsa_ca"`
	// IdentityKey (64 hex digits) wraps the data keys of identity images;
	// empty derives it from <data-dir>/node.key (one node only: nodes
	// sharing a database must share this key).
	IdentityKey string `yaml:"identity_key"`
	// FaceVerifyURL is an external face-verification service (see
	// docs/deploy.md); empty means the presider decides alone.
	FaceVerifyURL string `yaml:"face_verify_url"`
	// FaceVerifySecret signs requests to the service and its callbacks.
	FaceVerifySecret string `yaml:"face_verify_secret"`
	// FaceVerifyTimeout bounds one request to the service.
	FaceVerifyTimeout time.Duration `yaml:"face_verify_timeout"`
	// FaceVerifyName names the service in records and manifests.
	FaceVerifyName string `yaml:"face_verify_name"`
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
		FailoverWait:    15 * time.Minute,
		ResumeWindow:    30 * time.Second,
		MetricsAllow:    []string{"127.0.0.0/8", "::1/128"},
		TURNTTL:         12 * time.Hour,

		FaceVerifyTimeout: 10 * time.Second,
		FaceVerifyName:    "external",
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
		{"failover-wait", "how long sealing waits for a node that stopped while recording to come back with its spool", &c.FailoverWait},
		{"resume-window", "how long a participant whose connection dropped keeps their place to come back without a new join (0: off)", &c.ResumeWindow},
		{"udp-batch", "send and receive media in batches (sendmmsg, recvmmsg) instead of one system call per packet", &c.UDPBatch},
		{"trusted-proxies", "comma-separated reverse proxy addresses or CIDRs whose X-Forwarded-For is believed", &c.TrustedProxies},
		{"metrics-allow", "comma-separated client addresses or CIDRs that GET /metrics answers (default loopback)", &c.MetricsAllow},
		{"tls-cert", "PEM certificate (chain): serve HTTPS and WSS on --http-addr (with --tls-key)", &c.TLSCert},
		{"tls-key", "PEM private key of --tls-cert", &c.TLSKey},
		{"acme-host", "obtain a certificate for this host name automatically (ACME, Let's Encrypt) instead of --tls-cert", &c.ACMEHost},
		{"acme-email", "contact address for the ACME account (optional)", &c.ACMEEmail},
		{"acme-http-addr", "serve the ACME HTTP-01 challenge and an HTTPS redirect on this address, e.g. :80", &c.ACMEHTTPAddr},
		{"turn-port", "embedded TURN server's UDP and TCP port, e.g. 3478 (0 disables)", &c.TURNPort},
		{"turn-tls-port", "embedded TURN server's TURN-over-TLS port, e.g. 5349 or 443 (0 disables; needs a certificate)", &c.TURNTLSPort},
		{"turn-relay-ip", "relayed address the embedded TURN server gives out (default --public-ip)", &c.TURNRelayIP},
		{"turn-host", "host name or IP in the TURN URLs given to clients (default the public URL's host)", &c.TURNHost},
		{"turn-external", "comma-separated turn:/turns: URLs of an external TURN server (coturn, use-auth-secret)", &c.TURNExternal},
		{"turn-secret", "shared secret of the TURN credentials (coturn's static-auth-secret); default for the embedded server: <data-dir>/turn.key", &c.TURNSecret},
		{"turn-ttl", "lifetime of the TURN credentials in a join answer", &c.TURNTTL},
		{"tsa-url", "RFC 3161 timestamp authority URL: every sealed manifest gets a trusted timestamp (off when empty)", &c.TSAURL},
		{"tsa-ca", "PEM file of the timestamp authority's root certificates, which verify checks tokens against", &c.TSACA},
		{"identity-key", "64 hex digits: the key that encrypts identity images (default: derived from <data-dir>/node.key; set the same on every node of a cluster)", &c.IdentityKey},
		{"face-verify-url", "URL of an external face-verification service (empty: the presider decides alone)", &c.FaceVerifyURL},
		{"face-verify-secret", "shared secret signing requests to the face-verification service and its callbacks (HMAC-SHA256)", &c.FaceVerifySecret},
		{"face-verify-timeout", "time limit of one request to the face-verification service", &c.FaceVerifyTimeout},
		{"face-verify-name", "name of the face-verification service in records and manifests", &c.FaceVerifyName},
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
	if c.FailoverWait < time.Second || c.FailoverWait > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("failover-wait %s: want between 1s and 168h", c.FailoverWait))
	}
	if c.ResumeWindow < 0 || c.ResumeWindow > 10*time.Minute {
		errs = append(errs, fmt.Errorf("resume-window %s: want between 0 (off) and 10m", c.ResumeWindow))
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
	if _, err := ParsePrefixes(c.MetricsAllow); err != nil {
		errs = append(errs, fmt.Errorf("metrics-allow: %w", err))
	}
	errs = append(errs, c.validateTLS()...)
	errs = append(errs, c.validateTURN()...)
	if c.TSAURL != "" {
		u, err := url.Parse(c.TSAURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("tsa-url %q must be an http or https URL", c.TSAURL))
		}
	}
	errs = append(errs, c.validateIdentity()...)
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// validateTLS checks --tls-cert, --tls-key and the ACME settings. The
// files are read when the node starts, not here.
func (c *Config) validateTLS() []error {
	var errs []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together: set both or neither"))
	}
	if c.ACMEHost != "" {
		if c.TLSCert != "" {
			errs = append(errs, errors.New("acme-host and tls-cert exclude each other: choose automatic certificates or files"))
		}
		if !validHostName(c.ACMEHost) {
			errs = append(errs, fmt.Errorf("acme-host %q is not a DNS host name", c.ACMEHost))
		}
	}
	if c.ACMEEmail != "" && c.ACMEHost == "" {
		errs = append(errs, errors.New("acme-email needs acme-host"))
	}
	if c.ACMEHTTPAddr != "" {
		if c.ACMEHost == "" {
			errs = append(errs, errors.New("acme-http-addr needs acme-host"))
		}
		if _, _, err := net.SplitHostPort(c.ACMEHTTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("acme-http-addr %q: %w", c.ACMEHTTPAddr, err))
		}
	}
	return errs
}

// validateTURN checks the TURN settings.
func (c *Config) validateTURN() []error {
	var errs []error
	for _, p := range []struct {
		name string
		v    int
	}{{"turn-port", c.TURNPort}, {"turn-tls-port", c.TURNTLSPort}} {
		if p.v < 0 || p.v > 65535 {
			errs = append(errs, fmt.Errorf("%s %d out of range", p.name, p.v))
		}
	}
	if c.TURNTLSPort != 0 && !c.TLS() {
		errs = append(errs, errors.New("turn-tls-port needs a certificate: set tls-cert and tls-key, or acme-host"))
	}
	if c.TURNPort != 0 && c.TURNPort == c.TURNTLSPort {
		errs = append(errs, fmt.Errorf("turn-port and turn-tls-port are both %d", c.TURNPort))
	}
	if c.TURNRelayIP != "" && net.ParseIP(c.TURNRelayIP) == nil {
		errs = append(errs, fmt.Errorf("turn-relay-ip %q is not an IP address", c.TURNRelayIP))
	}
	if c.TURNHost != "" && net.ParseIP(c.TURNHost) == nil && !validHostName(c.TURNHost) {
		errs = append(errs, fmt.Errorf("turn-host %q is not a host name or IP address", c.TURNHost))
	}
	for _, u := range c.TURNExternal {
		if err := checkTURNURL(u); err != nil {
			errs = append(errs, fmt.Errorf("turn-external: %w", err))
		}
	}
	if len(c.TURNExternal) > 0 && c.TURNSecret == "" {
		errs = append(errs, errors.New("turn-external needs turn-secret (coturn's static-auth-secret)"))
	}
	if c.TURNSecret != "" && len(c.TURNExternal) == 0 && !c.EmbeddedTURN() {
		errs = append(errs, errors.New("turn-secret is set but no TURN server is: set turn-port, turn-tls-port or turn-external"))
	}
	if (c.EmbeddedTURN() || len(c.TURNExternal) > 0) && (c.TURNTTL < 10*time.Minute || c.TURNTTL > 48*time.Hour) {
		errs = append(errs, fmt.Errorf("turn-ttl %s: want between 10m and 48h", c.TURNTTL))
	}
	return errs
}

// checkTURNURL accepts turn:host[:port][?transport=udp|tcp] and turns:…
// (RFC 7065).
func checkTURNURL(raw string) error {
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok || (scheme != "turn" && scheme != "turns") || rest == "" || strings.HasPrefix(rest, "//") {
		return fmt.Errorf("%q: want turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT][?transport=tcp]", raw)
	}
	hostport, query, _ := strings.Cut(rest, "?")
	if query != "" && query != "transport=udp" && query != "transport=tcp" {
		return fmt.Errorf("%q: the only parameter is transport=udp or transport=tcp", raw)
	}
	host := hostport
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: bad port", raw)
		}
		host = h
	}
	if net.ParseIP(strings.Trim(host, "[]")) == nil && !validHostName(host) {
		return fmt.Errorf("%q: bad host", raw)
	}
	return nil
}

// validHostName reports whether s is a DNS name (letters, digits, hyphens
// and dots).
func validHostName(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// TLS reports whether the node serves TLS itself (certificate files or
// ACME).
func (c *Config) TLS() bool { return c.TLSCert != "" || c.ACMEHost != "" }

// EmbeddedTURN reports whether the embedded TURN server runs.
func (c *Config) EmbeddedTURN() bool { return c.TURNPort != 0 || c.TURNTLSPort != 0 }

// ParsePrefixes parses addresses and CIDRs (as --trusted-proxies and
// --metrics-allow take them) into prefixes; a single address is a /32 or
// /128.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", s)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
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
