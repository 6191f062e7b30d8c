package load

import (
	"encoding/binary"
	"errors"
)

// Every synthetic frame carries the time it was handed to the sender, so a
// receiver on the same machine can compute the latency the path added. The
// stamp is a magic followed by the send time in Unix nanoseconds, big
// endian.
const (
	stampMagic = "KYLD"
	stampLen   = len(stampMagic) + 8

	// vp8StampOffset leaves room for the 10-byte VP8 keyframe header (frame
	// tag, start code, dimensions) that the SFU inspects.
	vp8StampOffset = 10
	// opusStampOffset follows the TOC byte.
	opusStampOffset = 1

	minVP8Frame  = vp8StampOffset + stampLen
	minOpusFrame = opusStampOffset + stampLen

	// A simulcast layer's frames also name their layer after the stamp:
	// layerMagic, then the layer (0 lowest).
	layerMagic     = 'L'
	vp8LayerOffset = minVP8Frame
	minLayerFrame  = vp8LayerOffset + 2
)

// vp8Frame returns a synthetic VP8 frame of size bytes (at least
// minVP8Frame): a real frame tag (key or inter), for a keyframe the start
// code and a 320x240 size, then the stamp, then filler.
func vp8Frame(size int, key bool, sentNanos int64) []byte {
	size = max(size, minVP8Frame)
	f := make([]byte, size)
	if key {
		// P bit (bit 0 of the first byte) 0: a keyframe; show_frame set;
		// start code 9d 01 2a; width 320, height 240.
		copy(f, []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00})
	} else {
		f[0] = 0x51 // P bit 1: an inter frame
		f[1], f[2] = 0x42, 0x00
	}
	putStamp(f[vp8StampOffset:], sentNanos)
	for i := minVP8Frame; i < size; i++ {
		f[i] = byte(i)
	}
	return f
}

// vp8LayerFrame is vp8Frame for a simulcast layer (0 lowest): the layer
// follows the stamp, so receivers count what they get of each.
func vp8LayerFrame(size int, key bool, sentNanos int64, layer int) []byte {
	f := vp8Frame(max(size, minLayerFrame), key, sentNanos)
	f[vp8LayerOffset], f[vp8LayerOffset+1] = layerMagic, byte(layer)
	return f
}

// vp8Layer returns the simulcast layer named by a frame's first RTP
// payload (see vp8LayerFrame).
func vp8Layer(payload []byte) (int, bool) {
	f, ok := vp8FrameStart(payload)
	if !ok || len(f) < minLayerFrame || f[vp8LayerOffset] != layerMagic || f[vp8LayerOffset+1] >= numLayers {
		return 0, false
	}
	return int(f[vp8LayerOffset+1]), true
}

// opusFrame returns a synthetic Opus packet of size bytes (at least
// minOpusFrame): a TOC byte (CELT fullband 20 ms, one frame) then the stamp
// and filler.
func opusFrame(size int, sentNanos int64) []byte {
	size = max(size, minOpusFrame)
	f := make([]byte, size)
	f[0] = 0xf8
	putStamp(f[opusStampOffset:], sentNanos)
	for i := minOpusFrame; i < size; i++ {
		f[i] = 0xff
	}
	return f
}

func putStamp(b []byte, sentNanos int64) {
	copy(b, stampMagic)
	binary.BigEndian.PutUint64(b[len(stampMagic):], uint64(sentNanos))
}

// readStamp returns the send time stamped at the start of b.
func readStamp(b []byte) (int64, bool) {
	if len(b) < stampLen || string(b[:len(stampMagic)]) != stampMagic {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b[len(stampMagic):])), true
}

var errShortPacket = errors.New("short RTP packet")

// rtpPacket is what a receiver needs of an RTP packet.
type rtpPacket struct {
	seq     uint16
	ssrc    uint32
	payload []byte
}

// parseRTP parses the fixed header, CSRCs, header extension and padding of
// an RTP packet (RFC 3550) without allocating.
func parseRTP(b []byte) (rtpPacket, error) {
	var p rtpPacket
	if len(b) < 12 || b[0]>>6 != 2 {
		return p, errShortPacket
	}
	p.seq = binary.BigEndian.Uint16(b[2:])
	p.ssrc = binary.BigEndian.Uint32(b[8:])
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // X: extension header
		if len(b) < off+4 {
			return p, errShortPacket
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 { // P: padding, its length in the last byte
		if end == 0 {
			return p, errShortPacket
		}
		end -= int(b[end-1])
	}
	if off > end {
		return p, errShortPacket
	}
	p.payload = b[off:end]
	return p, nil
}

// vp8FrameStart returns the VP8 payload of an RTP payload that starts a
// frame (S bit set, partition 0), skipping the payload descriptor (RFC 7741
// section 4.2), or false for a packet in the middle of a frame.
func vp8FrameStart(p []byte) ([]byte, bool) {
	if len(p) < 1 {
		return nil, false
	}
	start, pid := p[0]&0x10 != 0, p[0]&0x07
	off := 1
	if p[0]&0x80 != 0 { // X: the extension byte follows
		if len(p) < 2 {
			return nil, false
		}
		x := p[1]
		off = 2
		if x&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= off {
				return nil, false
			}
			if p[off]&0x80 != 0 {
				off++
			}
			off++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			off++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
			off++
		}
	}
	if !start || pid != 0 || len(p) < off {
		return nil, false
	}
	return p[off:], true
}

// vp8Stamp returns the send time of the frame an RTP payload starts.
func vp8Stamp(payload []byte) (int64, bool) {
	f, ok := vp8FrameStart(payload)
	if !ok || len(f) < vp8StampOffset {
		return 0, false
	}
	return readStamp(f[vp8StampOffset:])
}

// opusStamp returns the send time of an Opus RTP payload.
func opusStamp(payload []byte) (int64, bool) {
	if len(payload) < opusStampOffset {
		return 0, false
	}
	return readStamp(payload[opusStampOffset:])
}
