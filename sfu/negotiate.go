package sfu

import (
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
)

// gatherWait bounds how long Publish waits for the answer's candidates. With
// the shared sockets gathering takes microseconds.
const gatherWait = 2 * time.Second

// Publish applies the client's offer on the publish connection and returns
// the answer. It may be called again to renegotiate (tracks added/removed).
// The answer carries the SFU's candidates, which are also trickled through
// Handler.Candidate. A refused offer leaves the connection as it was; the
// error wraps ErrBadSDP.
func (p *Participant) Publish(offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if p.left.Load() {
		return webrtc.SessionDescription{}, ErrLeft
	}
	if offer.Type != webrtc.SDPTypeOffer {
		return webrtc.SessionDescription{}, fmt.Errorf("%w: publish wants an offer, got %s", ErrBadSDP, offer.Type)
	}
	c := p.pub
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.setRemoteLocked(offer); err != nil {
		return webrtc.SessionDescription{}, p.leftErr(err)
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		c.rollbackRemote()
		return webrtc.SessionDescription{}, p.leftErr(fmt.Errorf("%w: publish: create answer: %w", ErrBadSDP, err))
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(answer); err != nil {
		c.rollbackRemote()
		return webrtc.SessionDescription{}, p.leftErr(fmt.Errorf("%w: publish: set answer: %w", ErrBadSDP, err))
	}
	select {
	case <-gathered:
	case <-time.After(gatherWait):
	}
	if ld := c.pc.LocalDescription(); ld != nil {
		return *ld, nil
	}
	return answer, nil
}

// rollbackRemote abandons a remote offer that could not be answered.
func (c *conn) rollbackRemote() {
	if c.pc.SignalingState() == webrtc.SignalingStateHaveRemoteOffer {
		_ = c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
	}
}

// Answer applies the client's answer to the last Offer on the subscribe
// connection. A refused answer abandons that offer and a fresh one follows
// through Handler.Offer; the error wraps ErrBadSDP.
func (p *Participant) Answer(answer webrtc.SessionDescription) error {
	if p.left.Load() {
		return ErrLeft
	}
	if answer.Type != webrtc.SDPTypeAnswer {
		return fmt.Errorf("%w: subscribe wants an answer, got %s", ErrBadSDP, answer.Type)
	}
	p.negMu.Lock()
	if !p.offerPending {
		p.negMu.Unlock()
		return ErrNoOffer
	}
	c := p.sub
	c.mu.Lock()
	err := c.setRemoteLocked(answer)
	c.mu.Unlock()
	if err != nil && c.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		_ = c.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		p.dirty = true
	}
	p.offerPending = false
	p.answered = p.answered || err == nil
	again := p.dirty
	p.negMu.Unlock()
	if again {
		p.renegotiate()
	}
	return p.leftErr(err)
}

// leftErr marks an error caused by a concurrent Leave closing the
// connections as ErrLeft.
func (p *Participant) leftErr(err error) error {
	if err != nil && p.left.Load() {
		return fmt.Errorf("%w: %w", ErrLeft, err)
	}
	return err
}

// renegotiate offers the subscribe connection's current tracks. Offers are
// serialized: while one awaits its answer, the change is remembered and
// offered when the answer arrives.
func (p *Participant) renegotiate() {
	offer, ok := p.makeOffer()
	if !ok {
		return
	}
	p.h.Offer(offer)
	p.sub.openGate(p.h)
}

// subscribeConnected notes that the subscribe connection came up and
// offers the tracks that changed while it was coming up.
func (p *Participant) subscribeConnected() {
	p.negMu.Lock()
	first := !p.subConnected
	p.subConnected = true
	again := first && p.dirty && !p.offerPending
	p.negMu.Unlock()
	if again {
		p.renegotiate()
	}
}

// makeOffer creates and applies a subscribe offer unless one is pending.
func (p *Participant) makeOffer() (webrtc.SessionDescription, bool) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.left.Load() {
		return webrtc.SessionDescription{}, false
	}
	if p.offerPending || (p.answered && !p.subConnected) {
		// A second offer before the connection is up would race pion's
		// start of the transports with the first answer's ICE
		// credentials (a pion client that answers it sees them change,
		// restarts ICE, and the connection never comes up). Offer once
		// connected.
		p.dirty = true
		return webrtc.SessionDescription{}, false
	}
	p.dirty = false
	offer, err := p.sub.pc.CreateOffer(nil)
	if err == nil {
		err = p.sub.pc.SetLocalDescription(offer)
	}
	if err != nil {
		if !p.left.Load() {
			p.log.Warn("subscribe offer failed", "err", err)
		}
		return webrtc.SessionDescription{}, false
	}
	p.offerPending = true
	return offer, true
}

// AddCandidate adds a remote ICE candidate to one of the connections.
// Candidates that arrive before the connection's remote description are
// queued. An empty candidate (end of candidates) is ignored.
func (p *Participant) AddCandidate(d Direction, c webrtc.ICECandidateInit) error {
	if p.left.Load() {
		return ErrLeft
	}
	if c.Candidate == "" {
		return nil
	}
	switch d {
	case Publish:
		return p.leftErr(p.pub.addRemote(c))
	case Subscribe:
		return p.leftErr(p.sub.addRemote(c))
	default:
		return fmt.Errorf("%w: unknown connection %q", ErrBadCandidate, d)
	}
}

// RestartICE offers the subscribe connection again with new ICE
// credentials (an ICE restart): the client's network changed, or it came
// back on a new signaling connection and its candidates may have changed
// with it. An offer that was awaiting its answer is abandoned (that
// answer will not come: the signaling connection that carried the offer
// is gone) and its changes are part of the new one. The publish
// connection restarts from the client's side, with an offer of its own
// (Publish). A failure of either connection is reported again after a
// restart.
func (p *Participant) RestartICE() {
	p.negMu.Lock()
	if p.left.Load() {
		p.negMu.Unlock()
		return
	}
	if p.offerPending && p.sub.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		if err := p.sub.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			p.log.Warn("ICE restart: abandoning the pending offer", "err", err)
		}
	}
	p.offerPending, p.dirty = false, false
	p.failed.Store(false)
	offer, err := p.sub.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err == nil {
		err = p.sub.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.negMu.Unlock()
		if !p.left.Load() {
			p.log.Warn("ICE restart offer failed", "err", err)
		}
		return
	}
	p.offerPending = true
	p.negMu.Unlock()
	p.log.Info("ICE restart offered")
	p.h.Offer(offer)
	p.sub.openGate(p.h)
}
