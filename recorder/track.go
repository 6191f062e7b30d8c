package recorder

import (
	"time"

	"github.com/at-wat/ebml-go/webm"
	"github.com/kuayang/kuayang/sfu"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// Samplebuilder windows, in packets: how long a hole in the sequence is
// waited for (a retransmission) before the frame is given up.
const (
	videoMaxLate = 256
	audioMaxLate = 32
	maxLateTime  = time.Second
)

// track is the recorder's sink for one published track. The SFU calls it
// from one goroutine; it rebuilds frames, places them on the wall clock and
// hands them to its participant.
type track struct {
	p     *participant
	info  sfu.TrackInfo
	codec codec
	sb    *samplebuilder.SampleBuilder
	clk   clock
	pad   unpadder // keeps padding-only packets from the sample builder

	lastTS   uint32    // RTP timestamp of the last packet pushed
	lastWall time.Time // end of the last frame passed on

	// Loss state.
	dropTS     uint32 // video: frame cut short by a queue overflow
	haveDropTS bool
	waitKey    bool      // video: frames are skipped until a keyframe
	gapFrom    time.Time // start of the loss being recorded
	gapReason  string
	gapPackets int

	// Audio level of the next packet (AudioLevel), and of the last.
	nextLoud, haveLevel bool // the next packet is loud; AudioLevel was called
	levelSeq            uint16
	levelTS             uint32
	levelAny            bool          // levelSeq and levelTS are set
	frameDur            time.Duration // audio per packet, from the timestamps
}

var _ sfu.AudioLevelSink = (*track)(nil)

// newTrack returns the sink of a track of codec c.
func newTrack(p *participant, info sfu.TrackInfo, c codec) *track {
	rate := info.Codec.ClockRate
	if rate == 0 {
		rate = 90000
		if c == codecOpus {
			rate = 48000
		}
	}
	maxLate := uint16(audioMaxLate)
	if c.video() {
		maxLate = videoMaxLate
	}
	t := &track{p: p, info: info, codec: c, clk: clock{rate: int64(rate)}}
	t.sb = samplebuilder.New(maxLate, c.depacketizer(), rate, samplebuilder.WithMaxTimeDelay(maxLateTime))
	return t
}

// WriteRTP implements sfu.TrackSink.
func (t *track) WriteRTP(b []byte) {
	pkt := &rtp.Packet{}
	if err := pkt.Unmarshal(append([]byte(nil), b...)); err != nil {
		return
	}
	seq, ok := t.pad.seq(pkt.SequenceNumber, len(pkt.Payload) == 0)
	if !ok {
		t.haveLevel = false
		return
	}
	pkt.SequenceNumber = seq
	t.clk.arrival(pkt.Timestamp, t.p.r.now())
	t.lastTS = pkt.Timestamp
	if t.haveLevel {
		t.haveLevel = false
		t.audioLevel(pkt)
	}
	t.sb.Push(pkt)
	t.pop()
}

// AudioLevel implements sfu.AudioLevelSink: the level the publisher
// measured for the packet WriteRTP is given next.
func (t *track) AudioLevel(level uint8, voice bool) {
	if t.codec.video() {
		return
	}
	t.nextLoud, t.haveLevel = loud(level, voice), true
}

// audioLevel places the level of pkt on the wall clock and passes it on:
// it covers the packet's audio, as long as the timestamps of consecutive
// packets say a packet is.
func (t *track) audioLevel(pkt *rtp.Packet) {
	if t.frameDur == 0 {
		t.frameDur = defaultFrame
	}
	if t.levelAny && pkt.SequenceNumber == t.levelSeq+1 {
		d := time.Duration(int64(int32(pkt.Timestamp-t.levelTS)) * int64(time.Second) / t.clk.rate)
		if d > 0 && d <= maxFrame {
			t.frameDur = d
		}
	}
	t.levelSeq, t.levelTS, t.levelAny = pkt.SequenceNumber, pkt.Timestamp, true
	t.p.audioLevel(t, t.clk.wall(t.clk.peek(pkt.Timestamp)), t.frameDur, t.nextLoud)
}

// pop passes on every frame the samplebuilder completed.
func (t *track) pop() {
	for s := t.sb.Pop(); s != nil; s = t.sb.Pop() {
		t.sample(s)
	}
}

// Lost implements sfu.TrackSink: the SFU's queue dropped n packets. For
// video the frame in progress may be cut short, so it is discarded and the
// track waits for a keyframe.
func (t *track) Lost(n int) {
	t.loss(n, GapQueueOverflow)
	if t.codec.video() {
		t.dropTS, t.haveDropTS = t.lastTS, true
	}
}

// SenderReport implements sfu.TrackSink.
func (t *track) SenderReport(ntp uint64, rtpTime uint32) {
	t.p.senderReport(t, ntp, rtpTime)
}

// Close implements sfu.TrackSink: the track ended. The complete frames
// still in the sample builder are written; the last frame, whose end no
// later packet confirms, is not (at most one frame, 20 to 33 ms). The
// sample builder's Flush would write it, but in pion v4.2.26 it can spin
// for over a second of CPU on some packetizations (seen with a last frame
// of two packets), holding up the participant's leave.
func (t *track) Close() {
	t.pop()
	t.p.trackEnded(t)
}

// loss starts (or extends) a gap of n lost packets.
func (t *track) loss(n int, reason string) {
	if t.gapReason == "" {
		t.gapFrom, t.gapReason = t.lastWall, reason
	}
	t.gapPackets += n
	if t.codec.video() {
		t.waitKey = true
	}
}

// sample places a rebuilt frame on the wall clock and passes it on, unless
// it is video that cannot be decoded (after a loss, before a keyframe).
func (t *track) sample(s *media.Sample) {
	wall := t.clk.wall(t.clk.unwrap(s.PacketTimestamp))
	if s.PrevDroppedPackets > 0 {
		t.loss(int(s.PrevDroppedPackets), GapPacketLoss)
	}
	fr := frame{tr: t, wall: wall, dur: s.Duration, data: s.Data, key: true}
	if t.codec.video() {
		if t.haveDropTS && s.PacketTimestamp == t.dropTS {
			t.haveDropTS = false
			return
		}
		fr.pic = t.codec.inspect(s.Data)
		fr.key = fr.pic.key
		if t.waitKey && !fr.key {
			t.p.keyframeWanted(t, wall)
			return
		}
		t.waitKey = false
	}
	t.endGap(wall)
	if wall.After(t.lastWall) || t.lastWall.IsZero() {
		t.lastWall = wall.Add(fr.dur)
	}
	t.p.frame(fr)
}

// endGap records the loss that ends at wall, if any.
func (t *track) endGap(wall time.Time) {
	if t.gapReason == "" {
		return
	}
	from := t.gapFrom
	if from.IsZero() {
		from = wall
	}
	t.p.gap(Gap{From: from, To: wall, Reason: t.gapReason, Packets: t.gapPackets})
	t.gapReason, t.gapPackets = "", 0
}

// entry is the track's Matroska TrackEntry as track number n.
func (t *track) entry(n uint64, pic picture) webm.TrackEntry {
	e := webm.TrackEntry{
		Name: t.info.Kind, TrackNumber: n, TrackUID: n, CodecID: t.codec.matroskaID(),
	}
	if t.codec == codecOpus {
		e.TrackType = 2
		e.CodecPrivate = opusHead(int(t.info.Codec.Channels))
		e.SeekPreRoll = 80 * uint64(time.Millisecond)
		e.Audio = &webm.Audio{SamplingFrequency: 48000, Channels: uint64(max(t.info.Codec.Channels, 1))}
		return e
	}
	e.TrackType = 1
	e.CodecPrivate = pic.config
	e.Video = &webm.Video{PixelWidth: uint64(pic.width), PixelHeight: uint64(pic.height)}
	return e
}
