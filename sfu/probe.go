package sfu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Network check: before joining, a page offers a peer connection with one
// data channel to the node (Probe) over the same ports and candidates the
// call will use, and times echoes through it. So a person learns before
// the call whether media gets through their network, over UDP or only TCP
// or a relay, and with what round-trip time.

// Probe limits.
const (
	// MaxProbes is how many network checks may run at once on a node.
	MaxProbes = 32
	// ProbeLifetime is how long a network check's connection lives.
	ProbeLifetime = 30 * time.Second
	// maxProbeMessage bounds an echoed message.
	maxProbeMessage = 1200
)

// ErrBusy is returned by Probe when MaxProbes checks are running.
var ErrBusy = errors.New("sfu: too many network checks at once")

// Probe answers a network check's offer: a connection whose data channels
// echo every message (of at most 1200 bytes) back, closed after
// ProbeLifetime or when the page closes it. The answer holds every local
// candidate (no trickle).
func (s *SFU) Probe(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	if s.probes.Add(1) > MaxProbes {
		s.probes.Add(-1)
		return webrtc.SessionDescription{}, ErrBusy
	}
	pc, err := s.apis.pub.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		s.probes.Add(-1)
		return webrtc.SessionDescription{}, fmt.Errorf("sfu: probe: %w", err)
	}
	end := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(end) }) }
	// The connection lives until its time is up, the page closes it, or
	// the SFU closes.
	if !s.enter() {
		_ = pc.Close()
		s.probes.Add(-1)
		return webrtc.SessionDescription{}, ErrClosed
	}
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(ProbeLifetime)
		defer t.Stop()
		select {
		case <-end:
		case <-t.C:
		case <-s.quit:
		}
		_ = pc.Close()
		s.probes.Add(-1)
	}()
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			switch {
			case len(m.Data) > maxProbeMessage:
			case m.IsString:
				_ = dc.SendText(string(m.Data)) // as text, as it came
			default:
				_ = dc.Send(m.Data)
			}
		})
		dc.OnClose(stop)
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			stop()
		}
	})
	fail := func(err error) (webrtc.SessionDescription, error) {
		stop()
		return webrtc.SessionDescription{}, err
	}
	if err := pc.SetRemoteDescription(offer); err != nil {
		return fail(fmt.Errorf("%w: %v", ErrBadSDP, err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrBadSDP, err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(fmt.Errorf("sfu: probe: %w", err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	return *pc.LocalDescription(), nil
}
