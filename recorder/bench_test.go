//go:build unix

package recorder

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kuayang/kuayang/sfu"
	"github.com/pion/webrtc/v4"
)

// Benchmark media: a camera-sized VP8 stream at a typical WebRTC bitrate
// with a keyframe every second, and 20 ms Opus packets, looped.
const (
	benchWidth   = 640
	benchHeight  = 360
	benchSeconds = 10 // clip length; the benchmark loops it
	benchBitrate = "500k"
	benchSegment = 30 * time.Second
	// Arrival after capture, as in the tests' feeder.
	benchVideoDelay = 150 * time.Millisecond
	benchAudioDelay = 20 * time.Millisecond
	benchSkew       = 5 * time.Second // publisher clock ahead of ours
)

// makeBenchClip encodes the benchmark clip once per test binary.
func makeBenchClip(b *testing.B) *clip {
	b.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Skipf("SKIPPING: ffmpeg not installed; the benchmark needs it to encode real VP8 and Opus: %v", err)
	}
	key := fmt.Sprintf("bench-%dx%d-%d-%s", benchWidth, benchHeight, benchSeconds, benchBitrate)
	clipMu.Lock()
	defer clipMu.Unlock()
	if c := clipCache[key]; c != nil {
		return c
	}
	dir := b.TempDir()
	ivf, ogg := filepath.Join(dir, "v.ivf"), filepath.Join(dir, "a.ogg")
	run(b, "ffmpeg", "-v", "error", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc=size=%dx%d:rate=%d", benchWidth, benchHeight, clipFPS), "-t", strconv.Itoa(benchSeconds),
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", strconv.Itoa(clipFPS),
		"-b:v", benchBitrate, "-auto-alt-ref", "0", ivf)
	run(b, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(benchSeconds), "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20",
		"-page_duration", "20000", ogg)
	c := &clip{width: benchWidth, height: benchHeight, video: readIVF(b, ivf), audio: readOgg(b, ogg)}
	perSecond := int(time.Second / audioFrameDur)
	if len(c.video) != benchSeconds*clipFPS || len(c.audio) < benchSeconds*perSecond {
		b.Fatalf("clip has %d video frames and %d audio packets, want %d and %d",
			len(c.video), len(c.audio), benchSeconds*clipFPS, benchSeconds*perSecond)
	}
	c.audio = c.audio[:benchSeconds*perSecond]
	clipCache[key] = c
	return c
}

// benchTrack is one track of the looped clip, packetized once: feeding
// rewrites each packet's sequence number and timestamp, so that the
// stream goes on without a break however many times the clip loops.
type benchTrack struct {
	sink   sfu.TrackSink
	frames [][][]byte // RTP packets of each frame of the clip
	step   uint32     // RTP time per frame
	ts0    uint32
	delay  time.Duration
	period time.Duration // capture time per frame

	n   int    // next frame (counts on across loops)
	seq uint16 // next sequence number
	buf []byte
}

func newBenchTrack(b *testing.B, s *rtpStream, frames [][]byte, period, delay time.Duration) *benchTrack {
	b.Helper()
	t := &benchTrack{ts0: s.ts0, step: uint32(period * time.Duration(s.rate) / time.Second), period: period,
		delay: delay, seq: 1000}
	for _, fr := range frames {
		t.frames = append(t.frames, s.packets(b, fr, period))
	}
	return t
}

// bytes returns the RTP bytes of one loop of the clip.
func (t *benchTrack) bytes() int64 {
	var n int64
	for _, pkts := range t.frames {
		for _, p := range pkts {
			n += int64(len(p))
		}
	}
	return n
}

// arrival is when the next frame arrives, in media time.
func (t *benchTrack) arrival() time.Duration { return time.Duration(t.n)*t.period + t.delay }

// send writes the next frame's packets.
func (t *benchTrack) send() {
	ts := t.ts0 + uint32(t.n)*t.step
	for _, p := range t.frames[t.n%len(t.frames)] {
		t.buf = append(t.buf[:0], p...)
		binary.BigEndian.PutUint16(t.buf[2:], t.seq)
		binary.BigEndian.PutUint32(t.buf[4:], ts)
		t.seq++
		t.sink.WriteRTP(t.buf)
	}
	t.n++
}

// cpuTime is the CPU time (user and system) of the process so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecordParticipant measures what recording one participant
// costs. One op is one second of that participant's media: 30 VP8 frames
// of a 640x360 clip at about 500 kbit/s (a keyframe each second) and 50
// Opus packets of 20 ms, as RTP packets with realistic arrival times, and
// a sender report per track, through the recorder's own path (TrackSink,
// samplebuilder, clock, interleaver, WebM muxer) into files in a temporary
// spool. Segments roll every 30 s of media and are sealed (synced, hashed,
// renamed, sidecar written) on the recorder's finisher goroutine.
//
// ns/op, and cpu-ms/media-s (the same figure in ms), are the time of the
// goroutine that feeds the recorder; rusage-cpu-ms/media-s is the CPU time
// (user and system) of the whole process from the first op until every
// segment that rolled during the run is sealed: it adds the finisher
// (sync, hash, sidecar), the flusher and the garbage collector.
// close-cpu-ms is not per op: it is the process CPU time of the
// participant leaving once at the end (its tracks' Close, which flushes
// their samplebuilders, and the recorder's Close, which seals the last
// segment).
func BenchmarkRecordParticipant(b *testing.B) {
	c := makeBenchClip(b)
	clk := &fakeClock{now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	base := clk.Now()
	var segs collected
	r := New(Config{
		SessionID: "bench", SpoolDir: b.TempDir(), SegmentDuration: benchSegment,
		Now: clk.Now, Logger: testLogger(b), OnSegment: segs.add,
	})
	defer r.Close()
	vs, as := newVP8Stream(), newOpusStream()
	video := newBenchTrack(b, vs, c.video, time.Second/clipFPS, benchVideoDelay)
	audio := newBenchTrack(b, as, c.audio, audioFrameDur, benchAudioDelay)
	video.sink = r.TrackAdded(sfu.TrackInfo{Participant: "alice", TrackID: "v", StreamID: "s", Kind: "video",
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}})
	audio.sink = r.TrackAdded(sfu.TrackInfo{Participant: "alice", TrackID: "a", StreamID: "s", Kind: "audio",
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}}})
	if video.sink == nil || audio.sink == nil {
		b.Fatal("the recorder refused a track")
	}

	b.ReportAllocs()
	b.SetBytes((video.bytes() + audio.bytes()) / benchSeconds)
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := range b.N {
		// Op i is the media second [i s, i+1 s) of arrivals: its sender
		// reports, then every frame arriving in it, in arrival order.
		sec := time.Duration(i) * time.Second
		clk.set(base.Add(sec))
		ntp := toNTP(base.Add(benchSkew + sec))
		video.sink.SenderReport(ntp, vs.ts0+uint32(i)*90000)
		audio.sink.SenderReport(ntp, as.ts0+uint32(i)*48000)
		end := sec + time.Second
		for {
			t := video
			if audio.arrival() < video.arrival() {
				t = audio
			}
			at := t.arrival()
			if at >= end {
				break
			}
			clk.set(base.Add(at))
			t.send()
		}
	}
	b.StopTimer()
	fed := b.Elapsed()
	// The segments that rolled during the run are sealed off the feeding
	// goroutine: wait for them, so their sealing counts.
	p := r.participant("alice", "")
	p.mu.Lock()
	rolled := p.ix.next - 1
	p.mu.Unlock()
	for len(segs.all()) < rolled {
		time.Sleep(time.Millisecond)
	}
	cpu := cpuTime(b) - cpu0
	// The participant leaves: its tracks end, the last segment is sealed.
	cpu0 = cpuTime(b)
	video.sink.Close()
	audio.sink.Close()
	r.Close()
	closing := cpuTime(b) - cpu0

	b.ReportMetric(float64(fed.Nanoseconds())/float64(b.N)/1e6, "cpu-ms/media-s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1e6, "rusage-cpu-ms/media-s")
	b.ReportMetric(float64(closing.Nanoseconds())/1e6, "close-cpu-ms")
	checkBenchSegments(b, segs.all())
}

// checkBenchSegments checks that the run recorded what it fed: segments
// of about 30 s, back to back, sealed without gaps.
func checkBenchSegments(b *testing.B, segs []Segment) {
	b.Helper()
	want := b.N/int(benchSegment/time.Second) + 1
	if len(segs) < want-1 || len(segs) > want {
		b.Errorf("%d segments for %d s of media, want about %d", len(segs), b.N, want)
	}
	var total time.Duration
	for i, s := range segs {
		total += s.WallEnd.Sub(s.WallStart)
		if len(s.Gaps) > 0 || s.Bytes == 0 || len(s.SHA256) == 0 || s.Width != benchWidth {
			b.Errorf("segment %d: %d bytes, %dx%d, gaps %+v", i, s.Bytes, s.Width, s.Height, s.Gaps)
		}
		if _, err := os.Stat(s.Path); err != nil {
			b.Errorf("segment %d: %v", i, err)
		}
	}
	if d := total - time.Duration(b.N)*time.Second; d < -time.Second || d > time.Second {
		b.Errorf("segments last %v in all for %d s of media", total, b.N)
	}
}
