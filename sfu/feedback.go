package sfu

import "encoding/binary"

// rtcpRTPFB is the RTCP transport layer feedback type, fmtNACK its generic
// NACK (RFC 4585).
const (
	rtcpRTPFB = 205
	fmtNACK   = 1
)

// countFeedback counts, in a (compound) RTCP packet from a subscriber, the
// generic NACK messages and the keyframe requests (PLI, FIR), for Stats.
// It does not allocate.
func countFeedback(b []byte) (nacks, keyframes int) {
	for off := 0; off+4 <= len(b); {
		if b[off]>>6 != 2 {
			break
		}
		f := b[off] & 0x1f
		switch b[off+1] {
		case rtcpRTPFB:
			if f == fmtNACK {
				nacks++
			}
		case rtcpPSFB:
			if f == fmtPLI || f == fmtFIR {
				keyframes++
			}
		}
		off += 4 * (int(binary.BigEndian.Uint16(b[off+2:])) + 1)
	}
	return nacks, keyframes
}
