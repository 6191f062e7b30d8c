package load

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

func TestVP8StampRoundTrip(t *testing.T) {
	sent := time.Date(2026, 11, 27, 8, 0, 0, 123456789, time.UTC).UnixNano()
	for _, key := range []bool{true, false} {
		f := vp8Frame(2083, key, sent)
		if len(f) != 2083 {
			t.Fatalf("size %d", len(f))
		}
		if got := f[0]&1 == 0; got != key {
			t.Errorf("key %v: P bit says keyframe %v", key, got)
		}
		if key && (f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a) {
			t.Errorf("keyframe start code % x", f[3:6])
		}
		// Descriptor variants (RFC 7741): plain; X with a 7-bit picture id;
		// X with a 15-bit picture id, TL0PICIDX and TID/KEYIDX.
		for name, desc := range map[string][]byte{
			"plain":      {0x10},
			"pid7":       {0x90, 0x80, 0x05},
			"pid15+L+TK": {0x90, 0xf0, 0x81, 0x23, 0x07, 0x40},
		} {
			got, ok := vp8Stamp(append(desc, f...))
			if !ok || got != sent {
				t.Errorf("%s key %v: stamp %d %v, want %d", name, key, got, ok, sent)
			}
			// The same packet not starting a frame has no stamp.
			cont := append([]byte{}, desc...)
			cont[0] &^= 0x10
			if _, ok := vp8Stamp(append(cont, f...)); ok {
				t.Errorf("%s: stamp found in a continuation packet", name)
			}
		}
	}
	if _, ok := vp8Stamp([]byte{0x90}); ok {
		t.Error("stamp in a truncated descriptor")
	}
}

// TestVP8StampThroughPayloader packetizes a frame as pion sends it and
// finds the stamp in the first packet only.
func TestVP8StampThroughPayloader(t *testing.T) {
	sent := time.Now().UnixNano()
	p := rtp.NewPacketizer(1200, 96, 1234, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), 90000)
	pkts := p.Packetize(vp8Frame(5000, true, sent), 3000)
	if len(pkts) < 4 {
		t.Fatalf("%d packets", len(pkts))
	}
	for i, pkt := range pkts {
		b, err := pkt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		rp, err := parseRTP(b)
		if err != nil {
			t.Fatal(err)
		}
		if rp.seq != pkt.SequenceNumber || rp.ssrc != 1234 {
			t.Errorf("seq %d ssrc %d", rp.seq, rp.ssrc)
		}
		got, ok := vp8Stamp(rp.payload)
		if ok != (i == 0) || (ok && got != sent) {
			t.Errorf("packet %d: stamp %d %v", i, got, ok)
		}
	}
}

func TestOpusStampRoundTrip(t *testing.T) {
	sent := time.Now().UnixNano()
	f := opusFrame(80, sent)
	if len(f) != 80 || f[0] != 0xf8 {
		t.Fatalf("frame % x", f[:4])
	}
	if got, ok := opusStamp(f); !ok || got != sent {
		t.Errorf("stamp %d %v, want %d", got, ok, sent)
	}
	if _, ok := opusStamp([]byte{0xf8, 0xff, 0xfe}); ok {
		t.Error("stamp found in an unstamped packet")
	}
	if f := opusFrame(3, sent); len(f) != minOpusFrame {
		t.Errorf("short frame size %d", len(f))
	}
}

func TestParseRTP(t *testing.T) {
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 65535, SSRC: 42,
		CSRC: []uint32{1, 2}, Padding: true, PaddingSize: 4}, Payload: []byte("payload")}
	if err := pkt.SetExtension(1, []byte{0xaa, 0xbb}); err != nil {
		t.Fatal(err)
	}
	b, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseRTP(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.seq != 65535 || p.ssrc != 42 || string(p.payload) != "payload" {
		t.Errorf("got seq %d ssrc %d payload %q", p.seq, p.ssrc, p.payload)
	}
	for _, bad := range [][]byte{nil, make([]byte, 11), {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, err := parseRTP(bad); err == nil {
			t.Errorf("% x parsed", bad)
		}
	}
}
