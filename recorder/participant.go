package recorder

import (
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Keyframe requests.
const (
	// keyframeLead is how long before a segment is due to roll its
	// keyframe is requested.
	keyframeLead = time.Second
	// keyframeRetry is the least media time between two requests while a
	// keyframe is awaited.
	keyframeRetry = time.Second
	// maxHeld bounds the audio held while a segment waits for a keyframe.
	maxHeld = 1000
)

// participant is one stream of a participant's recording: one audio
// and one video track at a time, one segment file at a time. A screen
// share is a participant of its own (stream StreamScreen, video only)
// that numbers its segments in the same sequence as the camera's.
type participant struct {
	r      *Recorder
	id     string
	stream string     // "" (camera and microphone) or StreamScreen
	ix     *numbering // shared by the participant's streams
	log    *slog.Logger

	mu     sync.Mutex // guards the fields below
	closed bool       // the recorder closed
	paused bool       // not recorded for now (a private room): frames are dropped
	room   string     // the recorded private room p is in, "" for the joint room
	audio  *track     // live tracks
	video  *track
	seg    *segment // open segment, or nil
	held   []frame  // audio waiting for the next segment

	want      bool      // a new segment is wanted
	wantSince time.Time // media time it was first wanted (zero: not yet known)

	videoMissing bool      // the open segment lacks video that timed out
	missingSince time.Time // since when video is missing

	speech speech // speaking intervals, from the audio track's levels

	mediaStart time.Time // first media of the participant
	lastReq    time.Time // media time of the last keyframe request
	offset     time.Duration
	haveOffset bool // offset maps the publisher's NTP clock to ours
}

// addTrack makes tr one of p's live tracks, if p has none of its kind.
func (p *participant) addTrack(tr *track) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	live := &p.audio
	if tr.codec.video() {
		live = &p.video
	}
	if *live != nil || p.closed {
		return false
	}
	*live = tr
	if p.seg != nil && !tr.codec.video() {
		p.wantSegment(time.Time{}) // audio joins at the next keyframe
	}
	if p.seg == nil {
		p.wantSegment(time.Time{})
	}
	return true
}

// wantSegment asks for a new segment as of media time at (zero: the next
// frame's).
func (p *participant) wantSegment(at time.Time) {
	if !p.want {
		p.want, p.wantSince = true, at
	}
}

// frame takes one frame of a live track.
func (p *participant) frame(fr frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.paused || (fr.tr != p.audio && fr.tr != p.video) {
		return
	}
	if p.mediaStart.IsZero() {
		p.mediaStart = fr.wall
	}
	if p.want && p.wantSince.IsZero() {
		p.wantSince = fr.wall
	}
	p.checkRoll(fr)
	if p.want && p.canOpen(fr) {
		p.switchSegment(fr)
	}
	if p.video != nil && (p.want || p.seg == nil || !p.seg.has(p.video)) {
		p.requestKeyframe(fr.wall)
	}
	switch {
	case p.seg != nil && p.seg.has(fr.tr):
		p.seg.add(fr)
	case fr.tr == p.audio:
		p.hold(fr)
	}
}

// checkRoll asks for a new segment when the open one is due to roll, when
// the picture changes, or when video can join an audio-only file. The
// keyframe for a roll is requested shortly before it is due.
func (p *participant) checkRoll(fr frame) {
	s := p.seg
	if s == nil || p.want {
		return
	}
	due := s.meta.WallStart.Add(p.r.cfg.SegmentDuration)
	if s.video != nil && !s.requested && !fr.wall.Before(due.Add(-keyframeLead)) {
		s.requested = true
		p.requestKeyframe(fr.wall)
	}
	switch {
	case !fr.wall.Before(due):
		p.wantSegment(fr.wall)
	case fr.tr == p.video && fr.key && s.video != fr.tr:
		p.wantSegment(fr.wall)
	case fr.tr == p.video && fr.key && pictureChanged(s.pic, fr.pic):
		p.wantSegment(fr.wall)
	}
}

// pictureChanged reports whether a keyframe changes the file's format.
func pictureChanged(old, pic picture) bool {
	if pic.width != 0 && (pic.width != old.width || pic.height != old.height) {
		return true
	}
	return pic.config != nil && !slices.Equal(pic.config, old.config)
}

// canOpen reports whether the wanted segment can start at fr: at a video
// keyframe; at any frame when there is no video, when video is known to be
// missing, or when its keyframe has been awaited too long.
func (p *participant) canOpen(fr frame) bool {
	switch {
	case p.video == nil:
		// A participant's tracks arrive one by one: before a first
		// segment opens audio-only, give the video track a moment.
		return p.seg != nil || fr.wall.Sub(p.wantSince) >= videoTrackWait
	case fr.tr == p.video:
		return fr.key
	default:
		return p.videoMissing || fr.wall.Sub(p.wantSince) >= p.r.cfg.KeyframeTimeout
	}
}

// switchSegment closes the open segment where fr starts and opens the next
// one with fr, the held audio and the queued frames from fr on.
func (p *participant) switchSegment(fr frame) {
	at := fr.wall
	var carry []frame
	if p.seg != nil {
		carry = p.seg.splitAt(at)
		p.closeSegment(at)
	}
	frames := append(p.held, carry...)
	p.held = nil
	withVideo := fr.tr == p.video
	if !withVideo && p.video != nil && !p.videoMissing {
		p.videoMissing, p.missingSince = true, p.wantSince
	}
	start := at
	for _, h := range frames {
		if h.wall.Before(start) && h.tr == p.audio {
			start = h.wall
		}
	}
	spec := p.segmentSpec(start, withVideo, fr.pic)
	s, err := openSegment(spec, p.log)
	if err != nil {
		p.ix.giveBack(spec.index)
		p.log.Error("cannot open segment", "index", spec.index, "err", err)
		p.wantSince = at // try again at the next chance
		return
	}
	p.seg, p.want = s, false
	p.noteMissingVideo(start, at, withVideo)
	for _, h := range frames {
		if s.has(h.tr) {
			s.add(h)
		}
	}
}

// segmentSpec describes the next segment.
func (p *participant) segmentSpec(start time.Time, withVideo bool, pic picture) segmentSpec {
	// Audio held while waiting for the first keyframe can predate the
	// first frame that arrived: media time counts from the earliest.
	if start.Before(p.mediaStart) {
		p.mediaStart = start
	}
	spec := segmentSpec{
		session: p.r.cfg.SessionID, participant: p.id, stream: p.stream, room: p.room, spool: p.r.cfg.SpoolDir,
		index: p.ix.take(), start: start, mediaStart: p.mediaStart, audio: p.audio,
	}
	if withVideo {
		spec.video, spec.pic = p.video, pic
	}
	return spec
}

// numbering hands out the segment indexes of one participant, shared by
// their streams. Its lock is taken after participant.mu.
type numbering struct {
	mu   sync.Mutex
	next int // index of the next segment
}

// take returns the next index.
func (n *numbering) take() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	return n.next - 1
}

// giveBack returns an index that was not used, unless another was taken
// since.
func (n *numbering) giveBack(i int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.next == i+1 {
		n.next = i
	}
}

// noteMissingVideo records in the new segment how long its video is
// missing: the start of an audio-only file, or a late keyframe.
func (p *participant) noteMissingVideo(start, at time.Time, withVideo bool) {
	if withVideo {
		if p.videoMissing {
			p.videoMissing = false
		} else if at.Sub(start) > interleaveWait {
			p.seg.addGap(Gap{From: start, To: at, Reason: GapNoKeyframe})
		}
	}
}

// closeSegment closes the open segment, ending at end (zero: its last
// frame), and queues it to be sealed.
func (p *participant) closeSegment(end time.Time) {
	s := p.seg
	p.seg = nil
	if s.video == nil && p.videoMissing {
		e := end
		if e.IsZero() {
			e = s.end
		}
		s.addGap(Gap{From: p.missingSince, To: e, Reason: GapNoKeyframe})
	}
	s.close(end)
	s.meta.Speaking = p.speech.take(s.meta.WallStart, s.meta.WallEnd)
	p.r.seal(s)
}

// audioLevel takes the level of a packet of tr, dur long from at.
func (p *participant) audioLevel(tr *track, at time.Time, dur time.Duration, loud bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.paused || tr != p.audio {
		return
	}
	p.speech.level(at, dur, loud)
}

// hold keeps an audio frame for the next segment.
func (p *participant) hold(fr frame) {
	if len(p.held) >= maxHeld {
		p.held = p.held[1:]
	}
	p.held = append(p.held, fr)
}

// requestKeyframe asks the publisher for a keyframe, at most once per
// keyframeRetry of media time.
func (p *participant) requestKeyframe(now time.Time) {
	if since := now.Sub(p.lastReq); p.video == nil || (!p.lastReq.IsZero() && since >= 0 && since < keyframeRetry) {
		return
	}
	p.lastReq = now
	if rk := p.video.info.RequestKeyframe; rk != nil {
		rk()
	}
}

// keyframeWanted is called by a video track that skips frames until a
// keyframe.
func (p *participant) keyframeWanted(tr *track, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tr == p.video {
		p.requestKeyframe(now)
	}
}

// gap records a loss in the open segment.
func (p *participant) gap(g Gap) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seg != nil {
		p.seg.addGap(g)
	}
}

// senderReport anchors tr's clock at the publisher's sender report. The
// first report of any of p's tracks fixes the offset from the publisher's
// clock to ours, so that this track's timeline goes on without a jump (or,
// before its first packet, so that the report is placed at its arrival);
// the other tracks then move into sync with it.
func (p *participant) senderReport(tr *track, ntp uint64, rtpTime uint32) {
	sent := ntpTime(ntp)
	p.mu.Lock()
	if !p.haveOffset {
		at := p.r.now()
		if tr.clk.anchored {
			at = tr.clk.wall(tr.clk.peek(rtpTime))
		}
		p.offset, p.haveOffset = at.Sub(sent), true
	}
	wall := sent.Add(p.offset)
	p.mu.Unlock()
	tr.clk.senderReport(rtpTime, wall)
}

// trackEnded drops a track that ended; when p has no track left, its
// segment closes.
func (p *participant) trackEnded(tr *track) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch tr {
	case p.audio:
		p.audio = nil
		p.speech.flush()
	case p.video:
		p.video = nil
		p.videoMissing = false
	default:
		return
	}
	if p.seg != nil {
		p.seg.trackEnded(tr, tr.lastWall)
	}
	if p.audio == nil && p.video == nil {
		p.end()
	}
}

// end closes the open segment and forgets the held audio. p.mu is held.
func (p *participant) end() {
	p.speech.flush()
	if p.seg != nil {
		p.closeSegment(time.Time{})
	}
	p.held = nil
	p.videoMissing = false
	p.want, p.wantSince = true, time.Time{}
}

// pause stops recording p (its open segment closes where its last frame
// ends) until resume; resume records on in a new segment from the next
// keyframe.
func (p *participant) pause(paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.paused == paused {
		return
	}
	if paused {
		p.end()
	}
	p.paused = paused
}

// seal marks p's segments from now on as recorded in the private room
// room ("" for the joint room): the open segment closes where its last
// frame ends, and recording goes on in a new segment from the next
// keyframe, so that no segment mixes the rooms.
func (p *participant) seal(room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.room == room {
		return
	}
	p.end()
	p.room = room
}

// close ends p for good (the recorder closes).
func (p *participant) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.end()
	p.closed = true
}

// flush hands the open segment's buffered bytes to the OS.
func (p *participant) flush() {
	p.mu.Lock()
	s := p.seg
	p.mu.Unlock()
	if s != nil {
		s.file.flush()
	}
}
