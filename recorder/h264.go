package recorder

import (
	"encoding/binary"
	"errors"
)

// H.264 NAL unit types (ITU-T H.264 table 7-1).
const (
	nalIDR = 5
	nalSPS = 7
	nalPPS = 8
)

// inspectH264 reads an AVC-form access unit (4-byte lengths): it is a
// keyframe when it holds an IDR slice; a keyframe's SPS and PPS give the
// dimensions and the avcC record.
func inspectH264(b []byte) picture {
	var pic picture
	var sps, pps []byte
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		if n == 0 || n > len(b)-4 {
			break
		}
		nal := b[4 : 4+n]
		switch nal[0] & 0x1f {
		case nalIDR:
			pic.key = true
		case nalSPS:
			sps = nal
		case nalPPS:
			pps = nal
		}
		b = b[4+n:]
	}
	if !pic.key || sps == nil || pps == nil {
		return picture{key: pic.key}
	}
	if w, h, err := spsSize(sps); err == nil {
		pic.width, pic.height = w, h
	}
	pic.config = avcConfig(sps, pps)
	return pic
}

// avcConfig builds an AVCDecoderConfigurationRecord (ISO 14496-15
// 5.2.4.1) with one SPS and one PPS and 4-byte NAL lengths.
func avcConfig(sps, pps []byte) []byte {
	if len(sps) < 4 {
		return nil
	}
	c := []byte{1, sps[1], sps[2], sps[3], 0xfc | 3, 0xe0 | 1}
	c = binary.BigEndian.AppendUint16(c, uint16(len(sps)))
	c = append(c, sps...)
	c = append(c, 1)
	c = binary.BigEndian.AppendUint16(c, uint16(len(pps)))
	return append(c, pps...)
}

// errShortSPS means the SPS ended early.
var errShortSPS = errors.New("recorder: short h264 sps")

// bitReader reads an RBSP bit by bit.
type bitReader struct {
	b   []byte
	pos int
	err error
}

// bit reads one bit.
func (r *bitReader) bit() uint32 {
	if r.pos >= 8*len(r.b) {
		r.err = errShortSPS
		return 0
	}
	v := r.b[r.pos/8] >> (7 - r.pos%8) & 1
	r.pos++
	return uint32(v)
}

// bits reads n bits.
func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

// ue reads an unsigned Exp-Golomb code.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.bit() == 0 && r.err == nil && zeros < 32 {
		zeros++
	}
	return 1<<zeros - 1 + r.bits(zeros)
}

// se reads a signed Exp-Golomb code.
func (r *bitReader) se() int32 {
	v := r.ue()
	if v&1 == 1 {
		return int32(v/2 + 1)
	}
	return -int32(v / 2)
}

// unescape removes emulation prevention bytes (00 00 03).
func unescape(nal []byte) []byte {
	out := make([]byte, 0, len(nal))
	zeros := 0
	for _, c := range nal {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// spsSize returns the cropped picture size an SPS declares (ITU-T H.264
// 7.3.2.1.1).
func spsSize(sps []byte) (width, height int, err error) {
	r := &bitReader{b: unescape(sps[1:])}
	profile := r.bits(8)
	r.bits(16) // constraint flags, level
	r.ue()     // seq_parameter_set_id
	chroma := uint32(1)
	if highProfile(profile) {
		chroma = readChromaInfo(r)
	}
	r.ue() // log2_max_frame_num_minus4
	skipPOC(r)
	r.ue()  // max_num_ref_frames
	r.bit() // gaps_in_frame_num_value_allowed_flag
	wMbs, hMaps := r.ue()+1, r.ue()+1
	frameMbsOnly := r.bit()
	if frameMbsOnly == 0 {
		r.bit() // mb_adaptive_frame_field_flag
	}
	r.bit() // direct_8x8_inference_flag
	var cl, cr, ct, cb uint32
	if r.bit() == 1 {
		cl, cr, ct, cb = r.ue(), r.ue(), r.ue(), r.ue()
	}
	if r.err != nil {
		return 0, 0, r.err
	}
	cx, cy := uint32(1), 2-frameMbsOnly
	if chroma == 1 || chroma == 2 {
		cx = 2
	}
	if chroma == 1 {
		cy *= 2
	}
	width = int(wMbs*16 - cx*(cl+cr))
	height = int((2-frameMbsOnly)*hMaps*16 - cy*(ct+cb))
	return width, height, nil
}

// highProfile reports whether the SPS of profile carries chroma format
// and scaling lists.
func highProfile(p uint32) bool {
	switch p {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

// readChromaInfo reads the high-profile fields and returns
// chroma_format_idc.
func readChromaInfo(r *bitReader) uint32 {
	chroma := r.ue()
	if chroma == 3 {
		r.bit() // separate_colour_plane_flag
	}
	r.ue()  // bit_depth_luma_minus8
	r.ue()  // bit_depth_chroma_minus8
	r.bit() // qpprime_y_zero_transform_bypass_flag
	if r.bit() == 1 {
		lists := 8
		if chroma == 3 {
			lists = 12
		}
		for i := range lists {
			if r.bit() == 1 {
				skipScalingList(r, map[bool]int{true: 16, false: 64}[i < 6])
			}
		}
	}
	return chroma
}

// skipScalingList reads past one scaling list of size entries.
func skipScalingList(r *bitReader, size int) {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			next = (last + r.se() + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

// skipPOC reads past the picture order count fields.
func skipPOC(r *bitReader) {
	switch r.ue() {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.bit() // delta_pic_order_always_zero_flag
		r.se()  // offset_for_non_ref_pic
		r.se()  // offset_for_top_to_bottom_field
		n := r.ue()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.se()
		}
	}
}
