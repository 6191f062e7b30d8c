package sfu

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// rtpPacket builds a raw RTP packet (with a header extension when ext).
func rtpPacket(t testing.TB, seq uint16, ts uint32, marker, ext bool, payload []byte) []byte {
	t.Helper()
	p := rtp.Packet{
		Header: rtp.Header{
			Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts,
			SSRC: 0x1234, Marker: marker,
		},
		Payload: payload,
	}
	if ext {
		if err := p.Header.SetExtension(3, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPacketParseAndRewrite(t *testing.T) {
	payload := []byte{0x10, 0x00, 0xaa, 0xbb}
	tests := []struct {
		name string
		ext  bool
	}{
		{"plain", false},
		{"with extension", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := rtpPacket(t, 1000, 90000, true, tc.ext, payload)
			var pk packet
			if !pk.parse(raw) {
				t.Fatal("parse failed")
			}
			if pk.seq != 1000 || pk.ts != 90000 || !pk.marker {
				t.Fatalf("header = seq %d ts %d marker %v", pk.seq, pk.ts, pk.marker)
			}
			if !bytes.Equal(pk.payload(), payload) {
				t.Fatalf("payload = %x", pk.payload())
			}
			dst := make([]byte, slotSize)
			n := pk.writeTo(dst, 7)
			var out rtp.Packet
			if err := out.Unmarshal(dst[:n]); err != nil {
				t.Fatal(err)
			}
			if out.Extension || out.SequenceNumber != 7 || out.Timestamp != 90000 || !bytes.Equal(out.Payload, payload) {
				t.Fatalf("rewritten = %+v", out)
			}
		})
	}
}

func TestPacketParseRejects(t *testing.T) {
	good := rtpPacket(t, 1, 1, false, true, []byte{1})
	tests := map[string][]byte{
		"short":            good[:11],
		"version 1":        append([]byte{0x40}, good[1:]...),
		"truncated ext":    good[:14],
		"padding too long": append(append([]byte{good[0] | 0x20}, good[1:len(good)-1]...), 200),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			var pk packet
			if pk.parse(raw) {
				t.Fatal("parse accepted a bad packet")
			}
		})
	}
}

func TestKeyframeDetection(t *testing.T) {
	stap := []byte{naluSTAPA, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}
	tests := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 key", "video/VP8", []byte{0x10, 0x00, 0x00, 0x00}, true},
		{"vp8 delta", "video/VP8", []byte{0x10, 0x01}, false},
		{"vp8 continuation", "video/VP8", []byte{0x00, 0x00}, false},
		{"vp8 key with picture id", "video/VP8", []byte{0x90, 0x80, 0x81, 0x02, 0x00}, true},
		{"vp8 delta with 7 bit picture id", "video/VP8", []byte{0x90, 0x80, 0x05, 0x01}, false},
		{"vp8 key with tl0 and tid", "video/VP8", []byte{0x90, 0x60, 0x01, 0x20, 0x00}, true},
		{"vp8 truncated", "video/VP8", []byte{0x90}, false},
		{"vp9 key start", "video/VP9", []byte{0x08}, true},
		{"vp9 inter", "video/VP9", []byte{0x48}, false},
		{"vp9 not start", "video/VP9", []byte{0x00}, false},
		{"h264 idr", "video/H264", []byte{0x65, 0x88}, true},
		{"h264 sps", "video/H264", []byte{0x67, 0x42}, true},
		{"h264 slice", "video/H264", []byte{0x41, 0x9a}, false},
		{"h264 stap-a sps", "video/H264", stap, true},
		{"h264 fu-a idr start", "video/H264", []byte{0x7c, 0x85, 0x00}, true},
		{"h264 fu-a idr middle", "video/H264", []byte{0x7c, 0x05, 0x00}, false},
		{"h264 empty", "video/H264", nil, false},
		{"unknown video", "video/AV1", []byte{0x00}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keyframeDetector(tc.mime)(tc.payload); got != tc.want {
				t.Fatalf("keyframe = %v, want %v", got, tc.want)
			}
		})
	}
	if keyframeDetector("audio/opus") != nil {
		t.Fatal("audio has a keyframe test")
	}
}

func TestWantsKeyframe(t *testing.T) {
	marshal := func(pkts ...rtcp.Packet) []byte {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rr := &rtcp.ReceiverReport{SSRC: 1}
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"pli", marshal(&rtcp.PictureLossIndication{MediaSSRC: 1}), true},
		{"fir", marshal(&rtcp.FullIntraRequest{MediaSSRC: 1, FIR: []rtcp.FIREntry{{SSRC: 1}}}), true},
		{"compound rr+pli", marshal(rr, &rtcp.PictureLossIndication{MediaSSRC: 1}), true},
		{"receiver report", marshal(rr), false},
		{"nack", marshal(&rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: []rtcp.NackPair{{PacketID: 1}}}), false},
		{"garbage", []byte{1, 2, 3, 4, 5}, false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := wantsKeyframe(tc.b); got != tc.want {
				t.Fatalf("wantsKeyframe = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWantsKeyframeZeroLength(t *testing.T) {
	// A header claiming length 0 still advances by one word: no endless
	// loop.
	b := make([]byte, 8)
	b[0] = 0x80
	b[1] = 200
	binary.BigEndian.PutUint16(b[2:], 0)
	if wantsKeyframe(b) {
		t.Fatal("wantsKeyframe on sender-report-like words")
	}
}
