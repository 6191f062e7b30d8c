package sfu

import (
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// TestBWEGate checks that a subscribe connection's estimator costs nothing
// per packet until it is activated, and then sees the packets.
func TestBWEGate(t *testing.T) {
	f, err := newBWEFactory(logging.NewDefaultLoggerFactory())
	if err != nil {
		t.Fatal(err)
	}
	var g *bweGate
	_, _, err = f.newPeerConnection(func() (*webrtc.PeerConnection, error) {
		i, err := f.NewInterceptor("pc")
		if err == nil {
			g = i.(*bweGate)
		}
		return nil, err
	})
	if err != nil || g == nil || f.last != nil {
		t.Fatalf("gate %v, err %v", g, err)
	}
	defer g.Close()
	if got := g.target(); got != bweStart {
		t.Errorf("initial target %d, want %d", got, bweStart)
	}
	var written int
	info := &interceptor.StreamInfo{SSRC: 1, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}}}
	w := g.BindLocalStream(info, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) {
		written++
		return 0, nil
	}))
	h := &rtp.Header{Version: 2, SSRC: 1}
	if err := h.SetExtension(5, []byte{0, 1}); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1000)
	tcc := []byte{0, 0}
	write := func() {
		h.SequenceNumber++
		tcc[1]++
		_ = h.SetExtension(5, tcc)
		if _, err := w.Write(h, payload, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(100, write); n != 0 {
		t.Errorf("inactive: %v allocations per packet", n)
	}
	g.activate()
	n := testing.AllocsPerRun(100, write)
	t.Logf("active: %v allocations per packet (pion's feedback history)", n)
	if written != 202 {
		t.Errorf("%d packets written, want 202", written)
	}
}
