package sfu

import (
	"encoding/binary"
	"strings"

	"github.com/pion/webrtc/v4"
)

// packet is what the reader learns about one RTP packet, parsed in place
// without allocating. Offsets index raw.
type packet struct {
	raw        []byte
	hdrLen     int    // fixed header and CSRC list
	payOff     int    // first payload byte (after any header extension)
	payEnd     int    // end of payload, before padding
	seq        uint16 // sequence number
	ts         uint32 // timestamp
	marker     bool   // last packet of a frame
	key        bool   // first packet of a keyframe
	frameStart bool   // first packet of a frame (heuristic)
	level      uint8  // audio level as on the wire (RFC 6464): V bit, then -dBov
	hasLevel   bool   // level was found in the header extension
}

// parse fills pk from raw; false means raw is not an RTP packet.
func (pk *packet) parse(raw []byte) bool {
	if len(raw) < 12 || raw[0]>>6 != 2 {
		return false
	}
	hdr := 12 + 4*int(raw[0]&0x0f)
	if len(raw) < hdr {
		return false
	}
	off := hdr
	if raw[0]&0x10 != 0 {
		if len(raw) < off+4 {
			return false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(raw[off+2:]))
		if len(raw) < off {
			return false
		}
	}
	end := len(raw)
	if raw[0]&0x20 != 0 {
		end -= int(raw[len(raw)-1])
		if end < off {
			return false
		}
	}
	*pk = packet{
		raw: raw, hdrLen: hdr, payOff: off, payEnd: end,
		seq:    binary.BigEndian.Uint16(raw[2:]),
		ts:     binary.BigEndian.Uint32(raw[4:]),
		marker: raw[1]&0x80 != 0,
	}
	return true
}

// Header extension profiles (RFC 8285).
const (
	extProfileOneByte     = 0xbede
	extProfileTwoByteMask = 0xfff0
	extProfileTwoByte     = 0x1000
)

// audioLevel finds the client-to-mixer audio level element (RFC 6464) of
// extension id in the packet's header extension, one-byte or two-byte form
// (RFC 8285), and returns its first byte: the voice activity bit (0x80)
// and the level in -dBov (0 loudest, 127 silence). It does not allocate.
func (pk *packet) audioLevel(id uint8) (level uint8, ok bool) {
	if id == 0 || pk.payOff-pk.hdrLen < 4 {
		return 0, false
	}
	ext := pk.raw[pk.hdrLen:pk.payOff]
	profile, data := binary.BigEndian.Uint16(ext), ext[4:]
	switch {
	case profile == extProfileOneByte:
		for i := 0; i < len(data); {
			b := data[i]
			if b == 0 { // padding
				i++
				continue
			}
			eid, n := b>>4, int(b&0x0f)+1
			if eid == 15 { // reserved: stop parsing
				return 0, false
			}
			i++
			if i+n > len(data) {
				return 0, false
			}
			if eid == id {
				return data[i], true
			}
			i += n
		}
	case profile&extProfileTwoByteMask == extProfileTwoByte:
		for i := 0; i < len(data); {
			eid := data[i]
			if eid == 0 { // padding
				i++
				continue
			}
			if i+2 > len(data) {
				return 0, false
			}
			n := int(data[i+1])
			i += 2
			if i+n > len(data) {
				return 0, false
			}
			if eid == id && n >= 1 {
				return data[i], true
			}
			i += n
		}
	}
	return 0, false
}

// payload returns the codec payload.
func (pk *packet) payload() []byte { return pk.raw[pk.payOff:pk.payEnd] }

// size is the length of the packet once written without its header
// extension.
func (pk *packet) size() int { return pk.hdrLen + len(pk.raw) - pk.payOff }

// writeTo copies the packet into dst without its header extension (the
// publisher's extension ids mean nothing on the subscribe connection; the
// interceptors add their own) and with sequence number seq. dst must hold
// pk.size() bytes.
func (pk *packet) writeTo(dst []byte, seq uint16) int {
	n := copy(dst, pk.raw[:pk.hdrLen])
	dst[0] &^= 0x10
	binary.BigEndian.PutUint16(dst[2:], seq)
	n += copy(dst[n:], pk.raw[pk.payOff:])
	return n
}

// keyframeFunc reports whether an RTP payload starts a keyframe.
type keyframeFunc func(payload []byte) bool

// keyframeDetector returns the keyframe test for a codec, nil for codecs
// without keyframes (audio).
func keyframeDetector(mime string) keyframeFunc {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return vp8Keyframe
	case strings.EqualFold(mime, webrtc.MimeTypeVP9):
		return vp9Keyframe
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return h264Keyframe
	case strings.HasPrefix(strings.ToLower(mime), "video/"):
		return func([]byte) bool { return false }
	default:
		return nil
	}
}

// vp8Keyframe parses the VP8 payload descriptor (RFC 7741 section 4.2) and
// tests the P bit of the frame tag of a partition start.
func vp8Keyframe(p []byte) bool {
	off, ok := vp8FrameStart(p)
	return ok && p[off]&0x01 == 0
}

// vp8FrameStart returns the offset of the VP8 payload header in p when p
// starts a frame (S set, partition 0).
func vp8FrameStart(p []byte) (int, bool) {
	if len(p) < 1 {
		return 0, false
	}
	start, pid := p[0]&0x10 != 0, p[0]&0x07
	off := 1
	if p[0]&0x80 != 0 { // X: extension byte follows
		if len(p) < 2 {
			return 0, false
		}
		x := p[1]
		off = 2
		if x&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= off {
				return 0, false
			}
			if p[off]&0x80 != 0 {
				off++
			}
			off++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			off++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX byte
			off++
		}
	}
	if !start || pid != 0 || len(p) <= off {
		return 0, false
	}
	return off, true
}

// vp8KeyframeSize returns the picture size, width times height, of the
// VP8 keyframe p starts (RFC 6386 section 9.1: the frame tag, the start
// code 9d 01 2a, 14-bit width and height), or 0.
func vp8KeyframeSize(p []byte) uint32 {
	off, ok := vp8FrameStart(p)
	if !ok || len(p) < off+10 || p[off]&0x01 != 0 || p[off+3] != 0x9d || p[off+4] != 0x01 || p[off+5] != 0x2a {
		return 0
	}
	w := uint32(binary.LittleEndian.Uint16(p[off+6:]) & 0x3fff)
	h := uint32(binary.LittleEndian.Uint16(p[off+8:]) & 0x3fff)
	return w * h
}

// vp9Keyframe tests the descriptor (RFC 9628): start of a frame (B) that is
// not inter-picture predicted (P).
func vp9Keyframe(p []byte) bool {
	return len(p) >= 1 && p[0]&0x40 == 0 && p[0]&0x08 != 0
}

// H.264 NAL unit types that make a packet a keyframe start.
const (
	naluIDR   = 5
	naluSPS   = 7
	naluSTAPA = 24
	naluFUA   = 28
)

// h264Keyframe looks for an IDR slice or an SPS, alone, in a STAP-A or at
// the start of an FU-A (RFC 6184).
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case naluIDR, naluSPS:
		return true
	case naluSTAPA:
		for off := 1; off+2 < len(p); {
			size := int(binary.BigEndian.Uint16(p[off:]))
			if t := p[off+2] & 0x1f; t == naluIDR || t == naluSPS {
				return true
			}
			off += 2 + size
		}
	case naluFUA:
		if len(p) >= 2 && p[1]&0x80 != 0 {
			t := p[1] & 0x1f
			return t == naluIDR || t == naluSPS
		}
	}
	return false
}

// RTCP payload-specific feedback and its keyframe requests (RFC 4585, 5104).
const (
	rtcpPSFB = 206
	fmtPLI   = 1
	fmtFIR   = 4
)

// wantsKeyframe reports whether a (compound) RTCP packet holds a PLI or a
// FIR.
func wantsKeyframe(b []byte) bool {
	for off := 0; off+4 <= len(b); {
		if b[off]>>6 != 2 {
			return false
		}
		if b[off+1] == rtcpPSFB {
			if f := b[off] & 0x1f; f == fmtPLI || f == fmtFIR {
				return true
			}
		}
		off += 4 * (int(binary.BigEndian.Uint16(b[off+2:])) + 1)
	}
	return false
}
