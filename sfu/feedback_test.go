package sfu

import (
	"testing"

	"github.com/pion/rtcp"
)

func TestCountFeedback(t *testing.T) {
	b, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 1},
		&rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: 2, Nacks: []rtcp.NackPair{{PacketID: 10, LostPackets: 3}}},
		&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2},
		&rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: 2, Nacks: []rtcp.NackPair{{PacketID: 20}}},
		&rtcp.FullIntraRequest{SenderSSRC: 1, MediaSSRC: 2, FIR: []rtcp.FIREntry{{SSRC: 2, SequenceNumber: 1}}},
		&rtcp.TransportLayerCC{SenderSSRC: 1, MediaSSRC: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if nacks, keyframes := countFeedback(b); nacks != 2 || keyframes != 2 {
		t.Fatalf("countFeedback = %d NACKs, %d keyframe requests; want 2 and 2", nacks, keyframes)
	}
	if nacks, keyframes := countFeedback([]byte{0x00, 0x01}); nacks != 0 || keyframes != 0 {
		t.Fatalf("garbage counted: %d, %d", nacks, keyframes)
	}
	if n := testing.AllocsPerRun(100, func() { countFeedback(b) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
