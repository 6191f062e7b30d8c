// Package sfu is the media plane: a selective forwarding unit on pion/webrtc.
//
// Every participant of a room has two peer connections. On the publish
// connection the client offers and the SFU answers; on the subscribe
// connection the SFU offers and the client answers. The offerer is always the
// sender, so offers never collide. Each published track is read by one
// goroutine and fanned out to every other participant of the room through
// bounded per-subscriber queues. A room may be divided into groups
// (Participant.SetGroup, for caucuses): a track then reaches only the
// members of its publisher's group, and the room's observers (group.go).
//
// The package knows nothing of cases, HTTP, signaling or storage, and imports
// no other package of this module (deps_test.go keeps it so).
//
// Forwarded tracks carry the publisher's participant id as their stream id,
// so a client maps every received track to the participant who sent it; a
// publisher's screen share (Participant.SetScreen) is forwarded under a
// stream of its own, ScreenStreamID.
//
// A publisher may send a video track as up to three simulcast layers
// (RIDs). The layers of a track are forwarded as one track: each
// subscriber receives one layer at a time, chosen from its subscribe
// connection's bandwidth estimate (pion's send-side congestion control on
// transport-wide feedback, active on the connections that receive
// simulcast), and switched at keyframes with sequence numbers, timestamps
// and VP8 picture IDs continuous; observers receive the top layer. See
// simulcast.go, control.go and bwe.go.
package sfu

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// Direction names one of a participant's two peer connections.
type Direction string

const (
	// Publish is the connection the client sends media on (client offers).
	Publish Direction = "publish"
	// Subscribe is the connection the client receives media on (SFU offers).
	Subscribe Direction = "subscribe"
)

// Config configures an SFU.
type Config struct {
	// UDPPort is the one UDP port all media of this node shares (ICE UDP
	// mux). 0 picks a free port (tests).
	UDPPort int
	// TCPPort is the ICE-TCP fallback port. 0 picks a free port; -1
	// disables ICE-TCP.
	TCPPort int
	// ListenIP is the address the UDP and TCP sockets bind to; empty means
	// all addresses.
	ListenIP string
	// PublicIPs, when set, are advertised as host candidates instead of the
	// local addresses (1:1 NAT).
	PublicIPs []string
	// Loopback includes loopback candidates and restricts gathering to the
	// loopback interface (tests).
	Loopback bool
	// BatchUDP sends and receives with sendmmsg and recvmmsg (see
	// batchConn) instead of one system call per packet.
	BatchUDP bool
	// Logger receives the SFU's log records; nil means slog.Default().
	Logger *slog.Logger
}

// Handler receives what the media plane has to tell one participant's
// client. Methods are called from pion's goroutines and must not block.
type Handler interface {
	// Offer is a new offer on the subscribe connection: the client must
	// answer it with Participant.Answer.
	Offer(sdp webrtc.SessionDescription)
	// Candidate is a local ICE candidate of one of the two connections.
	Candidate(d Direction, c webrtc.ICECandidateInit)
	// Failed is called once when either connection fails for good.
	Failed(err error)
}

// Addrs are the sockets an SFU listens on.
type Addrs struct {
	UDP *net.UDPAddr
	TCP *net.TCPAddr // nil when ICE-TCP is disabled
}

// SFU is one node's media plane.
type SFU struct {
	log     *slog.Logger
	apis    apis
	addrs   Addrs
	closers []io.Closer // ICE muxes, which close their sockets

	wgMu     sync.Mutex // guards stopping and wg.Add
	stopping bool
	wg       sync.WaitGroup // every goroutine the SFU starts

	mu        sync.Mutex // guards the fields below; taken before room.mu
	closed    bool
	rooms     map[string]*room
	observers map[string][]*observer // by room name, kept while rooms come and go

	retiredForwarded atomic.Uint64 // counters of removed subscriptions
	retiredDropped   atomic.Uint64
	retiredBytes     atomic.Uint64
	retiredSwitches  atomic.Uint64

	simulcasts atomic.Int64  // simulcast tracks being published
	quit       chan struct{} // closed by Close: the controller stops

	probes atomic.Int64 // network checks running (Probe)

	nacks   atomic.Uint64 // NACK messages received from subscribers
	plisIn  atomic.Uint64 // PLI and FIR received from subscribers
	plisOut atomic.Uint64 // PLI sent to publishers
}

// New opens the UDP mux (and ICE-TCP listener) and returns a running SFU.
func New(cfg Config) (*SFU, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "sfu")
	var ip net.IP
	if cfg.ListenIP != "" {
		if ip = net.ParseIP(cfg.ListenIP); ip == nil {
			return nil, fmt.Errorf("sfu: listen ip %q is not an IP address", cfg.ListenIP)
		}
	}
	lf := slogFactory{log: log}
	s := &SFU{log: log, rooms: map[string]*room{}, observers: map[string][]*observer{}, quit: make(chan struct{})}
	t, err := s.listen(cfg, ip, lf)
	if err != nil {
		return nil, err
	}
	if s.apis, err = newAPIs(cfg, lf, t); err != nil {
		s.closeSockets()
		return nil, err
	}
	s.spawn(s.controlLoop)
	log.Info("sfu listening", "udp", s.addrs.UDP, "tcp", s.addrs.TCP)
	return s, nil
}

// udpReadBuffer is the receive buffer asked for the media socket.
const udpReadBuffer = 8 << 20

// listen opens the UDP socket and, unless disabled, the ICE-TCP listener,
// and wraps them in ICE muxes.
func (s *SFU) listen(cfg Config, ip net.IP, lf slogFactory) (transport, error) {
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: cfg.UDPPort})
	if err != nil {
		return transport{}, fmt.Errorf("sfu: listen udp: %w", err)
	}
	// All media arrives on this one socket. The default receive buffer
	// (about 200 KB on Linux) holds a few hundred milliseconds of a few
	// cameras sent as simulcast: a busy moment of the process (a burst of
	// keyframes, the garbage collector, a loaded machine) lost packets in
	// the kernel, and the recording waited for a keyframe. The kernel
	// caps the size at net.core.rmem_max (docs/deploy.md).
	if err := udp.SetReadBuffer(udpReadBuffer); err != nil {
		s.log.Warn("sfu: udp receive buffer", "err", err)
	}
	var sock net.PacketConn = udp
	if cfg.BatchUDP {
		sock = batchSocket(udp, s.log)
	}
	t := transport{ip: ip, udpMux: webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), sock)}
	s.closers = append(s.closers, t.udpMux)
	s.addrs.UDP = udp.LocalAddr().(*net.UDPAddr)
	if cfg.TCPPort == -1 {
		return t, nil
	}
	tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: cfg.TCPPort})
	if err != nil {
		s.closeSockets()
		return transport{}, fmt.Errorf("sfu: listen tcp: %w", err)
	}
	t.tcpMux = webrtc.NewICETCPMux(lf.NewLogger("tcpmux"), tcp, 8)
	s.closers = append(s.closers, t.tcpMux)
	s.addrs.TCP = tcp.Addr().(*net.TCPAddr)
	return t, nil
}

// closeSockets closes the ICE muxes and with them the sockets.
func (s *SFU) closeSockets() error {
	var errs []error
	for _, c := range s.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Addrs reports the bound sockets.
func (s *SFU) Addrs() Addrs { return s.addrs }

// Close ends every room and closes the sockets. It returns once every
// goroutine the SFU started has ended. Idempotent.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var parts []*Participant
	for _, r := range s.rooms {
		r.mu.Lock()
		for _, p := range r.parts {
			parts = append(parts, p)
		}
		r.mu.Unlock()
	}
	s.mu.Unlock()

	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(p.Leave)
	}
	wg.Wait()
	s.wgMu.Lock()
	s.stopping = true
	s.wgMu.Unlock()
	close(s.quit)
	err := s.closeSockets()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("sfu: close: %w", err)
	}
	return nil
}

// enter registers a goroutine with the SFU; false means the SFU is closing
// and the goroutine must not run. A true return must be paired with
// s.wg.Done.
func (s *SFU) enter() bool {
	s.wgMu.Lock()
	defer s.wgMu.Unlock()
	if s.stopping {
		return false
	}
	s.wg.Add(1)
	return true
}

// spawn runs fn in a goroutine the SFU waits for on Close.
func (s *SFU) spawn(fn func()) {
	if !s.enter() {
		return
	}
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

// Join adds participant pid to room (created on first join). It fails with
// ErrDuplicate if pid is already in the room.
func (s *SFU) Join(room, pid string, h Handler) (*Participant, error) {
	if h == nil {
		return nil, errors.New("sfu: join: nil handler")
	}
	if err := s.checkJoin(room, pid); err != nil {
		return nil, err
	}
	p, err := newParticipant(s, pid, h)
	if err != nil {
		return nil, err
	}
	if err := s.admit(room, p); err != nil {
		p.closeConns()
		return nil, err
	}
	p.attachCallbacks()
	p.room.subscribeAll(p)
	p.log.Debug("joined")
	return p, nil
}

// checkJoin fails early, before connections are built, when Join cannot
// succeed.
func (s *SFU) checkJoin(room, pid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if r := s.rooms[room]; r != nil && r.has(pid) {
		return fmt.Errorf("%w: %q in room %q", ErrDuplicate, pid, room)
	}
	return nil
}

// admit makes p a member of the room, creating the room if needed.
func (s *SFU) admit(name string, p *Participant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	r := s.rooms[name]
	if r == nil {
		r = newRoom(s, name)
		r.obs = slices.Clone(s.observers[name])
		s.rooms[name] = r
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.parts[p.id]; dup {
		return fmt.Errorf("%w: %q in room %q", ErrDuplicate, p.id, name)
	}
	r.parts[p.id] = p
	p.room = r
	p.log = p.log.With("room", name)
	return nil
}

// Stats is a snapshot of an SFU's activity.
type Stats struct {
	Rooms        int
	Participants int
	Tracks       int    // published tracks being forwarded
	Forwarded    uint64 // packets queued to subscribers, ever
	Dropped      uint64 // packets dropped because a subscriber fell behind, ever
	// ForwardedBytes is the size of the forwarded packets as received
	// from the publishers, ever.
	ForwardedBytes uint64
	NACKs          uint64 // NACK messages received from subscribers, ever
	KeyframeAsks   uint64 // PLI and FIR messages received from subscribers, ever
	PLIs           uint64 // PLI sent to publishers (after throttling), ever
	// LayerSwitches counts the times a subscriber or observer of a
	// simulcast track moved to another layer, ever.
	LayerSwitches uint64
	// SimulcastLayers is the number of layers of the published simulcast
	// tracks that are being received (measured, with media in the last
	// second).
	SimulcastLayers int
}

// Stats returns a snapshot of the SFU's activity.
func (s *SFU) Stats() Stats {
	st := Stats{
		Forwarded:      s.retiredForwarded.Load(),
		Dropped:        s.retiredDropped.Load(),
		ForwardedBytes: s.retiredBytes.Load(),
		NACKs:          s.nacks.Load(),
		KeyframeAsks:   s.plisIn.Load(),
		PLIs:           s.plisOut.Load(),
		LayerSwitches:  s.retiredSwitches.Load(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Rooms = len(s.rooms)
	for _, r := range s.rooms {
		r.addStats(&st)
	}
	return st
}
