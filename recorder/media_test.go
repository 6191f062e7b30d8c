package recorder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// needFFmpeg skips the test when ffmpeg or ffprobe is missing, unless CI
// is set: then it fails.
func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("SKIPPING: %s not installed; recordings cannot be checked with an independent decoder", tool)
		}
	}
}

// clip is real encoded media: VP8 frames at 30 fps with a keyframe every
// second, and 20 ms Opus packets.
type clip struct {
	video  [][]byte
	audio  [][]byte
	width  int
	height int
}

const (
	clipFPS       = 30
	audioFrameDur = 20 * time.Millisecond
)

var (
	clipMu    sync.Mutex // guards clipCache
	clipCache = map[string]*clip{}
)

// makeClip encodes seconds of a test pattern and a tone with ffmpeg, once
// per size for the test binary.
func makeClip(t testing.TB, width, height, seconds int) *clip {
	t.Helper()
	needFFmpeg(t)
	key := fmt.Sprintf("%dx%d-%d", width, height, seconds)
	clipMu.Lock()
	defer clipMu.Unlock()
	if c := clipCache[key]; c != nil {
		return c
	}
	dir, err := os.MkdirTemp("", "kuayang-clip-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ivf, ogg := filepath.Join(dir, "v.ivf"), filepath.Join(dir, "a.ogg")
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc=size=%dx%d:rate=%d", width, height, clipFPS), "-t", strconv.Itoa(seconds),
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", strconv.Itoa(clipFPS),
		"-b:v", "300k", "-auto-alt-ref", "0", ivf)
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(seconds), "-c:a", "libopus", "-frame_duration", "20",
		"-page_duration", "20000", ogg)
	c := &clip{width: width, height: height, video: readIVF(t, ivf), audio: readOgg(t, ogg)}
	c.audio = c.audio[:min(len(c.audio), seconds*int(time.Second/audioFrameDur))]
	clipCache[key] = c
	return c
}

// run runs a command and fails the test on error.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// readIVF returns the frames of an IVF file.
func readIVF(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame)
	}
}

// readOgg returns the Opus packets of an Ogg file written one packet per
// page.
func readOgg(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var packets [][]byte
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return packets
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		packets = append(packets, page)
	}
}

// rtpStream packetizes frames of one track with realistic timestamps.
type rtpStream struct {
	p    rtp.Packetizer
	seq  rtp.Sequencer // the packetizer's
	rate uint32
	ts0  uint32 // RTP time of the first frame
}

// newVP8Stream starts just before the RTP timestamp wraps.
func newVP8Stream() *rtpStream {
	const ts0 = 0xffff0000
	seq := rtp.NewRandomSequencer()
	return &rtpStream{rate: 90000, ts0: ts0, seq: seq, p: rtp.NewPacketizerWithOptions(1200,
		&codecs.VP8Payloader{EnablePictureID: true}, seq, 90000,
		rtp.WithSSRC(1111), rtp.WithPayloadType(96), rtp.WithTimestamp(ts0))}
}

// padding returns n padding-only packets following the packet last, as a
// browser sends them in the media stream: the next sequence numbers, the
// timestamp of last's frame, 255 bytes of padding and no payload.
func (s *rtpStream) padding(t testing.TB, last []byte, n int) [][]byte {
	t.Helper()
	var h rtp.Header
	if _, err := h.Unmarshal(last); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for range n {
		p := rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PaddingSize: 255, PayloadType: h.PayloadType,
			SequenceNumber: s.seq.NextSequenceNumber(), Timestamp: h.Timestamp, SSRC: h.SSRC}}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func newOpusStream() *rtpStream {
	const ts0 = 12345
	return &rtpStream{rate: 48000, ts0: ts0, p: rtp.NewPacketizerWithOptions(1200,
		&codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000,
		rtp.WithSSRC(2222), rtp.WithPayloadType(111), rtp.WithTimestamp(ts0))}
}

// packets returns the RTP packets of one frame lasting d.
func (s *rtpStream) packets(t testing.TB, frame []byte, d time.Duration) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range s.p.Packetize(frame, uint32(d*time.Duration(s.rate)/time.Second)) {
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// probe is what ffprobe says of a file.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		StartTime string `json:"start_time"`
	} `json:"streams"`
	Format struct {
		Duration   string `json:"duration"`
		FormatName string `json:"format_name"`
	} `json:"format"`
}

// ffprobe runs ffprobe on path.
func ffprobe(t testing.TB, path string) probe {
	t.Helper()
	out := run(t, "ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path)
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	return p
}

// duration is the file's duration in seconds.
func (p probe) duration() float64 {
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return d
}

// stream returns the start time and index of the stream of type kind, or
// -1.
func (p probe) stream(kind string) (start float64, i int) {
	for i, s := range p.Streams {
		if s.CodecType == kind {
			start, _ = strconv.ParseFloat(s.StartTime, 64)
			return start, i
		}
	}
	return 0, -1
}

// decode decodes path fully with ffmpeg, from seek seconds on, and fails
// on any error message.
func decode(t testing.TB, path string, seek float64) {
	t.Helper()
	args := []string{"-v", "error"}
	if seek > 0 {
		args = append(args, "-ss", strconv.FormatFloat(seek, 'f', 2, 64))
	}
	// A millisecond output time base: ffmpeg otherwise quantizes video to
	// its estimated frame rate, and two frames of a jittery stream can
	// land in one slot, a complaint of its null muxer, not of the file.
	args = append(args, "-i", path, "-enc_time_base:v", "1:1000", "-f", "null", "-")
	out, err := exec.Command("ffmpeg", args...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("decoding %s from %.2fs: %v\n%s", filepath.Base(path), seek, err, out)
	}
}

// firstVideoKeyframe reports whether the first video packet of path is a
// keyframe.
func firstVideoKeyframe(t testing.TB, path string) bool {
	t.Helper()
	out := run(t, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
		"-read_intervals", "%+#1", "-of", "csv=p=0", path)
	return strings.HasPrefix(strings.TrimSpace(string(out)), "K")
}

// videoFrames counts the video frames of a file.
func videoFrames(t testing.TB, path string) int {
	t.Helper()
	out := strings.TrimSpace(string(run(t, "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
		"-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path)))
	n, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("ffprobe packet count of %s: %q", path, out)
	}
	return n
}
