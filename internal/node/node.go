// Package node assembles one Kuayang node from a Config: the record store,
// the media plane, signaling, the REST API and the web client behind one
// HTTP server. `kuayang serve` is a thin shell around it; the end-to-end
// tests start nodes in-process through the same code.
package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/kuayang/kuayang/internal/api"
	"github.com/kuayang/kuayang/internal/archive"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/blob/file"
	"github.com/kuayang/kuayang/internal/blob/s3"
	"github.com/kuayang/kuayang/internal/clientip"
	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/coord"
	"github.com/kuayang/kuayang/internal/demo"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/metrics"
	"github.com/kuayang/kuayang/internal/notary"
	"github.com/kuayang/kuayang/internal/settlement"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/postgres"
	"github.com/kuayang/kuayang/internal/store/sqlite"
	"github.com/kuayang/kuayang/internal/turn"
	"github.com/kuayang/kuayang/sfu"
	"github.com/kuayang/kuayang/signaling"
	"github.com/kuayang/kuayang/web"
)

// Node is one running node.
type Node struct {
	cfg    config.Config
	log    *slog.Logger
	store  store.Store
	key    []byte
	tokens *auth.JoinTokens
	// callTokens are what the call page shows to the HTTP routes it uses.
	callTokens *auth.CallTokens
	media      *sfu.SFU
	sig        *signaling.Server
	ln         net.Listener
	srv        *http.Server
	done       chan error
	stop       chan struct{} // ends background loops
	loops      sync.WaitGroup
	// limiter counts failed logins per IP and per email.
	limiter *auth.Limiter
	blob    blob.Store
	archive *archive.Archive
	notary  *notary.Desk // documents and journal of notarization sessions
	version string
	ips     *clientip.Resolver
	// explicitURL is the configured public URL; empty when it was derived
	// from the listener, so that answers follow the request's host.
	explicitURL string

	storeMetrics *metrics.Store    // the store, timed (n.store is it)
	mono         metrics.Monotonic // keeps the media counters monotonic
	tlsConf      *tls.Config       // nil unless the node serves TLS itself
	acme         *autocert.Manager // with --acme-host
	acmeSrv      *http.Server      // the HTTP-01 listener, with --acme-http-addr
	turn         *turn.Server      // the embedded TURN server, or nil
	issuers      []*turn.Issuer    // the TURN servers handed to clients
	coord        coord.Coordinator // in-process, or Redis with --redis-url; timed by coordMetrics
	coordMetrics *metrics.Coord
	member       *coord.Member // this node's registration and leases
	cpu          cpuMeter
	settlements  *settlement.Service // the settlement agreements of mediation sessions

	// tsaRoots are the timestamp authority's roots (--tsa-ca), nil when
	// not given.
	tsaRoots *x509.CertPool
}

// New opens the backends and the media sockets. Nothing listens for HTTP
// until Start. version names the software in manifests.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, version string) (*Node, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	n := &Node{cfg: cfg, log: log, done: make(chan error, 1), stop: make(chan struct{}), explicitURL: cfg.PublicURL,
		limiter: auth.NewLimiter(10, 15*time.Minute), version: version}
	if err := n.open(ctx); err != nil {
		n.closeBackends()
		return nil, err
	}
	return n, nil
}

func (n *Node) open(ctx context.Context) error {
	st, err := OpenStore(ctx, n.cfg)
	if err != nil {
		return fmt.Errorf("node: store: %w", err)
	}
	n.storeMetrics = metrics.NewStore(st)
	n.store = n.storeMetrics
	if err := n.setupTLS(); err != nil {
		return err
	}
	if n.key, err = auth.LoadKey(filepath.Join(n.cfg.DataDir, "node.key")); err != nil {
		return err
	}
	n.tokens = auth.NewJoinTokens(n.key, n.cfg.JoinTokenTTL)
	n.callTokens = auth.NewCallTokens(n.key, callTokenTTL)
	n.media, err = sfu.New(n.sfuConfig())
	if err != nil {
		return fmt.Errorf("node: media: %w", err)
	}
	if n.ips, err = clientip.New(n.cfg.TrustedProxies); err != nil {
		return err
	}
	if err := n.openTURN(); err != nil {
		return err
	}
	if err := n.openArchive(ctx); err != nil {
		return err
	}
	if err := n.openCoord(ctx); err != nil {
		return err
	}
	n.sig = signaling.New(signaling.Config{AllowedOrigins: n.allowedOrigins(), Logger: n.log, ResumeWindow: resumeWindow(n.cfg.ResumeWindow), CallTokens: n.callTokens, ClientIP: n.ips.IP, Lifecycle: eventLifecycle{n, n.archive},
		Placement: placement{n}, OriginAllowed: n.nodeOrigin, EndSession: n.EndSession, OnHostAction: n.hostAction, Notary: n.notary,
		Settlements: n.settlements},
		signaling.SFU{S: n.media}, n.store, n.tokens)
	return nil
}

// openArchive opens the object store and the signing key and starts the
// archive, which records sessions and seals them.
func (n *Node) openArchive(ctx context.Context) error {
	b, err := OpenBlob(ctx, n.cfg)
	if err != nil {
		return fmt.Errorf("node: object store: %w", err)
	}
	n.blob = b
	n.notary = &notary.Desk{Store: n.store, Blob: b}
	key, err := evidence.LoadOrCreateKey(filepath.Join(n.cfg.DataDir, "signing-key.pem"))
	if err != nil {
		return fmt.Errorf("node: signing key: %w", err)
	}
	stamper, roots, err := n.timestamping()
	if err != nil {
		return err
	}
	n.tsaRoots = roots
	n.notary.Stamper = stamper // journal entries: nil when no authority is configured
	if err := n.openSettlements(stamper); err != nil {
		return err
	}
	n.archive = archive.New(archive.Config{Store: n.store, Blob: b, Media: n.media, Key: key,
		SpoolDir: filepath.Join(n.cfg.DataDir, "spool"), Node: n.cfg.NodeID, Version: n.version,
		SegmentDuration: n.cfg.SegmentDuration, Grace: n.cfg.SealGrace, FailoverWait: n.cfg.FailoverWait,
		Rooms: archiveRooms{n}, Logger: n.log, Stamper: stamper, Documents: n.sessionDocuments})
	return n.archive.Start(ctx)
}

// OpenBlob opens the S3 bucket when configured, else the object directory
// in the data dir.
func OpenBlob(ctx context.Context, cfg config.Config) (blob.Store, error) {
	if cfg.S3URL == "" {
		return file.Open(filepath.Join(cfg.DataDir, "objects"))
	}
	s3cfg, err := config.ParseS3URL(cfg.S3URL)
	if err != nil {
		return nil, err
	}
	return s3.Open(ctx, s3cfg, s3.Options{})
}

// OpenStore opens PostgreSQL when configured, else the SQLite file in the
// data dir. Both apply their migrations.
func OpenStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	if cfg.PostgresURL != "" {
		return postgres.Open(ctx, cfg.PostgresURL)
	}
	return sqlite.Open(ctx, filepath.Join(cfg.DataDir, "kuayang.db"))
}

func (n *Node) sfuConfig() sfu.Config {
	c := sfu.Config{UDPPort: n.cfg.UDPPort, TCPPort: n.cfg.TCPPort, BatchUDP: n.cfg.UDPBatch, Logger: n.log}
	if n.cfg.TCPPort == 0 {
		c.TCPPort = -1
	}
	if ip := net.ParseIP(n.cfg.PublicIP); ip != nil {
		c.PublicIPs = []string{n.cfg.PublicIP}
		if ip.IsLoopback() {
			// A node that advertises loopback serves this machine only
			// (tests, a demo on a laptop): keep all media on lo.
			c.Loopback = true
			c.ListenIP = n.cfg.PublicIP
		}
	}
	return c
}

func (n *Node) allowedOrigins() []string {
	o := append([]string(nil), n.cfg.AllowedOrigins...)
	if n.cfg.PublicURL != "" {
		o = append(o, n.cfg.PublicURL)
	}
	return o
}

// Handler is the node's HTTP surface.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /ws", n.sig)
	join := n.joinCORS(&api.Join{Store: n.store, Tokens: n.tokens, PublicURL: n.explicitURL, Log: n.log,
		ICEServers: n.iceServers})
	mux.Handle("POST /api/v1/join", join)
	mux.Handle("POST /api/v1/netcheck", &api.NetCheck{Tokens: n.tokens, Media: n.media, Log: n.log})
	mux.Handle("OPTIONS /api/v1/join", join)
	staff := &api.Server{Store: n.store, PublicURL: n.URL, Log: n.log, InviteTTL: n.cfg.InviteTTL,
		SecureCookies: strings.HasPrefix(n.cfg.PublicURL, "https://"), Limiter: n.limiter, IPs: n.ips,
		Ender: n, CallTokens: n.callTokens, Notary: n.notary, Recordings: &api.Recordings{Blob: n.blob, MediaKey: n.key, ManifestKey: archive.ManifestKey, SignatureKey: archive.SignatureKey,
			TimestampKey: archive.TimestampKey, TSARoots: n.tsaRoots,
			Draft: func(ctx context.Context, sessionID string, until time.Time) (*evidence.Manifest, error) {
				return archive.Draft(ctx, n.store, sessionID, until)
			}}}
	if id, err := n.identityAPI(); err != nil {
		n.log.Error("identity verification off", "err", err)
	} else {
		staff.Identity = id
	}
	staff.Routes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", n.readyz)
	mux.Handle("GET /metrics", n.metricsHandler())
	mux.Handle("/", web.Handler())
	if n.tlsConf != nil {
		return hsts(mux)
	}
	return mux
}

func (n *Node) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := n.store.Ping(ctx); err != nil {
		n.log.Warn("not ready", "backend", "store", "err", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// Start listens for HTTP and serves in the background.
func (n *Node) Start() error {
	if err := web.Check(); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	ln, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.ln = ln
	if n.cfg.PublicURL == "" {
		n.cfg.PublicURL = n.derivedURL(ln.Addr().(*net.TCPAddr).Port)
	}
	// Membership first: the archive takes up what this node (or a node
	// that stopped) left recording before anyone can join.
	n.startMember()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	n.archive.Run(ctx)
	cancel()
	n.srv = &http.Server{
		Handler:           n.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
		TLSConfig:         n.tlsConf,
	}
	if n.tlsConf != nil {
		go func() { n.done <- n.srv.ServeTLS(ln, "", "") }() // the certificate comes from TLSConfig
	} else {
		go func() { n.done <- n.srv.Serve(ln) }()
	}
	if err := n.serveACMEHTTP(); err != nil {
		_ = n.srv.Close()
		return err
	}
	n.loops.Add(1)
	go n.expireLogins()
	n.loops.Add(1)
	go n.sweepIdentity()
	a := n.media.Addrs()
	n.log.Info("kuayang serving", "url", n.cfg.PublicURL, "http", ln.Addr().String(), "tls", n.tlsConf != nil, "udp", a.UDP, "tcp", a.TCP)
	return nil
}

// derivedURL is the public URL when none is configured: the ACME host
// name, else localhost on the HTTP port.
func (n *Node) derivedURL(port int) string {
	p := ":" + strconv.Itoa(port)
	switch {
	case n.cfg.ACMEHost != "":
		if port == 443 {
			p = ""
		}
		return "https://" + n.cfg.ACMEHost + p
	case n.tlsConf != nil:
		return "https://localhost" + p
	}
	return "http://localhost" + p
}

// expireLogins deletes expired logins every hour until the node stops.
func (n *Node) expireLogins() {
	defer n.loops.Done()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if k, err := n.store.DeleteExpiredLogins(ctx, time.Now()); err != nil {
			n.log.Warn("deleting expired logins", "err", err)
		} else if k > 0 {
			n.log.Info("expired logins deleted", "count", k)
		}
		cancel()
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

// URL is the node's public URL (known once Start has run).
func (n *Node) URL() string { return n.cfg.PublicURL }

// Addr is the bound HTTP address.
func (n *Node) Addr() net.Addr { return n.ln.Addr() }

// Store is the node's record store.
func (n *Node) Store() store.Store { return n.store }

// Done reports the HTTP server's end.
func (n *Node) Done() <-chan error { return n.done }

// Demo creates the demo records and writes demo.json.
func (n *Node) Demo(ctx context.Context) (*demo.Result, error) {
	d := &demo.Demo{Store: n.store, Key: n.key, PublicURL: n.cfg.PublicURL, InviteTTL: n.cfg.InviteTTL}
	res, err := d.Ensure(ctx)
	if err != nil {
		return nil, err
	}
	return res, res.WriteFile(n.cfg.DataDir)
}

// Close stops accepting, says bye to every client, and closes the media
// plane and the store.
func (n *Node) Close(ctx context.Context) error {
	var errs []error
	if n.srv != nil {
		errs = append(errs, n.srv.Shutdown(ctx))
	}
	if n.acmeSrv != nil {
		errs = append(errs, n.acmeSrv.Shutdown(ctx))
	}
	select {
	case <-n.stop:
	default:
		close(n.stop)
	}
	n.loops.Wait()
	errs = append(errs, n.closeCoord(ctx))
	errs = append(errs, n.closeBackends())
	return errors.Join(errs...)
}

func (n *Node) closeBackends() error {
	var errs []error
	if n.sig != nil {
		errs = append(errs, n.sig.Close())
	}
	if n.archive != nil {
		n.archive.Close()
	}
	if n.turn != nil {
		errs = append(errs, n.turn.Close())
	}
	if n.media != nil {
		errs = append(errs, n.media.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	return errors.Join(errs...)
}

// EndSession ends a session for everyone: it is marked ended (so nobody
// can join again), every connection gets bye, and its recording is sealed.
func (n *Node) EndSession(ctx context.Context, sessionID string) error {
	if err := n.store.EndSession(ctx, sessionID, time.Now()); err != nil {
		return err
	}
	n.sig.EndSession(sessionID)
	n.archive.End(sessionID)
	n.publish(coord.Event{Type: coord.SessionEnded, Room: sessionID}) // the node hosting it may be another
	return nil
}

// Config is the node's configuration (with the public URL known once
// Start has run).
func (n *Node) Config() config.Config { return n.cfg }

// Archive is the node's recording archive.
func (n *Node) Archive() *archive.Archive { return n.archive }

// callTokenTTL is how long a call token lasts: longer than any hearing;
// every resumed hands out a fresh one.
const callTokenTTL = 12 * time.Hour

// resumeWindow is the configured window in signaling's terms: off is
// negative there (zero means its default).
func resumeWindow(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
