package recorder

import (
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/kuayang/kuayang/sfu"
)

// Defaults.
const (
	defaultSegmentDuration = 30 * time.Second
	defaultKeyframeTimeout = 3 * time.Second
	// videoTrackWait is how long a participant's first segment waits for
	// a video track after its audio started, before it opens audio-only.
	videoTrackWait = time.Second
	// flushInterval is how often open segments are handed to the OS.
	flushInterval = 500 * time.Millisecond
)

// Config configures the recording of one session.
type Config struct {
	// SessionID names the session; it is the spool directory and the
	// second element of object keys.
	SessionID string
	// SpoolDir is where segments are written:
	// SpoolDir/<session>/<participant>/<index>.webm.
	SpoolDir string
	// SegmentDuration is how long a segment runs before it rolls at the
	// next keyframe; default 30 s.
	SegmentDuration time.Duration
	// KeyframeTimeout is how long a segment waits for a video keyframe
	// before it starts without video; default 3 s.
	KeyframeTimeout time.Duration
	// Now is the wall clock; default time.Now.
	Now func() time.Time
	// Logger receives the recorder's log records; nil means
	// slog.Default().
	Logger *slog.Logger
	// OnSegment is called once per sealed segment (file renamed, sidecar
	// written, both synced), from a recorder goroutine, one at a time. It
	// must not block for long.
	OnSegment func(Segment)
	// NextIndex, when set, returns the first segment index to use for a
	// participant (segments already uploaded and removed from the spool
	// count). The recorder uses the larger of it and what the spool holds.
	NextIndex func(participant string) int
}

// Recorder records one session: one segment file at a time per
// participant with that participant's audio and video. It is an
// sfu.Observer.
type Recorder struct {
	cfg  Config
	log  *slog.Logger
	fin  *finisher
	done chan struct{} // closed by Close: stops the flusher
	wg   sync.WaitGroup

	mu     sync.Mutex // guards the fields below; taken before participant.mu
	closed bool
	parts  map[partKey]*participant
}

var _ sfu.Observer = (*Recorder)(nil)

// New returns a recorder for cfg.SessionID. It writes nothing until a
// track arrives.
func New(cfg Config) *Recorder {
	if cfg.SegmentDuration <= 0 {
		cfg.SegmentDuration = defaultSegmentDuration
	}
	if cfg.KeyframeTimeout <= 0 {
		cfg.KeyframeTimeout = defaultKeyframeTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "recorder", "session", cfg.SessionID)
	r := &Recorder{cfg: cfg, log: log, done: make(chan struct{}), parts: map[partKey]*participant{}}
	r.fin = newFinisher(log, cfg.OnSegment)
	r.wg.Go(r.fin.run)
	r.wg.Go(r.flushLoop)
	return r
}

// now reads the recorder's clock.
func (r *Recorder) now() time.Time { return r.cfg.Now() }

// TrackAdded implements sfu.Observer: it records the participant's first
// audio and first video track of a supported codec (Opus; VP8, VP9,
// H.264), and, as a stream of its own (StreamScreen), their screen
// share's video; it ignores others.
func (r *Recorder) TrackAdded(t sfu.TrackInfo) sfu.TrackSink {
	c := codecOf(t.Codec.MimeType)
	log := r.log.With("participant", t.Participant, "track", t.TrackID, "codec", t.Codec.MimeType, "screen", t.Screen)
	if c == codecUnknown || (t.Kind == "video") != c.video() {
		log.Warn("track not recorded: unsupported codec")
		return nil
	}
	if t.Screen && !c.video() {
		log.Warn("track not recorded: a screen share is video")
		return nil
	}
	stream := ""
	if t.Screen {
		stream = StreamScreen
	}
	p := r.participant(t.Participant, stream)
	if p == nil {
		return nil
	}
	tr := newTrack(p, t, c)
	if !p.addTrack(tr) {
		log.Warn("track not recorded: the participant already has a track of this kind")
		return nil
	}
	log.Info("recording track")
	if c.video() && t.RequestKeyframe != nil {
		t.RequestKeyframe()
	}
	return tr
}

// participant returns the recording of pid's stream ("" or
// StreamScreen), created on first use; nil once the recorder is closed.
func (r *Recorder) participant(pid, stream string) *participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	return r.streamLocked(pid, stream)
}

// streamLocked is participant with r.mu held.
func (r *Recorder) streamLocked(pid, stream string) *participant {
	if p := r.parts[partKey{pid, stream}]; p != nil {
		return p
	}
	var ix *numbering
	if stream == "" {
		// The participant's segments number on from the spool's (both
		// streams) and what was stored.
		ix = &numbering{}
		for _, s := range []string{"", StreamScreen} {
			ix.next = max(ix.next, nextSpoolIndex(filepath.Dir(segmentBase(r.cfg.SpoolDir, r.cfg.SessionID, pid, s, 0))))
		}
		if r.cfg.NextIndex != nil {
			ix.next = max(ix.next, r.cfg.NextIndex(pid))
		}
	} else {
		ix = r.streamLocked(pid, "").ix
	}
	log := r.log.With("participant", pid)
	if stream != "" {
		log = log.With("stream", stream)
	}
	p := &participant{r: r, id: pid, stream: stream, ix: ix, log: log, want: true}
	r.parts[partKey{pid, stream}] = p
	return p
}

// partKey names one stream of a participant's recording.
type partKey struct{ pid, stream string }

// Pause stops recording a participant (paused true) or records them
// again (false): a participant in a private room that is not recorded.
// Their open segments (camera and screen share) close at their last
// frame; media while paused is dropped; recording resumes in new
// segments at the next keyframe.
func (r *Recorder) Pause(pid string, paused bool) {
	var ps []*participant
	r.mu.Lock()
	for _, stream := range []string{"", StreamScreen} {
		p := r.parts[partKey{pid, stream}]
		if p == nil && paused && !r.closed {
			p = r.streamLocked(pid, stream) // paused before their first packet too
		}
		if p != nil {
			ps = append(ps, p) // nobody to resume is nothing to do
		}
	}
	r.mu.Unlock()
	for _, p := range ps {
		p.pause(paused)
	}
}

// Seal records a participant's streams (camera and screen share) as in
// the recorded private room room from now on, or in the joint room
// (room ""): their open segments close, and the next ones carry the
// room (Segment.Room). Pause still stops the recording altogether.
func (r *Recorder) Seal(pid, room string) {
	var ps []*participant
	r.mu.Lock()
	for _, stream := range []string{"", StreamScreen} {
		p := r.parts[partKey{pid, stream}]
		if p == nil && room != "" && !r.closed {
			p = r.streamLocked(pid, stream) // sealed before their first packet too
		}
		if p != nil {
			ps = append(ps, p)
		}
	}
	r.mu.Unlock()
	for _, p := range ps {
		p.seal(room)
	}
}

// seal queues a closed segment to be sealed.
func (r *Recorder) seal(s *segment) { r.fin.add(s) }

// Close ends the recording: it closes every open segment and returns once
// all are sealed and reported to OnSegment. Tracks that go on are ignored.
// Detach the recorder from the SFU first (the stop function of Observe),
// so that every track's last packets are written.
func (r *Recorder) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	parts := make([]*participant, 0, len(r.parts))
	for _, p := range r.parts {
		parts = append(parts, p)
	}
	r.mu.Unlock()
	for _, p := range parts {
		p.close()
	}
	close(r.done)
	r.fin.stop()
	r.wg.Wait()
}

// flushLoop hands the open segments' bytes to the OS every flushInterval,
// until Close.
func (r *Recorder) flushLoop() {
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		parts := make([]*participant, 0, len(r.parts))
		for _, p := range r.parts {
			parts = append(parts, p)
		}
		r.mu.Unlock()
		for _, p := range parts {
			p.flush()
		}
	}
}

// finisher seals closed segments one at a time, off the media path (sync,
// hash, rename, sidecar), and reports them.
type finisher struct {
	log       *slog.Logger
	onSegment func(Segment)
	wake      chan struct{} // capacity 1

	mu      sync.Mutex // guards the fields below
	queue   []*segment
	stopped bool
}

func newFinisher(log *slog.Logger, onSegment func(Segment)) *finisher {
	return &finisher{log: log, onSegment: onSegment, wake: make(chan struct{}, 1)}
}

// add queues s. It never blocks.
func (f *finisher) add(s *segment) {
	f.mu.Lock()
	f.queue = append(f.queue, s)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// stop makes run return once the queue is empty.
func (f *finisher) stop() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// run seals queued segments until stopped and drained.
func (f *finisher) run() {
	for range f.wake {
		for {
			f.mu.Lock()
			if len(f.queue) == 0 {
				stopped := f.stopped
				f.mu.Unlock()
				if stopped {
					return
				}
				break
			}
			s := f.queue[0]
			f.queue = f.queue[1:]
			f.mu.Unlock()
			f.finish(s)
		}
	}
}

// finish seals one segment and reports it.
func (f *finisher) finish(s *segment) {
	meta, err := s.finish()
	if err != nil {
		f.log.Error("segment sealed with errors", "participant", meta.ParticipantID, "index", meta.Index, "err", err)
	} else {
		f.log.Info("segment sealed", "participant", meta.ParticipantID, "index", meta.Index,
			"bytes", meta.Bytes, "duration", meta.WallEnd.Sub(meta.WallStart))
	}
	if meta.Path != "" && f.onSegment != nil {
		f.onSegment(meta)
	}
}
