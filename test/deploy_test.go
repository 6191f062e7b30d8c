package test

// End-to-end tests of what a deployment adds: HTTPS and WSS on the node
// itself, the embedded TURN server with a relay-only client, TURN
// credentials for an external server, and /metrics. All on loopback.

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/node"
	"github.com/kuayang/kuayang/internal/turn"
)

// deployAnswer is a join answer with its TURN servers.
type deployAnswer struct {
	joinAnswer
	ICEServers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"ice_servers"`
}

// via is how a client reaches the node: an HTTP client and a websocket
// dialer (for TLS), and the peer connections' configuration made from the
// join answer.
type via struct {
	http   *http.Client
	dialer *websocket.Dialer
	pc     func(a deployAnswer) webrtc.Configuration
}

// joinVia exchanges invite for a join answer.
func joinVia(t *testing.T, v via, base, invite string) deployAnswer {
	t.Helper()
	hc := v.http
	if hc == nil {
		hc = http.DefaultClient
	}
	b, _ := json.Marshal(map[string]string{"invite": invite})
	resp, err := hc.Post(base+"/api/v1/join", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a deployAnswer
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &a) != nil {
		t.Fatalf("join: %d %s", resp.StatusCode, raw)
	}
	return a
}

// connectVia joins like connectTo, through v.
func connectVia(t *testing.T, v via, base, invite string) *client {
	t.Helper()
	a := joinVia(t, v, base, invite)
	dialer := v.dialer
	if dialer == nil {
		dialer = websocket.DefaultDialer
	}
	ws, resp, err := dialer.Dial(a.WSURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", a.WSURL, err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	c := &client{t: t, name: a.Participant.Name, ws: ws, msgs: make(chan map[string]any, 256),
		recv: make(map[string]*received), done: make(chan struct{}), pending: map[string][]webrtc.ICECandidateInit{}}
	t.Cleanup(c.close)
	c.send(map[string]any{"type": "join", "version": 1, "token": a.JoinToken, "consent": true})
	joined := c.readUntil("joined")
	c.self = joined["self"].(map[string]any)["id"].(string)
	c.joinedAt = time.Now()
	conf := webrtc.Configuration{}
	if v.pc != nil {
		conf = v.pc(a)
	}
	c.startPeers(conf)
	c.wg.Add(1)
	go c.readLoop()
	return c
}

// selfSigned writes a certificate for 127.0.0.1 and localhost and its key
// to dir, and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "kuayang test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certPath, keyPath, pool
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1 (for the
// TURN server, which takes one number for both).
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

// base is the node's URL on 127.0.0.1 with scheme.
func base(n *testNode, scheme string) string {
	return scheme + "://" + n.Addr().String()
}

func TestTLSServesHTTPSAndWSS(t *testing.T) {
	certPath, keyPath, pool := selfSigned(t, t.TempDir())
	n := startNode(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certPath, keyPath })
	tlsConf := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf.Clone(), ForceAttemptHTTP2: true}, Timeout: 10 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	https := base(n, "https")
	if !strings.HasPrefix(n.URL(), "https://") {
		t.Errorf("derived public URL %q is not https", n.URL())
	}

	resp, err := hc.Get(https + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("GET /readyz over https: %d, tls %v", resp.StatusCode, resp.TLS != nil)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("Strict-Transport-Security %q", h)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("HTTP/%d.%d over TLS, want HTTP/2", resp.ProtoMajor, resp.ProtoMinor)
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get(base(n, "http") + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}

	// The API: a staff login gets a Secure cookie.
	acct := n.demo.Accounts[0]
	b, _ := json.Marshal(map[string]string{"email": acct.Email, "password": acct.Password})
	resp, err = hc.Post(https+"/api/v1/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login over https: %d", resp.StatusCode)
	}
	var secure bool
	for _, ck := range resp.Cookies() {
		secure = secure || (ck.Name == "kuayang_login" && ck.Secure && ck.HttpOnly)
	}
	if !secure {
		t.Errorf("login cookie not Secure and HttpOnly: %v", resp.Header.Values("Set-Cookie"))
	}

	// Two participants join over WSS and see each other's media.
	v := via{http: hc, dialer: &websocket.Dialer{TLSClientConfig: tlsConf.Clone(), HandshakeTimeout: 10 * time.Second}}
	if a := joinVia(t, v, https, n.invite(t, 2)); !strings.HasPrefix(a.WSURL, "wss://127.0.0.1:") {
		t.Fatalf("ws_url %q, want wss on the request's host", a.WSURL)
	}
	a, c := connectVia(t, v, https, n.invite(t, 0)), connectVia(t, v, https, n.invite(t, 1))
	flowing(t, a, 20, c)
	flowing(t, c, 20, a)
}

// turnConf makes a relay-only configuration with the answer's TURN URLs
// that keep.
func turnConf(keep func(url string) bool) func(a deployAnswer) webrtc.Configuration {
	return func(a deployAnswer) webrtc.Configuration {
		conf := webrtc.Configuration{ICETransportPolicy: webrtc.ICETransportPolicyRelay}
		for _, s := range a.ICEServers {
			var urls []string
			for _, u := range s.URLs {
				if keep(u) {
					urls = append(urls, u)
				}
			}
			if len(urls) > 0 {
				conf.ICEServers = append(conf.ICEServers, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
			}
		}
		return conf
	}
}

// selectedTypes returns the local candidate types of the selected pairs of
// c's two connections.
func selectedTypes(c *client) []string {
	var out []string
	for _, tr := range []*webrtc.DTLSTransport{c.pub.GetSenders()[0].Transport(), c.sub.GetReceivers()[0].Transport()} {
		if tr == nil {
			out = append(out, "none")
			continue
		}
		p, err := tr.ICETransport().GetSelectedCandidatePair()
		if err != nil || p == nil {
			out = append(out, "none")
			continue
		}
		out = append(out, p.Local.Typ.String()+"/"+p.Local.Protocol.String())
	}
	return out
}

func TestTURNRelayOnlyCall(t *testing.T) {
	port := freePort(t)
	n := startNode(t, func(c *config.Config) { c.TURNPort = port })
	b := base(n, "http")

	// The join answer carries the embedded server, for this host, with
	// TURN REST credentials made from the node's secret.
	a := joinVia(t, via{}, b, n.invite(t, 2))
	if len(a.ICEServers) != 1 {
		t.Fatalf("ice_servers %+v", a.ICEServers)
	}
	s := a.ICEServers[0]
	hp := "127.0.0.1:" + strconv.Itoa(port)
	if strings.Join(s.URLs, " ") != "turn:"+hp+"?transport=udp turn:"+hp+"?transport=tcp" {
		t.Errorf("urls %q", s.URLs)
	}
	key, err := os.ReadFile(filepath.Join(n.dir, "turn.key"))
	if err != nil {
		t.Fatal(err)
	}
	exp, user, _ := strings.Cut(s.Username, ":")
	e, _ := strconv.ParseInt(exp, 10, 64)
	if user != a.Participant.ID || time.Until(time.Unix(e, 0)) < 11*time.Hour || s.Credential != turn.Password(hex.EncodeToString(key), s.Username) {
		t.Errorf("credentials %q / %q for participant %s", s.Username, s.Credential, a.Participant.ID)
	}

	// One client relays over UDP, the other over TCP; neither may use a
	// host candidate.
	udp := connectVia(t, via{pc: turnConf(func(u string) bool { return strings.HasSuffix(u, "transport=udp") })}, b, n.invite(t, 0))
	tcp := connectVia(t, via{pc: turnConf(func(u string) bool { return strings.HasSuffix(u, "transport=tcp") })}, b, n.invite(t, 1))
	flowing(t, udp, 30, tcp)
	flowing(t, tcp, 30, udp)
	for _, c := range []*client{udp, tcp} {
		for _, typ := range selectedTypes(c) {
			if !strings.HasPrefix(typ, "relay/") {
				t.Errorf("%s: selected local candidate %s, want relay", c.name, typ)
			}
		}
	}
	m := scrape(t, b+"/metrics", nil)
	if m["kuayang_turn_allocations"] < 4 || m["kuayang_turn_allocations_total"] < 4 {
		t.Errorf("turn metrics: allocations %v, total %v", m["kuayang_turn_allocations"], m["kuayang_turn_allocations_total"])
	}
	checkDashboard(t, b+"/metrics")
}

// checkDashboard checks that every metric deploy/grafana-dashboard.json
// queries is one the node at url exposes (this node runs every part:
// media, recorder, store, TURN).
func checkDashboard(t *testing.T, url string) {
	t.Helper()
	_, body := get(t, url, nil)
	families := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			families[strings.Fields(f)[0]] = true
		}
	}
	dash, err := os.ReadFile("../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	name := regexp.MustCompile(`\b(kuayang|process|go)_[a-z_]+\b`)
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				n++
				fam := m
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if f, ok := strings.CutSuffix(m, suffix); ok && families[f] {
						fam = f
					}
				}
				if !families[fam] {
					t.Errorf("dashboard panel %q queries %s, which the node does not expose", p.Title, m)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d metric references in the dashboard", n)
	}
}

func TestJoinAnswerCarriesExternalTURN(t *testing.T) {
	urls := []string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"}
	n := startNode(t, func(c *config.Config) { c.TURNExternal, c.TURNSecret, c.TURNTTL = urls, "coturn-secret", time.Hour })
	a := joinVia(t, via{}, base(n, "http"), n.invite(t, 1))
	if len(a.ICEServers) != 1 || strings.Join(a.ICEServers[0].URLs, " ") != strings.Join(urls, " ") {
		t.Fatalf("ice_servers %+v", a.ICEServers)
	}
	s := a.ICEServers[0]
	exp, user, _ := strings.Cut(s.Username, ":")
	e, _ := strconv.ParseInt(exp, 10, 64)
	if d := time.Until(time.Unix(e, 0)); user != a.Participant.ID || d < 55*time.Minute || d > time.Hour {
		t.Errorf("username %q (expires in %s)", s.Username, d)
	}
	if s.Credential != turn.Password("coturn-secret", s.Username) {
		t.Errorf("credential %q is not base64(HMAC-SHA1(secret, username))", s.Credential)
	}
}

// scrape gets a /metrics exposition and returns its samples by name and
// labels; it fails the test unless the answer is 200.
func scrape(t *testing.T, url string, header http.Header) map[string]float64 {
	t.Helper()
	status, body := get(t, url, header)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func get(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsEndpoint(t *testing.T) {
	n := startNode(t, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"} // as behind a reverse proxy on this machine
		c.SegmentDuration = time.Second
	})
	b := base(n, "http")
	a, c := connect(t, n, 0), connect(t, n, 1)
	flowing(t, a, 30, c)
	flowing(t, c, 30, a)
	var m map[string]float64
	waitFor(t, 15*time.Second, "a recorded segment uploaded", func() bool {
		m = scrape(t, b+"/metrics", nil)
		return m["kuayang_recorder_segments_uploaded_total"] >= 1
	})
	for name, want := range map[string]float64{"kuayang_rooms": 1, "kuayang_participants": 2, "kuayang_tracks": 4, "kuayang_recordings_active": 1} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
	for _, name := range []string{"kuayang_forwarded_packets_total", "kuayang_forwarded_bytes_total", "kuayang_recorder_uploaded_bytes_total",
		`kuayang_store_duration_seconds_count{op="MarkJoined"}`, "go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if m[name] <= 0 {
			t.Errorf("%s = %v, want > 0", name, m[name])
		}
	}
	if m["kuayang_forwarded_bytes_total"] < 100*m["kuayang_forwarded_packets_total"] {
		t.Errorf("forwarded %v bytes in %v packets", m["kuayang_forwarded_bytes_total"], m["kuayang_forwarded_packets_total"])
	}
	if _, ok := m["kuayang_turn_allocations"]; ok {
		t.Error("turn metrics without a TURN server")
	}

	// Through the (trusted) proxy for someone on the internet: refused.
	status, body := get(t, b+"/metrics", http.Header{"X-Forwarded-For": {"203.0.113.7"}})
	if status != http.StatusForbidden || !strings.Contains(body, `"code":"metrics_forbidden"`) {
		t.Fatalf("metrics for 203.0.113.7 through the proxy: %d %s", status, body)
	}
}

func TestACMEHTTPListenerRedirectsToHTTPS(t *testing.T) {
	port := freePort(t)
	n := startNode(t, func(c *config.Config) {
		c.ACMEHost, c.ACMEHTTPAddr = "mediation.example.org", "127.0.0.1:"+strconv.Itoa(port)
	})
	if want := "https://mediation.example.org:" + strconv.Itoa(n.Addr().(*net.TCPAddr).Port); n.URL() != want {
		t.Errorf("derived public URL %q, want %q", n.URL(), want)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/join/abc", nil)
	req.Host = "mediation.example.org"
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://mediation.example.org/join/abc" {
		t.Fatalf("%d Location %q", resp.StatusCode, loc)
	}
	// A challenge for a token the node never asked for is unknown.
	req, _ = http.NewRequest(http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/.well-known/acme-challenge/nope", nil)
	req.Host = "mediation.example.org"
	if resp, err = noRedirect.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown challenge: %d", resp.StatusCode)
	}
}

func TestBadCertificateStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	certPath, _, _ := selfSigned(t, dir)
	cfg := config.Default()
	cfg.HTTPAddr, cfg.UDPPort, cfg.TCPPort, cfg.PublicIP, cfg.DataDir = "127.0.0.1:0", 0, 0, "127.0.0.1", t.TempDir()
	cfg.TLSCert, cfg.TLSKey = certPath, certPath // the certificate is no key
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err == nil {
		_ = n.Close(t.Context())
		t.Fatal("a node started with a certificate file as its key")
	}
	if !strings.Contains(err.Error(), "tls") || !strings.Contains(err.Error(), "cert.pem") {
		t.Fatalf("error %q does not name the TLS files", err)
	}
}
