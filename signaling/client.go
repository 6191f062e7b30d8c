package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/sfu"
)

// client is one websocket connection. Its read loop (run) owns the
// connection's protocol state; the writer goroutine owns writes.
type client struct {
	s    *Server
	conn *websocket.Conn
	ip   string

	out       chan []byte // frames to write; nil means close after flushing
	done      chan struct{}
	closeOnce sync.Once

	joined   atomic.Bool
	replaced atomic.Bool // another connection took the participant over (join or resume)
	// final: the connection ends for good (bye, a fatal error, the room
	// moved): its place is not kept for a resume.
	final atomic.Bool
	// away: the connection dropped and the place is kept (resume.go).
	away atomic.Bool
	// link is what the media plane calls; a resume points it at the
	// connection that took over.
	link *link

	// Set once by the read loop at join, read-only afterwards.
	sessionID string
	pid       string
	name      string
	role      cases.Role
	session   *cases.Session
	// interpretsFor is the party an interpreter interprets for.
	interpretsFor string

	// callMu serializes moves between the call and the waiting room
	// (call.go) with the media messages.
	callMu sync.Mutex

	// Guarded by Server.mu.
	inCall       bool        // in the call (else waiting, once joined)
	waitReason   string      // why it waits
	waitingSince time.Time   // when it began waiting: its place in the hosts' list
	resumeToken  string      // the token that resumes this connection's session
	detached     *time.Timer // set while the connection is gone and its place kept

	mu        sync.Mutex // guards the fields below
	media     MediaParticipant
	audio     bool
	video     bool
	hand      bool
	screen    bool        // the last publish named a screen-share track
	group     string      // the private room the client's media is in ("" joint)
	chatTimes []time.Time // of the last chat messages, for the rate limit
}

func newClient(s *Server, conn *websocket.Conn, ip string) *client {
	return &client{
		s: s, conn: conn, ip: ip,
		out:  make(chan []byte, s.cfg.SendQueue),
		done: make(chan struct{}),
	}
}

// run is the client's loop: it reads frames and handles them one at a time
// until the connection ends, then cleans up.
func (c *client) run() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	joinTimer := time.AfterFunc(c.s.cfg.JoinTimeout, func() {
		if !c.joined.Load() {
			c.reject(errorf(CodeJoinTimeout, "", "no join within %s", c.s.cfg.JoinTimeout))
		}
	})
	c.readLoop()
	joinTimer.Stop()
	if !c.detach() {
		c.cleanup()
	}
	c.closeNow()
	<-writerDone
}

func (c *client) readLoop() {
	c.conn.SetReadLimit(c.s.cfg.ReadLimit)
	_ = c.conn.SetReadDeadline(time.Now().Add(c.s.cfg.PongTimeout))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(c.s.cfg.PongTimeout))
	})
	for {
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.s.log.Info("client error", "remote", c.ip, "participant", c.pid, "code", CodeTooLarge, "limit", c.s.cfg.ReadLimit)
				c.drain()
			}
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(c.s.cfg.PongTimeout))
		if typ != websocket.TextMessage {
			c.reject(errorf(CodeBadJSON, "", "binary frames are not part of the protocol"))
			continue
		}
		m, err := Decode(data)
		if err != nil {
			c.reject(err)
			continue
		}
		if perr := c.handle(m); perr != nil {
			c.reject(perr)
		}
	}
}

// drain discards what the client is still sending, for a short while, after
// the websocket library has sent close 1009. Closing with unread data would
// reset the connection and the client might never read the close frame.
func (c *client) drain() {
	nc := c.conn.NetConn()
	_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.CopyN(io.Discard, nc, 4*c.s.cfg.ReadLimit)
}

// reject sends a protocol error, logs it once, and ends the connection if
// the error is fatal.
func (c *client) reject(err error) {
	var perr *Error
	if !errors.As(err, &perr) {
		perr = errorf(CodeInternal, "", "internal error")
	}
	c.s.log.Info("client error", "remote", c.ip, "participant", c.pid, "code", perr.Code, "ref", perr.Ref, "msg", perr.Message)
	c.send(errorMsg{Type: "error", Code: perr.Code, Message: perr.Message, Ref: perr.Ref})
	if perr.Fatal() {
		c.final.Store(true)
		c.closeAfterFlush()
	}
}

// handle dispatches one message to its handler.
func (c *client) handle(m Message) *Error {
	switch m.(type) {
	case Join, Resume:
	default:
		if !c.joined.Load() {
			return errorf(CodeNotJoined, m.Type(), "send join first")
		}
	}
	switch m.(type) {
	case Join, Resume, Leave:
	case Answer, Candidate:
		if !c.isInCall() {
			return nil // media negotiation overtaken by a move to the waiting room
		}
	default:
		if !c.isInCall() {
			return errorf(CodeNotAdmitted, m.Type(), "you are in the waiting room: a host has not let you in yet")
		}
	}
	switch m := m.(type) {
	case Join:
		return c.onJoin(m)
	case Resume:
		return c.onResume(m)
	case IceRestart:
		return c.onIceRestart()
	case Publish:
		return c.onPublish(m)
	case Answer:
		return c.onAnswer(m)
	case Candidate:
		return c.onCandidate(m)
	case State:
		return c.onState(m)
	case Leave:
		return c.onLeave()
	case Chat:
		return c.onChat(m)
	case Hand:
		return c.onHand(m)
	case Admit:
		return c.onAdmit(m)
	case Reject:
		return c.onReject(m)
	case Notice:
		return c.onNotice(m)
	case Lock:
		return c.onLock(m)
	case Mute:
		return c.onMute(m)
	case Remove:
		return c.onRemove(m)
	case EndSession:
		return c.onEndSession(m)
	case RecordingPause:
		return c.onRecordingPause(m)
	case RecordingResume:
		return c.onRecordingResume()
	case RequestView:
		return c.onRequestView(m)
	case CaucusOpen:
		return c.onCaucusOpen(m)
	case CaucusJoin:
		return c.onCaucusJoin(m)
	case CaucusClose:
		return c.onCaucusClose(m)
	case SettlementTemplate:
		return c.onSettlementTemplate(m)
	case SettlementDraft:
		return c.onSettlementDraft(m)
	case SettlementShare:
		return c.onSettlementShare(m)
	case SettlementSign:
		return c.onSettlementSign(m)
	case SettlementConfirm:
		return c.onSettlementConfirm(m)
	case SettlementFinalize:
		return c.onSettlementFinalize(m)
	case ScriptStep:
		return c.onScriptStep(m)
	case DocumentShow:
		return c.onDocumentShow(m)
	case DocumentSign:
		return c.onDocumentSign(m)
	}
	return errorf(CodeUnknownType, "", "unknown message type %q", m.Type())
}

func (c *client) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// isInCall reports whether the client is in the call.
func (c *client) isInCall() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.inCall
}

// auditNow appends an audit entry by the client about its session.
func (c *client) auditNow(action, detail string) {
	ctx, cancel := c.ctx()
	defer cancel()
	c.audit(ctx, c.session, c.pid, action, detail)
}

func (c *client) info() ParticipantInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ParticipantInfo{ID: c.pid, Name: c.name, Role: string(c.role), Audio: c.audio, Video: c.video, Hand: c.hand, Host: c.host(), Room: c.group, Screen: c.screen,
		InterpretsFor: c.interpretsFor, Reconnecting: c.away.Load()}
}

// host reports whether the client presides the session (mediator, notary,
// judge): the host of the call.
func (c *client) host() bool { return c.role.Presides() }

func (c *client) mediaParticipant() MediaParticipant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.media
}

// leaveMedia takes the client out of the media plane. Idempotent.
func (c *client) leaveMedia() {
	c.mu.Lock()
	m := c.media
	c.media = nil
	c.mu.Unlock()
	if m != nil {
		m.Leave()
	}
}

// cleanup runs when the connection ends: media, room, records, others.
func (c *client) cleanup() {
	c.leaveMedia()
	if !c.joined.Load() || c.replaced.Load() {
		return
	}
	c.callMu.Lock() // a move to or from the call in progress ends first
	was, inCall, remaining := c.s.exit(c)
	c.callMu.Unlock()
	if !was {
		return
	}
	if lc := c.s.cfg.Lifecycle; lc != nil {
		lc.Left(c.session, c.pid, remaining)
	}
	if pl := c.s.cfg.Placement; pl != nil && remaining == 0 {
		pl.Vacated(c.sessionID)
	}
	if !inCall {
		c.auditNow("lobby.leave", "")
		c.s.lobbyChanged(c.sessionID)
		c.s.log.Info("participant left the waiting room", "session", c.sessionID, "participant", c.pid)
		return
	}
	c.recordLeave()
	c.s.broadcast(c.sessionID, c, leftMsg{Type: "participant_left", ID: c.pid})
	c.s.log.Info("participant left", "session", c.sessionID, "participant", c.pid)
	if c.host() {
		c.s.hostLeft(c.sessionID, c.session.WaitingRoom)
	}
}

// send queues a message. A client whose queue is full is too slow to keep
// up and is disconnected; it will reconnect.
func (c *client) send(msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		c.s.log.Error("encoding message", "err", err)
		return
	}
	select {
	case <-c.done:
	case c.out <- b:
	default:
		c.s.log.Warn("client send queue full, disconnecting", "remote", c.ip, "participant", c.pid)
		c.closeNow()
	}
}

// kick says bye and closes the connection once the bye is written; a
// connection that is away (its place kept for a resume) loses its place.
func (c *client) kick(reason string) {
	c.goodbye(byeMsg{Type: "bye", Reason: reason})
}

// goodbye sends bye and closes the connection for good, once the bye is
// written; a connection that is away loses its kept place.
func (c *client) goodbye(bye byeMsg) {
	c.final.Store(true)
	if c.expire() {
		return
	}
	c.send(bye)
	c.closeAfterFlush()
}

func (c *client) closeAfterFlush() {
	select {
	case <-c.done:
	case c.out <- nil:
	default:
		c.closeNow()
	}
}

func (c *client) closeNow() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.conn.Close()
	})
}

// writeLoop writes queued frames and pings until the client is closed.
func (c *client) writeLoop() {
	ping := time.NewTicker(c.s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			if b == nil {
				c.writeClose()
				return
			}
			_ = c.conn.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				c.closeNow()
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.cfg.WriteTimeout)); err != nil {
				c.closeNow()
				return
			}
		}
	}
}

// writeClose sends a normal close frame and closes the socket.
func (c *client) writeClose() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	c.closeNow()
}

// link points at the connection that speaks for a participant now: the
// one that joined, then each that resumed. The media plane's events go to
// it (a connection that is away drops them; the resume's ICE restart
// offers afresh).
type link struct{ cur atomic.Pointer[client] }

func newLink(c *client) *link {
	l := &link{}
	l.cur.Store(c)
	return l
}

// mediaHandler relays the media plane's events to the client.
type mediaHandler struct{ l *link }

var _ sfu.Handler = mediaHandler{}

func (h mediaHandler) Offer(sdp webrtc.SessionDescription) {
	h.l.cur.Load().send(sdpMsg{Type: "offer", SDP: sdp.SDP})
}

func (h mediaHandler) Candidate(d sfu.Direction, cand webrtc.ICECandidateInit) {
	h.l.cur.Load().send(candidateMsg{Type: "candidate", PC: d, Candidate: cand})
}

// Failed closes the websocket without bye: the client comes back (resume)
// and both connections restart ICE.
func (h mediaHandler) Failed(err error) {
	c := h.l.cur.Load()
	c.s.log.Warn("media connection failed", "participant", c.pid, "err", err)
	c.closeNow()
}
