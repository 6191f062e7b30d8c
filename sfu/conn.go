package sfu

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/webrtc/v4"
)

// maxPendingCandidates bounds the remote candidates queued before a remote
// description arrives.
const maxPendingCandidates = 64

// conn is one of a participant's peer connections with its ICE candidate
// bookkeeping.
type conn struct {
	dir Direction
	pc  *webrtc.PeerConnection
	log *slog.Logger

	mu      sync.Mutex                // guards the fields below and remote descriptions
	pending []webrtc.ICECandidateInit // remote candidates before a remote description

	localMu  sync.Mutex // guards the fields below
	gateOpen bool       // local candidates may go to the client
	held     []webrtc.ICECandidateInit
}

// newConn creates a peer connection for direction d.
func newConn(api *webrtc.API, d Direction, log *slog.Logger) (*conn, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("sfu: new %s connection: %w", d, err)
	}
	return wrapConn(pc, d, log), nil
}

// wrapConn makes pc the connection of direction d.
func wrapConn(pc *webrtc.PeerConnection, d Direction, log *slog.Logger) *conn {
	// The client learns the publish connection's candidates from the
	// answer Publish returns; the subscribe connection's only once the
	// first offer is out, so they are held until then.
	return &conn{dir: d, pc: pc, log: log.With("pc", d), gateOpen: d == Publish}
}

// local passes a local candidate to the client, or holds it until the
// gate opens.
func (c *conn) local(h Handler, cand webrtc.ICECandidateInit) {
	c.localMu.Lock()
	if !c.gateOpen {
		c.held = append(c.held, cand)
		c.localMu.Unlock()
		return
	}
	c.localMu.Unlock()
	h.Candidate(c.dir, cand)
}

// openGate lets local candidates through, first the held ones.
func (c *conn) openGate(h Handler) {
	c.localMu.Lock()
	held := c.held
	c.held, c.gateOpen = nil, true
	c.localMu.Unlock()
	for _, cand := range held {
		h.Candidate(c.dir, cand)
	}
}

// addRemote adds a client candidate, or queues it until the remote
// description is set.
func (c *conn) addRemote(cand webrtc.ICECandidateInit) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pc.RemoteDescription() == nil {
		if len(c.pending) >= maxPendingCandidates {
			return fmt.Errorf("%w: too many candidates before the %s description", ErrBadCandidate, c.dir)
		}
		c.pending = append(c.pending, cand)
		return nil
	}
	if err := c.pc.AddICECandidate(cand); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadCandidate, c.dir, err)
	}
	return nil
}

// setRemoteLocked applies a remote description, then the queued candidates
// (a refused queued candidate is only logged: the description stands).
// c.mu must be held. A refused remote offer is rolled back.
func (c *conn) setRemoteLocked(sd webrtc.SessionDescription) error {
	if err := c.pc.SetRemoteDescription(sd); err != nil {
		if c.pc.SignalingState() == webrtc.SignalingStateHaveRemoteOffer {
			_ = c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		}
		return fmt.Errorf("%w: %s %s: %w", ErrBadSDP, c.dir, sd.Type, err)
	}
	pending := c.pending
	c.pending = nil
	for _, cand := range pending {
		if err := c.pc.AddICECandidate(cand); err != nil {
			c.log.Debug("queued candidate refused", "candidate", cand.Candidate, "err", err)
		}
	}
	return nil
}

// close ends the connection and waits for pion's goroutines.
func (c *conn) close() {
	_ = c.pc.GracefulClose()
}
