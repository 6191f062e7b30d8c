// Package signaling is the websocket protocol between clients and a node:
// message types, one loop per client connection, room membership and who
// may do what. It drives the media plane (package sfu) through the small
// Media interface and keeps the case records up to date through Records.
//
// The wire protocol is written down in docs/protocol.md.
package signaling

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/clientip"
	"github.com/kuayang/kuayang/sfu"
)

// Media is what signaling needs of the media plane.
type Media interface {
	Join(room, pid string, h sfu.Handler) (MediaParticipant, error)
}

// MediaParticipant is one participant in the media plane.
type MediaParticipant interface {
	Publish(offer webrtc.SessionDescription) (webrtc.SessionDescription, error)
	Answer(answer webrtc.SessionDescription) error
	AddCandidate(d sfu.Direction, c webrtc.ICECandidateInit) error
	// SetGroup moves the participant's media into a private room's group
	// ("" is the joint room): media flows only within a group.
	SetGroup(g string)
	// RestartICE offers the subscribe connection again with new ICE
	// credentials.
	RestartICE()
	// SetScreen names the mid of the screen-share track in the publish
	// offers from now on ("" for none).
	SetScreen(mid string)
	Leave()
}

// SFU adapts *sfu.SFU to Media.
type SFU struct{ S *sfu.SFU }

// Join implements Media.
func (s SFU) Join(room, pid string, h sfu.Handler) (MediaParticipant, error) {
	p, err := s.S.Join(room, pid, h)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Records is what signaling reads and writes of the case records.
type Records interface {
	Session(ctx context.Context, id string) (*cases.Session, error)
	Participant(ctx context.Context, id string) (*cases.Participant, error)
	MarkSessionLive(ctx context.Context, id string, at time.Time) error
	MarkJoined(ctx context.Context, participantID string, at time.Time, ip string) error
	MarkLeft(ctx context.Context, participantID string, at time.Time) error
	MarkConsent(ctx context.Context, participantID string, at time.Time) error
	AppendAudit(ctx context.Context, e *audit.Entry) error
}

// Lifecycle is told when participants enter and leave a session's room,
// so that recording can start with the first and the session can end after
// the last. Calls must not block for long. A Joined error refuses the join:
// nobody enters a recorded session that is not being recorded.
type Lifecycle interface {
	Joined(sess *cases.Session, participantID string) error
	Left(sess *cases.Session, participantID string, remaining int)
}

// Tokens checks and uses up join tokens.
type Tokens interface {
	Check(tok string) (auth.JoinClaims, error)
	Use(tok string) (auth.JoinClaims, error)
}

// Config tunes a Server; zero values take the defaults in parentheses.
type Config struct {
	// AllowedOrigins are accepted Origin values besides the request's own
	// host (scheme://host[:port]).
	AllowedOrigins []string
	ReadLimit      int64         // bytes per frame (64 KiB)
	JoinTimeout    time.Duration // time to send join (10 s)
	PingInterval   time.Duration // (15 s)
	PongTimeout    time.Duration // (45 s)
	WriteTimeout   time.Duration // per frame (10 s)
	SendQueue      int           // frames queued per client before it is dropped (256)
	// ResumeWindow is how long the place of a client whose connection
	// dropped is kept (its media, its place in the call or the waiting
	// room) for it to resume (30 s); negative: not kept, a client that
	// drops leaves and joins again.
	ResumeWindow time.Duration
	// CallTokens mints the call tokens joined and resumed carry (nil:
	// none; the call page's HTTP routes are then out of its reach).
	CallTokens interface {
		Mint(sessionID, participantID string) (string, time.Time)
	}
	Logger *slog.Logger
	// ClientIP returns the address of the person behind a request; the
	// peer address when nil.
	ClientIP func(*http.Request) string
	// Lifecycle, when set, is told of joins and leaves.
	Lifecycle Lifecycle
	// Placement, when set, decides whether this node hosts a session's
	// room or sends the client to the node that does (several nodes).
	Placement Placement
	// OriginAllowed, when set, accepts further websocket origins (the
	// other nodes of the installation).
	OriginAllowed func(origin string) bool
	// EndSession, when set, ends a session for everyone (a host's
	// end_session): the records, every connection, the recording.
	EndSession func(ctx context.Context, sessionID string) error
	// OnHostAction, when set, is told of a host's action on a participant
	// ("mute", "remove"), for the other nodes.
	OnHostAction func(sessionID, host, action, target string)
	// Settlements, when set, keeps the settlement agreements drafted and
	// signed in mediation sessions (settlement.go).
	Settlements Settlements
	// Notary, when set, is the notary's desk: the script and documents of
	// notarization sessions (notary.go).
	Notary Notary
}

// Placement says which node hosts a session's room.
type Placement interface {
	// Claim is called before a participant enters sessionID's room on
	// this node. It returns "" when this node hosts the room (and holds
	// it from now on), or the public URL of the node that hosts it, to
	// which the client is redirected. An error refuses the join with
	// coordination_unavailable (the client may try again).
	Claim(ctx context.Context, sessionID string) (redirectURL string, err error)
	// Vacated is called when the last participant left the room on this
	// node.
	Vacated(sessionID string)
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.JoinTimeout, 10*time.Second)
	def(&c.PingInterval, 15*time.Second)
	def(&c.PongTimeout, 45*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.ResumeWindow, 30*time.Second)
	if c.ReadLimit == 0 {
		c.ReadLimit = 64 << 10
	}
	if c.SendQueue == 0 {
		c.SendQueue = 256
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ClientIP == nil {
		var peer *clientip.Resolver // trusts no proxy: the peer address
		c.ClientIP = peer.IP
	}
}

// Server accepts websocket connections at its ServeHTTP.
type Server struct {
	cfg      Config
	media    Media
	records  Records
	tokens   Tokens
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu      sync.Mutex       // guards the fields below
	rooms   map[string]*room // by session id
	conns   map[*client]struct{}
	resumes map[string]*client   // by resume token
	away    map[*client]struct{} // connections gone whose place is kept
	closed  bool
	wg      sync.WaitGroup // client loops
}

// New returns a Server.
func New(cfg Config, media Media, records Records, tokens Tokens) *Server {
	cfg.setDefaults()
	s := &Server{
		cfg: cfg, media: media, records: records, tokens: tokens,
		log:     cfg.Logger.With("component", "signaling"),
		rooms:   make(map[string]*room),
		conns:   make(map[*client]struct{}),
		resumes: make(map[string]*client),
		away:    make(map[*client]struct{}),
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     s.checkOrigin,
	}
	return s
}

// checkOrigin accepts requests without Origin (non-browser clients, which
// still need a join token), from the request's own host, and from the
// configured origins.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range s.cfg.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return s.cfg.OriginAllowed != nil && s.cfg.OriginAllowed(origin)
}

// ServeHTTP upgrades the request and runs the client's loop until the
// connection ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Info("websocket upgrade refused", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return // the upgrader has answered
	}
	c := newClient(s, conn, s.cfg.ClientIP(r))
	if !s.track(c) {
		c.closeNow()
		return
	}
	defer s.untrack(c)
	c.run()
}

func (s *Server) track(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *client) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Close says bye to every client and waits for their loops to end.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*client, 0, len(s.conns)+len(s.away))
	for c := range s.conns {
		conns = append(conns, c)
	}
	for c := range s.away {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kick("shutdown")
	}
	s.wg.Wait()
	return nil
}

// EndSession says bye (session_ended) to everyone connected to a session
// and closes their connections. The caller has already marked the session
// ended, so nobody can join it again.
func (s *Server) EndSession(sessionID string) int {
	s.mu.Lock()
	var members []*client
	if r := s.rooms[sessionID]; r != nil {
		for _, c := range r.members {
			members = append(members, c)
		}
	}
	s.mu.Unlock()
	for _, c := range members {
		c.kick("session_ended")
	}
	return len(members)
}

// Moved closes the connections of a session whose room another node now
// hosts, without bye: the clients reconnect, as after a network failure,
// and are redirected there.
func (s *Server) Moved(sessionID string) int {
	s.mu.Lock()
	var members []*client
	if r := s.rooms[sessionID]; r != nil {
		for _, c := range r.members {
			members = append(members, c)
		}
	}
	s.mu.Unlock()
	for _, c := range members {
		c.final.Store(true) // its place is kept on the other node, not here
		if !c.expire() {
			c.closeNow()
		}
	}
	return len(members)
}

// Rooms lists the sessions with someone connected to this node.
func (s *Server) Rooms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.rooms))
	for id := range s.rooms {
		out = append(out, id)
	}
	return out
}

// Present returns the ids of the participants connected to a session.
func (s *Server) Present(sessionID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[sessionID]
	if r == nil {
		return nil
	}
	ids := make([]string, 0, len(r.members))
	for id := range r.members {
		ids = append(ids, id)
	}
	return ids
}

// tokenError maps an auth error to its protocol error.
func tokenError(err error) *Error {
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return errorf(CodeTokenExpired, "join", "the join token has expired; open the invite link again")
	case errors.Is(err, auth.ErrTokenUsed):
		return errorf(CodeTokenUsed, "join", "the join token was already used; open the invite link again")
	default:
		return errorf(CodeTokenInvalid, "join", "the join token is not valid")
	}
}
