package signaling

import (
	"context"
	"errors"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// onJoin checks the token and consent, records the join, enters the room
// (replacing an older connection of the same participant) and joins the
// media plane.
func (c *client) onJoin(m Join) *Error {
	if c.joined.Load() {
		return errorf(CodeAlreadyJoined, "join", "this connection has already joined")
	}
	if m.Version != Version {
		return errorf(CodeUnsupportedVersion, "join", "protocol version %d is not supported; this server speaks %d", m.Version, Version)
	}
	sess, part, perr := c.admit(m)
	if perr != nil {
		return perr
	}
	if pl := c.s.cfg.Placement; pl != nil {
		ctx, cancel := c.ctx()
		to, err := pl.Claim(ctx, sess.ID)
		cancel()
		if err != nil {
			c.s.log.Warn("cannot place session", "session", sess.ID, "err", err)
			return errorf(CodeCoordinationUnavailable, "join", "the node hosting this session cannot be found right now; try again shortly")
		}
		if to != "" {
			c.send(redirectMsg{Type: "redirect", Code: RedirectRoomElsewhere, URL: to, WSURL: wsURL(to)})
			c.closeAfterFlush()
			c.s.log.Info("join redirected to the session's node", "session", sess.ID, "participant", part.ID, "to", to)
			return nil
		}
	}
	if _, err := c.s.tokens.Use(m.Token); err != nil {
		return tokenError(err)
	}
	if lc := c.s.cfg.Lifecycle; lc != nil {
		if err := lc.Joined(sess, part.ID); err != nil {
			c.s.log.Error("session cannot start", "session", sess.ID, "participant", part.ID, "err", err)
			return errorf(CodeRecordingUnavailable, "join", "the recording of this session cannot start, so it cannot be joined now; try again shortly")
		}
	}
	if perr := c.recordConsent(sess, part, m.Consent); perr != nil {
		return perr
	}
	c.sessionID, c.pid, c.name, c.role, c.session = sess.ID, part.ID, part.DisplayName, part.Role, sess
	c.interpretsFor = part.InterpretsFor
	c.mu.Lock()
	c.audio, c.video = true, true
	c.mu.Unlock()
	c.link = newLink(c)
	c.joined.Store(true)

	old, inCall, reason := c.s.enter(c)
	if old != nil {
		old.replaced.Store(true)
		old.leaveMedia()
		old.kick("replaced")
	}
	if inCall {
		if perr := c.enterCall(true); perr != nil {
			return perr
		}
	} else {
		c.send(joinedMsg{Type: "joined", Self: c.info(), Participants: []ParticipantInfo{}, Chat: []ChatMsg{},
			Session: sessionInfo(sess), Resume: c.resumeInfo(), Call: c.callInfo()})
		c.waitInLobby(reason)
	}
	c.s.log.Info("participant joined", "session", sess.ID, "participant", part.ID, "role", part.Role, "remote", c.ip,
		"replaced", old != nil, "waiting", reason)
	return nil
}

// admit checks the token without using it up and loads the session and the
// participant it names.
func (c *client) admit(m Join) (*cases.Session, *cases.Participant, *Error) {
	claims, err := c.s.tokens.Check(m.Token)
	if err != nil {
		return nil, nil, tokenError(err)
	}
	ctx, cancel := c.ctx()
	defer cancel()
	sess, err := c.s.records.Session(ctx, claims.SessionID)
	if err != nil {
		return nil, nil, lookupError(c, err)
	}
	part, err := c.s.records.Participant(ctx, claims.ParticipantID)
	if err != nil {
		return nil, nil, lookupError(c, err)
	}
	if part.SessionID != sess.ID {
		return nil, nil, errorf(CodeTokenInvalid, "join", "the join token is not valid")
	}
	if sess.State == "ended" || sess.EndedAt != nil {
		return nil, nil, errorf(CodeSessionEnded, "join", "this session has ended")
	}
	if sess.Record && !m.Consent {
		return nil, nil, errorf(CodeConsentRequired, "join", "this session is recorded: consent to the recording is required to join")
	}
	return sess, part, nil
}

func lookupError(c *client, err error) *Error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(CodeTokenInvalid, "join", "the join token is not valid")
	}
	c.s.log.Error("loading join records", "err", err)
	return errorf(CodeInternal, "join", "the records could not be read; try again")
}

// recordConsent writes consent and the session going live; presence
// starts when the participant enters the call (enterCall).
func (c *client) recordConsent(sess *cases.Session, part *cases.Participant, consent bool) *Error {
	ctx, cancel := c.ctx()
	defer cancel()
	now := time.Now()
	var err error
	if consent {
		err = c.s.records.MarkConsent(ctx, part.ID, now)
	}
	if err == nil {
		err = c.s.records.MarkSessionLive(ctx, sess.ID, now)
	}
	if err != nil {
		c.s.log.Error("recording join", "participant", part.ID, "err", err)
		return errorf(CodeInternal, "join", "the join could not be recorded; try again")
	}
	if consent {
		c.audit(ctx, sess, part.ID, "consent", `{"recording":true,"online_procedure":true}`)
	}
	return nil
}

// audit appends an entry by the participant; a failure is logged.
func (c *client) audit(ctx context.Context, sess *cases.Session, pid, action, detail string) {
	e := &audit.Entry{Time: time.Now(), ActorKind: audit.ActorParticipant, ActorID: pid, Action: action,
		OrgID: sess.OrgID, CaseID: sess.CaseID, SessionID: sess.ID, IP: c.ip, Detail: detail}
	if err := c.s.records.AppendAudit(ctx, e); err != nil {
		c.s.log.Error("audit append failed", "action", action, "participant", pid, "err", err)
	}
}

func (c *client) onPublish(m Publish) *Error {
	c.callMu.Lock()
	defer c.callMu.Unlock()
	media := c.mediaParticipant()
	if media == nil {
		return errorf(CodeInternal, "publish", "not connected to the media server")
	}
	media.SetScreen(m.Screen)
	answer, err := media.Publish(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP})
	if err != nil {
		return errorf(CodeBadSDP, "publish", "the offer was refused: %s", short(err))
	}
	c.send(sdpMsg{Type: "answer", SDP: answer.SDP})
	c.setScreen(m.Screen != "")
	return nil
}

// setScreen notes whether the client shares its screen and, when that
// changes, tells the others and the records.
func (c *client) setScreen(on bool) {
	c.mu.Lock()
	changed := c.screen != on
	c.screen = on
	c.mu.Unlock()
	if !changed {
		return
	}
	c.s.broadcast(c.sessionID, c, participantMsg{Type: "participant_updated", Participant: c.info()})
	action := "screen.stop"
	if on {
		action = "screen.start"
	}
	c.auditNow(action, "")
}

func (c *client) onAnswer(m Answer) *Error {
	c.callMu.Lock()
	defer c.callMu.Unlock()
	media := c.mediaParticipant()
	if media == nil {
		return errorf(CodeInternal, "answer", "not connected to the media server")
	}
	if err := media.Answer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
		return errorf(CodeBadSDP, "answer", "the answer was refused: %s", short(err))
	}
	return nil
}

func (c *client) onCandidate(m Candidate) *Error {
	if m.Candidate.Candidate == "" {
		return nil // end of candidates
	}
	if _, err := ice.UnmarshalCandidate(m.Candidate.Candidate); err != nil {
		return errorf(CodeBadCandidate, "candidate", "the candidate could not be parsed: %s", short(err))
	}
	c.callMu.Lock()
	defer c.callMu.Unlock()
	media := c.mediaParticipant()
	if media == nil {
		return errorf(CodeInternal, "candidate", "not connected to the media server")
	}
	if err := media.AddCandidate(m.PC, *m.Candidate); err != nil {
		return errorf(CodeBadCandidate, "candidate", "the candidate was refused: %s", short(err))
	}
	return nil
}

func (c *client) onState(m State) *Error {
	c.mu.Lock()
	if m.Audio != nil {
		c.audio = *m.Audio
	}
	if m.Video != nil {
		c.video = *m.Video
	}
	c.mu.Unlock()
	c.s.broadcast(c.sessionID, c, participantMsg{Type: "participant_updated", Participant: c.info()})
	return nil
}

func (c *client) onLeave() *Error {
	c.kick("left")
	return nil
}

// short bounds an error text sent to a client.
func short(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
