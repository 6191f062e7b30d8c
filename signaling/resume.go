package signaling

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// A participant's connection drops for many reasons that are over in
// seconds: a phone moving from Wi-Fi to mobile data, a hotel network
// renewing its lease, a laptop lid. Leaving and joining again for each
// would end their presence in the records, close their media, make the
// others see them leave and come back, and lose the recording's track.
// So when a joined connection ends without saying goodbye, the server
// keeps its place (its media connections, its place in the call or in the
// waiting room, its private room) for Config.ResumeWindow. The client
// opens a new websocket and sends `resume` with the token of its last
// `joined` (or `resumed`); the new connection takes the place over and
// both media connections restart ICE. Only when the window passes does
// the participant leave, as they would have at once before.

// issueResumeLocked gives c a new resume token. Server.mu is held.
func (s *Server) issueResumeLocked(c *client) {
	if s.cfg.ResumeWindow <= 0 {
		return
	}
	if c.resumeToken != "" {
		delete(s.resumes, c.resumeToken)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	c.resumeToken = hex.EncodeToString(b[:])
	s.resumes[c.resumeToken] = c
}

// forgetLocked drops what keeps c resumable: its token and, if it is
// away, the timer that ends its place. Server.mu is held.
func (s *Server) forgetLocked(c *client) {
	if c.resumeToken != "" {
		delete(s.resumes, c.resumeToken)
		c.resumeToken = ""
	}
	if c.detached != nil {
		c.detached.Stop()
		c.detached = nil
		delete(s.away, c)
	}
}

// resumeInfo is the resume part of joined and resumed.
func (c *client) resumeInfo() *ResumeInfo {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.resumeToken == "" {
		return nil
	}
	return &ResumeInfo{Token: c.resumeToken, Window: int(c.s.cfg.ResumeWindow / time.Second)}
}

// callInfo mints a call token for c, or nil when the server has no
// call tokens.
func (c *client) callInfo() *CallInfo {
	if c.s.cfg.CallTokens == nil {
		return nil
	}
	tok, exp := c.s.cfg.CallTokens.Mint(c.sessionID, c.pid)
	return &CallInfo{Token: tok, ExpiresAt: exp.UTC()}
}

// detach keeps the place of c, whose connection has just ended, for the
// resume window. It reports false when the place is not kept: c never
// joined, said goodbye, was told to go, or was taken over; the caller
// then cleans up at once.
func (c *client) detach() bool {
	s := c.s
	if s.cfg.ResumeWindow <= 0 || !c.joined.Load() || c.replaced.Load() {
		return false
	}
	s.mu.Lock()
	r := s.rooms[c.sessionID]
	// final is read under the lock that expire takes: a goodbye racing
	// the drop either finds the place kept (and ends it) or is seen here.
	if s.closed || r == nil || r.members[c.pid] != c || c.resumeToken == "" || c.final.Load() {
		s.mu.Unlock()
		return false
	}
	c.away.Store(true)
	s.away[c] = struct{}{}
	c.detached = time.AfterFunc(s.cfg.ResumeWindow, func() {
		if c.expire() {
			s.log.Info("participant did not come back in time", "session", c.sessionID, "participant", c.pid,
				"window", s.cfg.ResumeWindow)
		}
	})
	inCall := c.inCall
	s.mu.Unlock()
	s.log.Info("participant connection lost, place kept", "session", c.sessionID, "participant", c.pid,
		"window", s.cfg.ResumeWindow)
	c.auditNow("connection.lost", "")
	if inCall {
		s.broadcast(c.sessionID, c, participantMsg{Type: "participant_updated", Participant: c.info()})
	}
	return true
}

// expire ends the kept place of c, if it is away: c leaves as a
// connection that ended without a resume would. It reports whether c was
// away.
func (c *client) expire() bool {
	s := c.s
	s.mu.Lock()
	if c.detached == nil {
		s.mu.Unlock()
		return false
	}
	c.detached.Stop()
	c.detached = nil
	delete(s.away, c)
	s.mu.Unlock()
	c.cleanup()
	return true
}

// onResume takes over the place of the connection whose resume token m
// carries.
func (c *client) onResume(m Resume) *Error {
	if c.joined.Load() {
		return errorf(CodeAlreadyJoined, "resume", "this connection has already joined")
	}
	if m.Version != Version {
		return errorf(CodeUnsupportedVersion, "resume", "protocol version %d is not supported; this server speaks %d", m.Version, Version)
	}
	s := c.s
	s.mu.Lock()
	old := s.resumes[m.Token]
	s.mu.Unlock()
	if old == nil {
		return errorf(CodeResumeFailed, "resume", "this connection's place is no longer kept; join again")
	}
	// A move to or from the call on the old connection ends first, and
	// none starts until the place has changed hands.
	old.callMu.Lock()
	defer old.callMu.Unlock()
	s.mu.Lock()
	r := s.rooms[old.sessionID]
	if s.resumes[m.Token] != old || r == nil || r.members[old.pid] != old || old.replaced.Load() || old.final.Load() || s.closed {
		s.mu.Unlock()
		return errorf(CodeResumeFailed, "resume", "this connection's place is no longer kept; join again")
	}
	wasAway := old.detached != nil
	s.forgetLocked(old)
	old.replaced.Store(true)
	c.sessionID, c.pid, c.name, c.role, c.session = old.sessionID, old.pid, old.name, old.role, old.session
	c.interpretsFor, c.link = old.interpretsFor, old.link
	old.mu.Lock()
	c.mu.Lock()
	c.media, old.media = old.media, nil
	c.audio, c.video, c.hand, c.group, c.chatTimes = old.audio, old.video, old.hand, old.group, old.chatTimes
	c.screen = old.screen
	c.mu.Unlock()
	old.mu.Unlock()
	c.inCall, c.waitReason, c.waitingSince = old.inCall, old.waitReason, old.waitingSince
	old.inCall = false
	r.members[c.pid] = c
	s.issueResumeLocked(c)
	c.link.cur.Store(c)
	c.joined.Store(true)
	call, _ := r.callLocked(c)
	inCall, reason := c.inCall, c.waitReason
	s.mu.Unlock()
	old.closeNow() // if its connection still seemed alive: it is not

	sess := c.session
	call.Type, call.Self, call.Resume, call.Call = "resumed", c.info(), c.resumeInfo(), c.callInfo()
	if inCall {
		call.Settlement = c.currentSettlement()
	}
	c.send(call)
	if !inCall {
		c.send(waitingMsg{Type: "waiting", Reason: reason})
	} else if media := c.mediaParticipant(); media != nil {
		media.RestartICE()
	}
	if c.host() {
		if l := s.lobby(c.sessionID); len(l.Waiting) > 0 || sess.WaitingRoom {
			c.send(l)
		}
	}
	c.auditNow("connection.resumed", "")
	s.log.Info("participant resumed", "session", c.sessionID, "participant", c.pid, "remote", c.ip, "was_away", wasAway, "in_call", inCall)
	if inCall {
		s.broadcast(c.sessionID, c, participantMsg{Type: "participant_updated", Participant: c.info()})
	}
	return nil
}

// onIceRestart restarts ICE on the subscribe connection: the client's
// media connections failed while its websocket stayed up (a network
// change), and it restarts the publish connection itself.
func (c *client) onIceRestart() *Error {
	c.callMu.Lock()
	defer c.callMu.Unlock()
	media := c.mediaParticipant()
	if media == nil {
		return errorf(CodeInternal, "ice_restart", "not connected to the media server")
	}
	media.RestartICE()
	return nil
}
