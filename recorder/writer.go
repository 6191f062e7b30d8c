package recorder

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// Muxer settings.
const (
	// cuesReserve is the room kept at the head of a file for its Cues:
	// about 200 cue points, one per cluster; more are thinned out.
	cuesReserve = 4096
	// audioClusterMs is the cluster length of audio-only files (each
	// cluster is a seek point).
	audioClusterMs = 5000
	// interleaveWait is how long a frame waits for a silent track before
	// it is written anyway: the tracks of a file are interleaved in time
	// order, but a stalled track must not stall the others.
	interleaveWait = 500 * time.Millisecond
)

// frame is one media frame of a track, placed on the wall clock.
type frame struct {
	tr   *track
	wall time.Time
	dur  time.Duration
	data []byte
	key  bool
	pic  picture // video
}

// segment is a file being written: one participant's tracks from WallStart
// on, interleaved in time order.
type segment struct {
	meta   Segment
	base   string // spool path without extension
	format format
	file   *spoolFile
	log    *slog.Logger
	video  *track // nil for an audio-only file
	pic    picture

	tracks   []*track
	writers  []webm.BlockWriteCloser // by position in tracks
	lastSeen []time.Time             // newest frame queued, by track
	lastTS   []int64                 // last block time written, by track
	nextTS   []int64                 // earliest time the next block may have, by track
	ended    []time.Time             // when a track ended, zero while live
	queue    []frame                 // not yet written, in time order
	end      time.Time               // end of the last frame written

	requested bool // a keyframe was requested for the next roll

	fatalMu sync.Mutex // guards fatal
	fatal   error      // the muxer failed
}

// segmentSpec is what opening a segment needs.
type segmentSpec struct {
	session, participant string
	stream               string // "" or StreamScreen
	room                 string // private room sealed to, or ""
	spool                string
	index                int
	start                time.Time
	mediaStart           time.Time
	audio, video         *track // either may be nil
	pic                  picture
}

// openSegment creates the spool file, its open-metadata file and the
// muxer.
func openSegment(spec segmentSpec, log *slog.Logger) (*segment, error) {
	s := &segment{video: spec.video, pic: spec.pic, format: formatWebM,
		base: segmentBase(spec.spool, spec.session, spec.participant, spec.stream, spec.index)}
	for _, tr := range []*track{spec.audio, spec.video} {
		if tr != nil {
			s.tracks = append(s.tracks, tr)
			s.lastSeen = append(s.lastSeen, spec.start)
			s.lastTS = append(s.lastTS, -1)
			s.nextTS = append(s.nextTS, 0)
			s.ended = append(s.ended, time.Time{})
			if tr.codec == codecH264 {
				s.format = formatMKV
			}
		}
	}
	s.meta = s.initialMeta(spec)
	s.log = log.With("segment", s.meta.Index)
	var err error
	if s.file, err = createSpool(s.base + s.format.ext + partSuffix); err != nil {
		return nil, err
	}
	if err := s.start(spec.start); err != nil {
		s.file.f.Close()
		_ = os.Remove(s.file.f.Name())
		return nil, err
	}
	return s, nil
}

// initialMeta fills what is known of the segment when it opens.
func (s *segment) initialMeta(spec segmentSpec) Segment {
	m := Segment{
		SessionID: spec.session, ParticipantID: spec.participant, Stream: spec.stream, Room: spec.room, Index: spec.index,
		Key:         segmentKey(spec.session, spec.participant, spec.stream, spec.index, s.format),
		ContentType: s.format.contentType,
		WallStart:   spec.start, MediaStart: spec.start.Sub(spec.mediaStart),
		Width: spec.pic.width, Height: spec.pic.height,
	}
	for _, tr := range s.tracks {
		m.Codecs = append(m.Codecs, tr.codec.String())
	}
	return m
}

// start writes the open-metadata file and starts the muxer.
func (s *segment) start(wallStart time.Time) error {
	if err := writeJSON(s.base+openSuffix, s.meta); err != nil {
		return err
	}
	entries := make([]webm.TrackEntry, len(s.tracks))
	for i, tr := range s.tracks {
		entries[i] = tr.entry(uint64(i+1), s.pic)
	}
	info := &webm.Info{TimecodeScale: 1000000, MuxingApp: "kuayang", WritingApp: "kuayang recorder",
		DateUTC: wallStart}
	ws, err := webm.NewSimpleBlockWriter(s.file, entries, s.muxOptions(info)...)
	if err != nil {
		_ = os.Remove(s.base + openSuffix)
		return fmt.Errorf("recorder: start muxer: %w", err)
	}
	s.writers = ws
	return nil
}

// muxOptions configures ebml-go: our header and info, Cues, no block
// sorting (frames come in order), a cluster per video keyframe (audio
// files: every few seconds), and no panics.
func (s *segment) muxOptions(info *webm.Info) []mkvcore.BlockWriterOption {
	header := *webm.DefaultEBMLHeader
	header.DocType = s.format.docType
	main, minCluster := uint64(1), int64(audioClusterMs)
	if s.video != nil {
		main, minCluster = uint64(slices.Index(s.tracks, s.video)+1), 0
	}
	return []mkvcore.BlockWriterOption{
		mkvcore.WithEBMLHeader(&header),
		mkvcore.WithSegmentInfo(info),
		mkvcore.WithBlockInterceptor(nil),
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(cuesReserve),
		mkvcore.WithMinMaxClusterDuration(main, minCluster, 0x7fff),
		mkvcore.WithOnFatalHandler(s.onFatal),
		mkvcore.WithOnErrorHandler(func(err error) { s.log.Warn("muxer", "err", err) }),
	}
}

// onFatal records a muxer failure.
func (s *segment) onFatal(err error) {
	s.fatalMu.Lock()
	defer s.fatalMu.Unlock()
	if s.fatal == nil {
		s.fatal = err
	}
}

// has reports whether tr is one of the file's tracks.
func (s *segment) has(tr *track) bool { return slices.Contains(s.tracks, tr) }

// add queues fr and writes every frame that no other track can precede
// any more.
func (s *segment) add(fr frame) {
	i := slices.Index(s.tracks, fr.tr)
	if fr.wall.After(s.lastSeen[i]) {
		s.lastSeen[i] = fr.wall
	}
	j := len(s.queue)
	for j > 0 && s.queue[j-1].wall.After(fr.wall) {
		j--
	}
	s.queue = slices.Insert(s.queue, j, fr)
	for len(s.queue) > 0 && s.ready(s.queue[0].wall) {
		s.write(s.queue[0])
		s.queue = s.queue[1:]
	}
}

// ready reports whether a frame at t can be written: every live track has
// queued a frame at t or later, or has been silent too long.
func (s *segment) ready(t time.Time) bool {
	newest := slices.MaxFunc(s.lastSeen, time.Time.Compare)
	for i, seen := range s.lastSeen {
		if seen.Before(t) && s.ended[i].IsZero() && newest.Sub(seen) < interleaveWait {
			return false
		}
	}
	return true
}

// write hands one frame to the muxer, at its time in ms from WallStart,
// after the track's previous block: a track's clock may be re-anchored a
// few ms back by a sender report, and players want rising timestamps. An
// audio frame never starts before the previous one ends: frames squeezed
// closer than their duration overlap, and a decoder that subtracts the
// codec delay then sees two frames at the same time.
func (s *segment) write(fr frame) {
	i := slices.Index(s.tracks, fr.tr)
	ts := max(fr.wall.Sub(s.meta.WallStart).Milliseconds(), s.lastTS[i]+1, s.nextTS[i])
	s.lastTS[i] = ts
	if !fr.tr.codec.video() {
		s.nextTS[i] = ts + fr.dur.Milliseconds()
	}
	if _, err := s.writers[i].Write(fr.key, ts, fr.data); err != nil {
		s.onFatal(err)
	}
	if end := fr.wall.Add(fr.dur); end.After(s.end) {
		s.end = end
	}
}

// splitAt writes the queued frames before t and returns the others (they
// belong to the next segment).
func (s *segment) splitAt(t time.Time) []frame {
	var rest []frame
	for _, fr := range s.queue {
		if fr.wall.Before(t) {
			s.write(fr)
		} else {
			rest = append(rest, fr)
		}
	}
	s.queue = nil
	return rest
}

// trackEnded lets the interleaver stop waiting for tr.
func (s *segment) trackEnded(tr *track, at time.Time) {
	if i := slices.Index(s.tracks, tr); i >= 0 && s.ended[i].IsZero() {
		s.ended[i] = at
	}
}

// addGap records a gap.
func (s *segment) addGap(g Gap) {
	if g.From.Before(s.meta.WallStart) {
		g.From = s.meta.WallStart
	}
	if g.To.After(g.From) {
		s.meta.Gaps = addGap(s.meta.Gaps, g)
	}
}

// close writes what is queued and finishes the muxer (Cues, Duration).
// end, when not zero, is where the next segment starts: the segment ends
// there (its last audio frame may reach a few ms beyond); zero means at the
// end of its last frame.
func (s *segment) close(end time.Time) {
	s.splitAt(time.Time{}.Add(1<<62 - 1))
	if end.IsZero() {
		end = s.end
	}
	if end.Before(s.meta.WallStart) {
		end = s.meta.WallStart
	}
	s.meta.WallEnd = end
	s.meta.MediaEnd = s.meta.MediaStart + end.Sub(s.meta.WallStart)
	for _, at := range s.ended {
		if !at.IsZero() && end.Sub(at) > time.Second {
			s.addGap(Gap{From: at, To: end, Reason: GapDisconnect})
		}
	}
	for _, w := range s.writers {
		if err := w.Close(); err != nil {
			s.onFatal(err)
		}
	}
}

// finish seals the closed file: sync, hash, rename, sidecar. It runs on the
// recorder's finisher goroutine.
func (s *segment) finish() (Segment, error) {
	size, sum, err := s.file.seal()
	s.fatalMu.Lock()
	fatal := s.fatal
	s.fatalMu.Unlock()
	if err == nil && fatal != nil {
		err = fmt.Errorf("recorder: muxer: %w", fatal)
	}
	if err != nil {
		s.meta.Gaps = addGap(s.meta.Gaps, Gap{From: s.meta.WallStart, To: s.meta.WallEnd, Reason: GapWriteError})
	}
	final := s.base + s.format.ext
	if rerr := os.Rename(s.base+s.format.ext+partSuffix, final); rerr != nil {
		return s.meta, errors.Join(err, fmt.Errorf("recorder: rename segment: %w", rerr))
	}
	s.meta.Path, s.meta.Bytes, s.meta.SHA256 = final, size, sum
	return s.meta, errors.Join(err, sealMeta(s.base, s.meta))
}

// sealMeta writes the sidecar of a closed segment, removes its
// open-metadata file and makes both durable.
func sealMeta(base string, meta Segment) error {
	if err := writeJSON(base+sidecarSuffix, meta); err != nil {
		return err
	}
	if err := os.Remove(base + openSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("recorder: remove open metadata: %w", err)
	}
	return syncDir(filepath.Dir(base))
}
