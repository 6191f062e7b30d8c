package recorder

import (
	"bytes"
	"crypto/sha256"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuayang/kuayang/sfu"
	"github.com/pion/webrtc/v4"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// collected gathers OnSegment reports.
type collected struct {
	mu   sync.Mutex // guards segs
	segs []Segment
}

func (c *collected) add(s Segment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.segs = append(c.segs, s)
}

func (c *collected) all() []Segment {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.segs)
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// testLogger logs warnings and errors to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// newTestRecorder returns a recorder on a fake clock spooling to a
// temporary directory.
func newTestRecorder(t *testing.T, segDur time.Duration) (*Recorder, *fakeClock, *collected, string) {
	t.Helper()
	spool := t.TempDir()
	clk := &fakeClock{now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	got := &collected{}
	r := New(Config{
		SessionID: "s1", SpoolDir: spool, SegmentDuration: segDur, KeyframeTimeout: time.Second,
		Now: clk.Now, Logger: testLogger(t), OnSegment: got.add,
	})
	t.Cleanup(r.Close)
	return r, clk, got, spool
}

// feeder plays clips into a recorder as one participant's publisher would
// through the SFU: RTP packets arriving on a schedule, and sender reports
// from a publisher clock that is skewed from the recorder's.
type feeder struct {
	t            *testing.T
	clk          *fakeClock
	base         time.Time // recorder time of media time 0
	skew         time.Duration
	video        sfu.TrackSink
	audio        sfu.TrackSink
	vs, as       *rtpStream
	started      bool
	keyRequests  atomic.Int32
	videoDelay   time.Duration // arrival after capture
	audioDelay   time.Duration
	lossyVideo   func(frame, packet int) bool // drop this packet
	paddingVideo func(frame int) int          // padding-only packets sent after the frame
	overflowAt   int                          // video frame at which the queue overflows
	// levels, if set, gives the audio level of the audio captured at a
	// media time, sent with each audio packet.
	levels func(capture time.Duration) (level uint8, voice bool)
}

// newFeeder adds the tracks of participant pid (either may be left out).
func newFeeder(t *testing.T, r *Recorder, clk *fakeClock, pid string, video, audio bool) *feeder {
	t.Helper()
	f := &feeder{t: t, clk: clk, base: clk.Now(), skew: 5 * time.Second, vs: newVP8Stream(), as: newOpusStream(),
		videoDelay: 150 * time.Millisecond, audioDelay: 20 * time.Millisecond, overflowAt: -1}
	if video {
		f.video = r.TrackAdded(sfu.TrackInfo{Participant: pid, TrackID: "v", StreamID: "s", Kind: "video",
			Codec:           webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}},
			RequestKeyframe: func() { f.keyRequests.Add(1) }})
	}
	if audio {
		f.audio = r.TrackAdded(sfu.TrackInfo{Participant: pid, TrackID: "a", StreamID: "s", Kind: "audio",
			Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}}})
	}
	return f
}

// event is one frame's arrival.
type event struct {
	at      time.Duration // arrival, media time
	capture time.Duration
	video   bool
	frame   int
	data    []byte
}

// play feeds a clip starting at media time from; skipVideo drops video
// frames (before encoding into RTP) for which it returns true.
func (f *feeder) play(c *clip, from time.Duration, skipVideo func(i int) bool) time.Duration {
	f.t.Helper()
	var evs []event
	if f.video != nil {
		for i, fr := range c.video {
			capture := from + time.Duration(i)*time.Second/clipFPS
			evs = append(evs, event{at: capture + f.videoDelay, capture: capture, video: true, frame: i, data: fr})
		}
	}
	if f.audio != nil {
		for i, fr := range c.audio {
			capture := from + time.Duration(i)*audioFrameDur
			evs = append(evs, event{at: capture + f.audioDelay, capture: capture, frame: i, data: fr})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	for _, ev := range evs {
		if ev.video && skipVideo != nil && skipVideo(ev.frame) {
			continue
		}
		f.deliver(ev)
	}
	return from + time.Duration(len(c.audio))*audioFrameDur
}

// deliver writes one frame's packets at its arrival time, with sender
// reports first and every second.
func (f *feeder) deliver(ev event) {
	f.clk.set(f.base.Add(ev.at))
	sink, s, dur := f.audio, f.as, audioFrameDur
	if ev.video {
		sink, s, dur = f.video, f.vs, time.Second/clipFPS
	}
	pkts := s.packets(f.t, ev.data, dur)
	if ev.video && f.paddingVideo != nil {
		pkts = append(pkts, s.padding(f.t, pkts[len(pkts)-1], f.paddingVideo(ev.frame))...)
	}
	if !f.started || ev.frame%50 == 0 {
		f.started = true
		f.senderReports(ev.capture)
	}
	for i, b := range pkts {
		if ev.video && f.lossyVideo != nil && f.lossyVideo(ev.frame, i) {
			continue
		}
		if ev.video && ev.frame == f.overflowAt && i == len(pkts)/2 {
			sink.Lost(len(pkts) - i)
			f.overflowAt = -1
			break
		}
		if !ev.video && f.levels != nil {
			level, voice := f.levels(ev.capture)
			sink.(sfu.AudioLevelSink).AudioLevel(level, voice)
		}
		sink.WriteRTP(b)
	}
}

// senderReports sends both tracks' reports for media time mt.
func (f *feeder) senderReports(mt time.Duration) {
	ntp := toNTP(f.base.Add(f.skew + mt))
	if f.video != nil {
		f.video.SenderReport(ntp, f.vs.ts0+uint32(mt*90000/time.Second))
	}
	if f.audio != nil {
		f.audio.SenderReport(ntp, f.as.ts0+uint32(mt*48000/time.Second))
	}
}

// toNTP converts a time to a 64-bit NTP timestamp.
func toNTP(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// end closes the tracks, as the SFU does when the participant leaves.
func (f *feeder) end() {
	if f.video != nil {
		f.video.Close()
	}
	if f.audio != nil {
		f.audio.Close()
	}
}

// checkSegment verifies one sealed segment with ffprobe and ffmpeg and
// returns what ffprobe said.
func checkSegment(t *testing.T, s Segment, wantVideo bool) probe {
	t.Helper()
	b, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); !bytes.Equal(sum[:], s.SHA256) || int64(len(b)) != s.Bytes {
		t.Errorf("%s: sidecar hash/size do not match the file", s.Key)
	}
	side, err := readSegment(strings.TrimSuffix(s.Path, filepath.Ext(s.Path)) + sidecarSuffix)
	if err != nil || !bytes.Equal(side.SHA256, s.SHA256) {
		t.Errorf("%s: sidecar %v, %v", s.Key, side, err)
	}
	p := ffprobe(t, s.Path)
	_, ai := p.stream("audio")
	vstart, vi := p.stream("video")
	if ai < 0 || (vi >= 0) != wantVideo {
		t.Errorf("%s: streams %+v", s.Key, p.Streams)
	}
	if wantVideo && (!firstVideoKeyframe(t, s.Path) || vstart < 0) {
		t.Errorf("%s: video does not start with a keyframe", s.Key)
	}
	decode(t, s.Path, 0)
	if d := p.duration(); d > 1 {
		decode(t, s.Path, d/2)
	}
	checkCues(t, s.Path)
	return p
}

// checkCues verifies that the file has a Cues element and a Duration.
func checkCues(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := scan(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.cuesOff == 0 || r.durationOff == 0 {
		t.Errorf("%s: no Cues or no Duration", filepath.Base(path))
	}
}

func TestSegmentsRollAndDecode(t *testing.T) {
	c := makeClip(t, 320, 240, 6)
	r, clk, got, _ := newTestRecorder(t, 2*time.Second)
	f := newFeeder(t, r, clk, "alice", true, true)
	fed := f.play(c, 0, nil)
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) != 3 {
		t.Fatalf("%d segments, want 3: %+v", len(segs), segs)
	}
	var total float64
	for i, s := range segs {
		p := checkSegment(t, s, true)
		total += p.duration()
		if s.Index != i || s.Key != "sessions/s1/alice/00000"+string(rune('0'+i))+".webm" || s.ContentType != "video/webm" {
			t.Errorf("segment %d: index %d key %q type %q", i, s.Index, s.Key, s.ContentType)
		}
		if d := p.duration(); i < 2 && math.Abs(d-2) > 0.25 {
			t.Errorf("segment %d lasts %.2fs, want about 2s", i, d)
		}
		astart, _ := p.stream("audio")
		vstart, _ := p.stream("video")
		if math.Abs(astart-vstart) > 0.1 {
			t.Errorf("segment %d: audio starts at %.3fs, video at %.3fs", i, astart, vstart)
		}
		if s.Width != 320 || s.Height != 240 || !slices.Equal(s.Codecs, []string{"opus", "vp8"}) {
			t.Errorf("segment %d: %dx%d %v", i, s.Width, s.Height, s.Codecs)
		}
		if i > 0 && !s.WallStart.Equal(segs[i-1].WallEnd) {
			t.Errorf("segment %d starts at %v, the previous ended at %v", i, s.WallStart, segs[i-1].WallEnd)
		}
	}
	if math.Abs(total-fed.Seconds()) > 1 {
		t.Errorf("segments last %.2fs in all, %v was fed", total, fed)
	}
	if start := segs[0].WallStart.Sub(f.base); start < 0 || start > 50*time.Millisecond {
		t.Errorf("first segment starts %v after media time 0 (sender reports not used?)", start)
	}
	if f.keyRequests.Load() == 0 {
		t.Error("no keyframe requested")
	}
}

func TestResolutionChangeStartsSegment(t *testing.T) {
	small, large := makeClip(t, 320, 240, 3), makeClip(t, 640, 360, 3)
	r, clk, got, _ := newTestRecorder(t, time.Minute)
	f := newFeeder(t, r, clk, "bob", true, true)
	f.play(large, f.play(small, 0, nil), nil)
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2", len(segs))
	}
	for i, want := range []*clip{small, large} {
		p := checkSegment(t, segs[i], true)
		_, vi := p.stream("video")
		if p.Streams[vi].Width != want.width || segs[i].Width != want.width || segs[i].Height != want.height {
			t.Errorf("segment %d: ffprobe %dx%d, sidecar %dx%d, want %dx%d", i,
				p.Streams[vi].Width, p.Streams[vi].Height, segs[i].Width, segs[i].Height, want.width, want.height)
		}
		if d := p.duration(); math.Abs(d-3) > 0.3 {
			t.Errorf("segment %d lasts %.2fs, want about 3s", i, d)
		}
	}
}

func TestAudioOnlyRollsByTime(t *testing.T) {
	c := makeClip(t, 320, 240, 5)
	r, clk, got, _ := newTestRecorder(t, 2*time.Second)
	f := newFeeder(t, r, clk, "carol", false, true)
	f.play(c, 0, nil)
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) != 3 {
		t.Fatalf("%d segments, want 3", len(segs))
	}
	for i, s := range segs {
		p := checkSegment(t, s, false)
		if d := p.duration(); i < 2 && math.Abs(d-2) > 0.1 {
			t.Errorf("segment %d lasts %.2fs", i, d)
		}
	}
}

func TestKeyframeTimeoutWritesAudioOnly(t *testing.T) {
	c := makeClip(t, 320, 240, 5)
	r, clk, got, _ := newTestRecorder(t, time.Minute)
	f := newFeeder(t, r, clk, "dave", true, true)
	// No keyframe reaches the recorder before 3 s.
	f.play(c, 0, func(i int) bool { return i < 3*clipFPS && i%clipFPS == 0 })
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2: %+v", len(segs), segs)
	}
	checkSegment(t, segs[0], false)
	checkSegment(t, segs[1], true)
	g := segs[0].Gaps
	if len(g) != 1 || g[0].Reason != GapNoKeyframe || g[0].To.Sub(g[0].From) < 2*time.Second {
		t.Errorf("audio-only segment gaps %+v, want one no_keyframe gap of about 3s", g)
	}
	if d := segs[1].WallStart.Sub(f.base); d < 2900*time.Millisecond || d > 3100*time.Millisecond {
		t.Errorf("video segment starts at %v, want at the keyframe at 3s", d)
	}
	if f.keyRequests.Load() < 2 {
		t.Errorf("%d keyframe requests while waiting", f.keyRequests.Load())
	}
}

func TestLossIsRecordedAndSkipped(t *testing.T) {
	c := makeClip(t, 320, 240, 4)
	r, clk, got, _ := newTestRecorder(t, time.Minute)
	f := newFeeder(t, r, clk, "erin", true, true)
	f.lossyVideo = func(frame, packet int) bool { return frame == 20 && packet == 0 }
	f.overflowAt = 70
	f.play(c, 0, nil)
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) != 1 {
		t.Fatalf("%d segments", len(segs))
	}
	checkSegment(t, segs[0], true)
	var reasons []string
	for _, g := range segs[0].Gaps {
		reasons = append(reasons, g.Reason)
		if g.Packets == 0 || !g.To.After(g.From) {
			t.Errorf("gap %+v", g)
		}
	}
	if !slices.Equal(reasons, []string{GapPacketLoss, GapQueueOverflow}) {
		t.Errorf("gaps %v, want packet_loss then queue_overflow", reasons)
	}
}

// TestPaddingIsNoLoss: a browser's padding-only packets after frames
// (bandwidth probes, simulcast) are no loss: every frame is recorded,
// also a frame of one packet right after a run of them, and no gap.
func TestPaddingIsNoLoss(t *testing.T) {
	c := makeClip(t, 320, 240, 3)
	r, clk, got, _ := newTestRecorder(t, time.Minute)
	f := newFeeder(t, r, clk, "gina", true, true)
	f.paddingVideo = func(frame int) int { return []int{0, 1, 10, 17}[frame%4] }
	f.play(c, 0, nil)
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) != 1 {
		t.Fatalf("%d segments", len(segs))
	}
	checkSegment(t, segs[0], true)
	if len(segs[0].Gaps) != 0 {
		t.Errorf("gaps %+v, want none", segs[0].Gaps)
	}
	// Every frame but the last (whose end no later packet confirms).
	if n := videoFrames(t, segs[0].Path); n != len(c.video)-1 {
		t.Errorf("%d video frames recorded of %d sent", n, len(c.video))
	}
}

func TestIndexContinuesAcrossRejoin(t *testing.T) {
	c := makeClip(t, 320, 240, 2)
	r, clk, got, _ := newTestRecorder(t, time.Minute)
	f := newFeeder(t, r, clk, "frank", true, true)
	f.play(c, 0, nil)
	f.end()
	clk.set(clk.Now().Add(time.Second))
	g := newFeeder(t, r, clk, "frank", true, true)
	g.play(c, 0, nil)
	g.end()
	r.Close()
	segs := got.all()
	if len(segs) != 2 || segs[0].Index != 0 || segs[1].Index != 1 || !segs[1].WallStart.After(segs[0].WallEnd) {
		t.Fatalf("segments %+v", segs)
	}
	if segs[1].MediaStart < 3*time.Second {
		t.Errorf("second segment's media start %v: not measured from the first media", segs[1].MediaStart)
	}
	// A new recorder for the session continues the numbering from the
	// spool and from the hook.
	r2 := New(Config{SessionID: "s1", SpoolDir: r.cfg.SpoolDir, NextIndex: func(pid string) int { return 1 }})
	defer r2.Close()
	if p := r2.participant("frank", ""); p.ix.next != 2 {
		t.Errorf("next index %d, want 2", p.ix.next)
	}
	r3 := New(Config{SessionID: "s1", SpoolDir: r.cfg.SpoolDir, NextIndex: func(pid string) int { return 7 }})
	defer r3.Close()
	if p := r3.participant("frank", ""); p.ix.next != 7 {
		t.Errorf("next index %d, want 7", p.ix.next)
	}
}

func TestSafeNames(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"p-1_2.3", "p-1_2.3"},
		{"../etc", "x-2e2e2f657463"},
		{"a/b", "x-612f62"},
		{"", "x-"},
		{"x-41", "x-782d3431"},
		{"a..b", "x-612e2e62"},
	}
	for _, tc := range tests {
		if got := safeName(tc.in); got != tc.want {
			t.Errorf("safeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A participant paused (in a private room that is not recorded) has
// nothing recorded until resumed: the segment before closes at the pause,
// the media while paused is dropped, and recording goes on in a new
// segment from the next keyframe.
func TestPauseDropsMediaUntilResumed(t *testing.T) {
	c := makeClip(t, 320, 240, 2)
	r, clk, got, _ := newTestRecorder(t, 30*time.Second)
	f := newFeeder(t, r, clk, "alice", true, true)
	f.play(c, 0, nil)
	r.Pause("alice", true)
	f.play(c, 2*time.Second, nil)
	r.Pause("alice", false)
	f.play(c, 4*time.Second, nil)
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2 (before the pause and after it): %+v", len(segs), segs)
	}
	pausedAt, resumedAt := f.base.Add(2*time.Second), f.base.Add(4*time.Second)
	if end := segs[0].WallEnd; end.After(pausedAt.Add(100 * time.Millisecond)) {
		t.Errorf("the first segment ends %v after the pause", end.Sub(pausedAt))
	}
	if start := segs[1].WallStart; start.Before(resumedAt.Add(-50*time.Millisecond)) || start.After(resumedAt.Add(500*time.Millisecond)) {
		t.Errorf("the second segment starts %v after the resume", start.Sub(resumedAt))
	}
	for _, s := range segs {
		checkSegment(t, s, true)
	}
}

// A participant in a recorded private room is recorded on, in segments of
// their own: cut where they enter and leave the room, those in between
// carrying the room's id, the others none.
func TestSealCutsSegmentsAtTheRoom(t *testing.T) {
	c := makeClip(t, 320, 240, 2)
	r, clk, got, _ := newTestRecorder(t, 30*time.Second)
	f := newFeeder(t, r, clk, "alice", true, true)
	f.play(c, 0, nil)
	r.Seal("alice", "private-1")
	f.play(c, 2*time.Second, nil)
	r.Seal("alice", "")
	f.play(c, 4*time.Second, nil)
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) != 3 {
		t.Fatalf("%d segments, want 3 (before, in and after the private room): %+v", len(segs), segs)
	}
	for i, want := range []string{"", "private-1", ""} {
		if segs[i].Room != want {
			t.Errorf("segment %d room %q, want %q", i, segs[i].Room, want)
		}
		checkSegment(t, segs[i], true)
	}
	enteredAt, leftAt := f.base.Add(2*time.Second), f.base.Add(4*time.Second)
	if end := segs[0].WallEnd; end.After(enteredAt.Add(100 * time.Millisecond)) {
		t.Errorf("the first segment ends %v after entering the room", end.Sub(enteredAt))
	}
	if start := segs[1].WallStart; start.Before(enteredAt.Add(-50*time.Millisecond)) || start.After(enteredAt.Add(500*time.Millisecond)) {
		t.Errorf("the sealed segment starts %v after entering the room", start.Sub(enteredAt))
	}
	if end := segs[1].WallEnd; end.After(leftAt.Add(100 * time.Millisecond)) {
		t.Errorf("the sealed segment ends %v after leaving the room", end.Sub(leftAt))
	}
	if start := segs[2].WallStart; start.Before(leftAt.Add(-50*time.Millisecond)) || start.After(leftAt.Add(500*time.Millisecond)) {
		t.Errorf("the last segment starts %v after leaving the room", start.Sub(leftAt))
	}
}

// A screen share is recorded as a stream of its own: its segments (video
// only) lie under screen/ in the spool and in their keys, say their
// stream, and are numbered in the participant's one sequence; the
// camera's segment goes on unbroken beside it; a new recorder numbers on
// after both; pausing the participant pauses both.
func TestScreenIsAStreamOfItsOwn(t *testing.T) {
	c := makeClip(t, 320, 240, 2)
	r, clk, got, spool := newTestRecorder(t, time.Minute)
	cam := newFeeder(t, r, clk, "alice", true, true)
	cam.play(c, 0, nil)
	scr := newFeeder(t, r, clk, "bob", false, false) // the schedule; its track is alice's screen
	scr.video = r.TrackAdded(sfu.TrackInfo{Participant: "alice", TrackID: "display", StreamID: "-", Kind: "video", Screen: true,
		Codec:           webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}},
		RequestKeyframe: func() { scr.keyRequests.Add(1) }})
	if scr.video == nil {
		t.Fatal("the screen track is not recorded")
	}
	if r.TrackAdded(sfu.TrackInfo{Participant: "alice", TrackID: "mic2", Kind: "audio", Screen: true,
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}}}) != nil {
		t.Error("an audio track marked as a screen is recorded")
	}
	scr.play(c, 0, nil)
	scr.end()
	cam.play(c, 2*time.Second, nil)
	cam.end()
	r.Close()

	segs := got.all()
	if len(segs) != 2 {
		t.Fatalf("%d segments, want the camera's and the screen's: %+v", len(segs), segs)
	}
	camera, screen := segs[0], segs[1]
	if camera.Stream != "" || camera.Index != 0 || camera.Key != "sessions/s1/alice/000000.webm" {
		t.Errorf("camera segment %d %q %s", camera.Index, camera.Stream, camera.Key)
	}
	if screen.Stream != StreamScreen || screen.Index != 1 || screen.Key != "sessions/s1/alice/screen/000001.webm" ||
		screen.Path != filepath.Join(spool, "s1", "alice", "screen", "000001.webm") {
		t.Errorf("screen segment %d %q %s at %s", screen.Index, screen.Stream, screen.Key, screen.Path)
	}
	if !slices.Equal(screen.Codecs, []string{"vp8"}) || screen.Width != 320 || len(screen.Speaking) != 0 {
		t.Errorf("screen segment codecs %v, width %d, speaking %v", screen.Codecs, screen.Width, screen.Speaking)
	}
	if d := camera.WallEnd.Sub(camera.WallStart); d < 3900*time.Millisecond {
		t.Errorf("the camera's segment lasts %v: broken by the screen share", d)
	}
	if d := screen.WallEnd.Sub(screen.WallStart); d < 1800*time.Millisecond || d > 2200*time.Millisecond {
		t.Errorf("the screen's segment lasts %v, want about 2 s", d)
	}
	p := ffprobe(t, screen.Path)
	if _, ai := p.stream("audio"); ai >= 0 {
		t.Errorf("the screen's file has audio: %+v", p.Streams)
	}
	if _, vi := p.stream("video"); vi < 0 || !firstVideoKeyframe(t, screen.Path) {
		t.Errorf("the screen's file: streams %+v", p.Streams)
	}
	decode(t, screen.Path, 0)
	checkCues(t, screen.Path)
	checkSegment(t, camera, true)

	// The spool's screen directory counts for the numbering, which the
	// streams share.
	r3 := New(Config{SessionID: "s1", SpoolDir: spool})
	defer r3.Close()
	if p := r3.participant("alice", StreamScreen); p.ix.next != 2 || p.ix != r3.participant("alice", "").ix {
		t.Errorf("next index %d, want 2 (after the screen's segment in the spool), shared by the streams", p.ix.next)
	}
	// Pausing the participant pauses their screen share too.
	r3.Pause("alice", true)
	for _, stream := range []string{"", StreamScreen} {
		if p := r3.participant("alice", stream); !p.paused {
			t.Errorf("stream %q not paused", stream)
		}
	}
}
