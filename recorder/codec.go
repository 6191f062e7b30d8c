package recorder

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/rtp/codecs/vp9"
	"github.com/pion/webrtc/v4"
)

// codec is a media format the recorder writes.
type codec int

const (
	codecUnknown codec = iota
	codecOpus
	codecVP8
	codecVP9
	codecH264
)

// codecOf maps a mime type to a codec.
func codecOf(mime string) codec {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeOpus):
		return codecOpus
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return codecVP8
	case strings.EqualFold(mime, webrtc.MimeTypeVP9):
		return codecVP9
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return codecH264
	default:
		return codecUnknown
	}
}

// String is the codec's name in Segment.Codecs.
func (c codec) String() string {
	return [...]string{"unknown", "opus", "vp8", "vp9", "h264"}[c]
}

// video reports whether c is a video codec.
func (c codec) video() bool { return c == codecVP8 || c == codecVP9 || c == codecH264 }

// matroskaID is the codec's Matroska CodecID.
func (c codec) matroskaID() string {
	return [...]string{"", "A_OPUS", "V_VP8", "V_VP9", "V_MPEG4/ISO/AVC"}[c]
}

// depacketizer returns the RTP depacketizer of c. H.264 comes out in AVC
// form (length-prefixed NAL units), as Matroska stores it.
func (c codec) depacketizer() rtp.Depacketizer {
	switch c {
	case codecOpus:
		return &codecs.OpusPacket{}
	case codecVP8:
		return &codecs.VP8Packet{}
	case codecVP9:
		return &codecs.VP9Packet{}
	default:
		return &codecs.H264Packet{IsAVC: true}
	}
}

// picture is what a video frame says about itself.
type picture struct {
	key           bool
	width, height int
	config        []byte // H.264: the avcC record of the keyframe's SPS and PPS
}

// inspect parses a video frame (a keyframe's dimensions and, for H.264, its
// parameter sets).
func (c codec) inspect(frame []byte) picture {
	switch c {
	case codecVP8:
		return inspectVP8(frame)
	case codecVP9:
		return inspectVP9(frame)
	case codecH264:
		return inspectH264(frame)
	default:
		return picture{key: true}
	}
}

// inspectVP8 reads the frame tag and, for a keyframe, the start code and
// dimensions (RFC 6386 section 9.1).
func inspectVP8(b []byte) picture {
	if len(b) < 10 || b[0]&0x01 != 0 || !bytes.Equal(b[3:6], []byte{0x9d, 0x01, 0x2a}) {
		return picture{}
	}
	return picture{
		key:    true,
		width:  int(binary.LittleEndian.Uint16(b[6:]) & 0x3fff),
		height: int(binary.LittleEndian.Uint16(b[8:]) & 0x3fff),
	}
}

// inspectVP9 parses the uncompressed header of the first frame.
func inspectVP9(b []byte) picture {
	var h vp9.Header
	if err := h.Unmarshal(b); err != nil || h.NonKeyFrame || h.ShowExistingFrame {
		return picture{}
	}
	return picture{key: true, width: int(h.Width()), height: int(h.Height())}
}

// opusHead is the Matroska CodecPrivate of Opus (RFC 7845 section 5.1):
// no pre-skip, 48 kHz, mapping family 0.
func opusHead(channels int) []byte {
	if channels < 1 || channels > 2 {
		channels = 2
	}
	h := []byte("OpusHead\x01")
	h = append(h, byte(channels), 0, 0)
	h = binary.LittleEndian.AppendUint32(h, 48000)
	return append(h, 0, 0, 0)
}
