package sfu

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// A network check: a client's data channel gets its messages echoed over
// the node's media port, oversized ones are not echoed, and the
// connection is closed when the client closes the channel.
func TestProbeEchoes(t *testing.T) {
	s := newTestSFU(t, -1)
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	dc, err := pc.CreateDataChannel("probe", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 8)
	dc.OnMessage(func(m webrtc.DataChannelMessage) { got <- m.Data })
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	answer, err := s.Probe(ctx, *pc.LocalDescription())
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(answer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("the probe's data channel did not open")
	}
	if n := s.probes.Load(); n != 1 {
		t.Fatalf("%d probes running, want 1", n)
	}
	_ = dc.Send(make([]byte, maxProbeMessage+1)) // not echoed
	sent := time.Now()
	_ = dc.Send([]byte("ping 1"))
	select {
	case b := <-got:
		if !bytes.Equal(b, []byte("ping 1")) {
			t.Fatalf("echo %q", b)
		}
		t.Logf("round trip %v", time.Since(sent))
	case <-time.After(5 * time.Second):
		t.Fatal("no echo")
	}
	_ = dc.Close()
	waitProbes(t, s, "after the client closed its channel")
	if _, err := s.Probe(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0 nonsense"}); !errors.Is(err, ErrBadSDP) {
		t.Fatalf("a bad offer: %v", err)
	}
	waitProbes(t, s, "after a bad offer")
}

// waitProbes waits until no network check runs.
func waitProbes(t *testing.T, s *SFU, when string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.probes.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d probes still running %s", s.probes.Load(), when)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
