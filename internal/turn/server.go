package turn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	pionturn "github.com/pion/turn/v5"
)

// Realm is the embedded server's realm.
const Realm = "kuayang"

// maxAllocationsPerUser bounds the relays one credential holds at once: a
// browser allocates one per TURN URL per peer connection (two connections,
// up to three URLs), a few more across ICE restarts.
const maxAllocationsPerUser = 16

// Config configures the embedded TURN server.
type Config struct {
	// ListenIP is the address the TURN ports and the relays bind to; empty
	// means all addresses.
	ListenIP string
	// Port serves TURN on UDP and TCP; TLSPort serves TURN over TLS with
	// TLS. Either may be 0 (off), not both. In tests, -1 picks a free port.
	Port, TLSPort int
	TLS           *tls.Config
	// RelayIP is the relayed address given to clients (XOR-RELAYED-ADDRESS).
	// Only this node's media plane ever sends to it.
	RelayIP net.IP
	// MediaPort is the media plane's UDP port: the one peer port relays
	// reach.
	MediaPort int
	// MediaIP is the address the media plane advertises (--public-ip), nil
	// when it advertises the host's own addresses. Relays reach the media
	// port on this machine directly, whatever this address is, so a host
	// behind 1:1 NAT needs no hairpin.
	MediaIP net.IP
	// Secret checks the credentials (see Credentials).
	Secret string
	Logger *slog.Logger
	Now    func() time.Time
}

// Server is the running embedded TURN server.
type Server struct {
	srv   *pionturn.Server
	log   *slog.Logger
	now   func() time.Time
	relay *relayGen

	udp  *net.UDPAddr
	tcp  *net.TCPAddr
	tlsA *net.TCPAddr

	authFailures atomic.Uint64
	allocations  atomic.Uint64 // made since start

	mu      sync.Mutex
	perUser map[string]int
}

// Start opens the ports and starts serving.
func Start(cfg Config) (*Server, error) {
	if cfg.Port == 0 && cfg.TLSPort == 0 {
		return nil, errors.New("turn: no port")
	}
	if cfg.Secret == "" {
		return nil, errors.New("turn: no secret")
	}
	if cfg.TLSPort != 0 && cfg.TLS == nil {
		return nil, errors.New("turn: TLS port without a certificate")
	}
	if cfg.RelayIP == nil {
		return nil, errors.New("turn: no relay address")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{log: log.With("component", "turn"), now: cfg.Now, perUser: map[string]int{}}
	if s.now == nil {
		s.now = time.Now
	}
	rg, err := newRelayGen(cfg)
	if err != nil {
		return nil, err
	}
	s.relay = rg
	sc := pionturn.ServerConfig{
		Realm:         Realm,
		AuthHandler:   s.auth(cfg.Secret),
		QuotaHandler:  s.quota,
		LoggerFactory: pionLogs{log: s.log},
		EventHandler: pionturn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, user, _ string, _ net.Addr, _ int) { s.allocated(user, 1) },
			OnAllocationDeleted: func(_, _ net.Addr, _, user, _ string) { s.allocated(user, -1) },
			OnAuth: func(_, _ net.Addr, _, _, _, _ string, ok bool) {
				if !ok {
					s.authFailures.Add(1)
				}
			},
		},
	}
	var closers []func() error
	fail := func(err error) (*Server, error) {
		for _, c := range closers {
			_ = c()
		}
		return nil, err
	}
	if cfg.Port != 0 {
		port := max(cfg.Port, 0)
		udp, err := net.ListenPacket("udp", net.JoinHostPort(cfg.ListenIP, strconv.Itoa(port)))
		if err != nil {
			return fail(fmt.Errorf("turn: listen udp: %w", err))
		}
		closers = append(closers, udp.Close)
		s.udp = udp.LocalAddr().(*net.UDPAddr)
		if cfg.Port < 0 {
			port = s.udp.Port // tests: TCP on the port UDP got
		}
		tcp, err := net.Listen("tcp", net.JoinHostPort(cfg.ListenIP, strconv.Itoa(port)))
		if err != nil {
			return fail(fmt.Errorf("turn: listen tcp: %w", err))
		}
		closers = append(closers, tcp.Close)
		s.tcp = tcp.Addr().(*net.TCPAddr)
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, pionturn.PacketConnConfig{PacketConn: udp, RelayAddressGenerator: rg, PermissionHandler: rg.permit})
		sc.ListenerConfigs = append(sc.ListenerConfigs, pionturn.ListenerConfig{Listener: tcp, RelayAddressGenerator: rg, PermissionHandler: rg.permit})
	}
	if cfg.TLSPort != 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.ListenIP, strconv.Itoa(max(cfg.TLSPort, 0))))
		if err != nil {
			return fail(fmt.Errorf("turn: listen tls: %w", err))
		}
		closers = append(closers, ln.Close)
		s.tlsA = ln.Addr().(*net.TCPAddr)
		tl := tls.NewListener(ln, cfg.TLS)
		sc.ListenerConfigs = append(sc.ListenerConfigs, pionturn.ListenerConfig{Listener: tl, RelayAddressGenerator: rg, PermissionHandler: rg.permit})
	}
	srv, err := pionturn.NewServer(sc)
	if err != nil {
		return fail(fmt.Errorf("turn: %w", err))
	}
	s.srv = srv
	s.log.Info("turn listening", "udp", s.udp, "tcp", s.tcp, "tls", s.tlsA, "relay_ip", cfg.RelayIP, "media_port", cfg.MediaPort)
	return s, nil
}

// auth checks a TURN REST credential: the key is derived from the
// password the secret gives the username, and expired usernames are
// refused. The user id returned is the whole username, so that quotas
// count per credential.
func (s *Server) auth(secret string) pionturn.AuthHandler {
	return func(ra *pionturn.RequestAttributes) (string, []byte, bool) {
		if _, err := CheckUsername(ra.Username, s.now()); err != nil {
			s.authFailures.Add(1) // pion reports only wrong passwords to OnAuth
			s.log.Debug("turn credential refused", "username", ra.Username, "from", ra.SrcAddr, "err", err)
			return "", nil, false
		}
		return ra.Username, pionturn.GenerateAuthKey(ra.Username, ra.Realm, Password(secret, ra.Username)), true
	}
}

// quota refuses an allocation beyond maxAllocationsPerUser.
func (s *Server) quota(user, _ string, _ net.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perUser[user] < maxAllocationsPerUser
}

func (s *Server) allocated(user string, d int) {
	if d > 0 {
		s.allocations.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perUser[user] += d; s.perUser[user] <= 0 {
		delete(s.perUser, user)
	}
}

// Close stops the server and its relays.
func (s *Server) Close() error {
	if s == nil || s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Stats are the server's numbers, for metrics.
type Stats struct {
	Allocations      int    // relays open now
	AllocationsTotal uint64 // relays made since start
	AuthFailures     uint64 // requests refused for bad or expired credentials
	PeerRefused      uint64 // permissions and packets refused: not this node's media port
}

// Stats returns a snapshot of the server's numbers.
func (s *Server) Stats() Stats {
	return Stats{Allocations: s.srv.AllocationCount(), AllocationsTotal: s.allocations.Load(),
		AuthFailures: s.authFailures.Load(), PeerRefused: s.relay.refused.Load()}
}

// Addrs are the bound TURN ports (nil when off).
func (s *Server) Addrs() (udp *net.UDPAddr, tcp, tlsAddr *net.TCPAddr) { return s.udp, s.tcp, s.tlsA }

// relayGen makes the relays. A relay reaches one peer only: this node's
// media port. Packets the client sends to the media plane's advertised
// address go to the media port on this machine; packets from the media
// port come back labelled with that advertised address, so the client's
// permissions and channels match. Anything else is dropped, which keeps
// the TURN server from being an open relay into the node's network.
type relayGen struct {
	relayIP  net.IP
	bindIP   string
	mediaPub *net.UDPAddr // the address clients know (MediaIP:MediaPort), or nil
	local    *net.UDPAddr // where relays send to reach the media port
	localIPs map[string]bool
	port     int
	refused  atomic.Uint64
}

func newRelayGen(cfg Config) (*relayGen, error) {
	if cfg.MediaPort <= 0 {
		return nil, errors.New("turn: no media port")
	}
	g := &relayGen{relayIP: cfg.RelayIP, bindIP: cfg.ListenIP, port: cfg.MediaPort, localIPs: map[string]bool{}}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("turn: interface addresses: %w", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			g.localIPs[n.IP.String()] = true
		}
	}
	g.localIPs["127.0.0.1"], g.localIPs["::1"] = true, true
	// Where the media port is reached from here: the address it is bound
	// to, else the advertised or relayed address when it is this host's,
	// else loopback (the media plane listens on all addresses then).
	var localIP net.IP
	switch {
	case cfg.ListenIP != "":
		localIP = net.ParseIP(cfg.ListenIP)
	case cfg.MediaIP != nil && g.localIPs[cfg.MediaIP.String()]:
		localIP = cfg.MediaIP
	case g.localIPs[cfg.RelayIP.String()]:
		localIP = cfg.RelayIP
	default:
		localIP = net.IPv4(127, 0, 0, 1)
	}
	g.local = &net.UDPAddr{IP: localIP, Port: cfg.MediaPort}
	if cfg.MediaIP != nil {
		g.mediaPub = &net.UDPAddr{IP: cfg.MediaIP, Port: cfg.MediaPort}
	}
	return g, nil
}

// permit admits permissions and channels only towards the media plane's
// addresses.
func (g *relayGen) permit(_ net.Addr, peer net.IP) bool {
	ok := g.mediaPub != nil && peer.Equal(g.mediaPub.IP) || g.mediaPub == nil && g.localIPs[peer.String()]
	if !ok {
		g.refused.Add(1)
	}
	return ok
}

// Validate implements turn.RelayAddressGenerator.
func (g *relayGen) Validate() error { return nil }

// AllocatePacketConn implements turn.RelayAddressGenerator: a UDP socket
// on an ephemeral port, wrapped so that it talks to the media port only.
func (g *relayGen) AllocatePacketConn(conf pionturn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	v4 := g.relayIP.To4() != nil
	if (conf.Network == "udp6" && v4) || (conf.Network == "udp4" && !v4) {
		return nil, nil, fmt.Errorf("turn: relays are %s only", map[bool]string{true: "IPv4", false: "IPv6"}[v4])
	}
	network := "udp6"
	if v4 {
		network = "udp4"
	}
	c, err := net.ListenPacket(network, net.JoinHostPort(g.bindIP, "0"))
	if err != nil {
		return nil, nil, err
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	return &mediaOnlyConn{PacketConn: c, g: g}, &net.UDPAddr{IP: g.relayIP, Port: port}, nil
}

// AllocateListener implements turn.RelayAddressGenerator: TCP relays (RFC
// 6062) are not offered; browsers use UDP relays.
func (g *relayGen) AllocateListener(pionturn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errors.New("turn: TCP relays are not offered")
}

// AllocateConn implements turn.RelayAddressGenerator (see AllocateListener).
func (g *relayGen) AllocateConn(pionturn.AllocateConnConfig) (net.Conn, error) {
	return nil, errors.New("turn: TCP relays are not offered")
}

// mediaOnlyConn is a relay socket that exchanges packets with the media
// port only.
type mediaOnlyConn struct {
	net.PacketConn
	g *relayGen
}

// WriteTo sends to the media port what the client addressed to it, and
// drops the rest.
func (c *mediaOnlyConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	g := c.g
	switch {
	case !ok || ua.Port != g.port:
	case g.mediaPub != nil && ua.IP.Equal(g.mediaPub.IP):
		return c.PacketConn.WriteTo(p, g.local)
	case g.mediaPub == nil && g.localIPs[ua.IP.String()]:
		return c.PacketConn.WriteTo(p, ua)
	}
	g.refused.Add(1)
	return len(p), nil
}

// ReadFrom returns packets from the media port, labelled with the address
// the client knows it by, and drops the rest.
func (c *mediaOnlyConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		ua, ok := addr.(*net.UDPAddr)
		if !ok || ua.Port != c.g.port || !c.g.localIPs[ua.IP.String()] {
			c.g.refused.Add(1)
			continue
		}
		if c.g.mediaPub != nil {
			return n, c.g.mediaPub, nil
		}
		return n, ua, nil
	}
}

// pionLogs hands pion's loggers out as slog loggers at debug level: the
// TURN server reports every malformed datagram from the internet as an
// error, which is not the operator's.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) logf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug(fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(string)                   {}
func (l pionLogger) Tracef(string, ...any)          {}
func (l pionLogger) Debug(msg string)               { l.logf("%s", msg) }
func (l pionLogger) Debugf(format string, a ...any) { l.logf(format, a...) }
func (l pionLogger) Info(msg string)                { l.logf("%s", msg) }
func (l pionLogger) Infof(format string, a ...any)  { l.logf(format, a...) }
func (l pionLogger) Warn(msg string)                { l.logf("%s", msg) }
func (l pionLogger) Warnf(format string, a ...any)  { l.logf(format, a...) }
func (l pionLogger) Error(msg string)               { l.logf("%s", msg) }
func (l pionLogger) Errorf(format string, a ...any) { l.logf(format, a...) }
