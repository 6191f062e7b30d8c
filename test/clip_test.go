package test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// clip is real VP8 video (320x240, 30 fps, a keyframe every second) and
// Opus audio (20 ms packets), encoded by ffmpeg once per test binary, so
// that recordings can be checked with an independent decoder.
type clip struct {
	video [][]byte
	key   []bool
	audio [][]byte
}

var (
	clipOnce sync.Once
	theClip  *clip
	clipErr  error
)

// realClip returns the clip; without ffmpeg the test is skipped loudly,
// except under CI, where it fails.
func realClip(t *testing.T) *clip {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but ffmpeg is missing: .ci/run installs Debian's ffmpeg")
		}
		t.Skip("SKIPPING: ffmpeg not found (apt-get install ffmpeg)")
	}
	clipOnce.Do(func() { theClip, clipErr = makeClip() })
	if clipErr != nil {
		t.Fatalf("making the test clip: %v", clipErr)
	}
	return theClip
}

func makeClip() (*clip, error) {
	dir, err := os.MkdirTemp("", "kuayang-clip-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ivf, ogg := filepath.Join(dir, "v.ivf"), filepath.Join(dir, "a.ogg")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "10", "-c:v", "libvpx", "-b:v", "400k",
			"-g", "30", "-keyint_min", "30", "-deadline", "realtime", "-cpu-used", "8", ivf},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10", "-c:a", "libopus", "-b:a", "32k",
			"-frame_duration", "20", "-page_duration", "20000", ogg},
	} {
		cmd := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, errors.New(string(out))
		}
	}
	c := &clip{}
	if err := c.readVideo(ivf); err != nil {
		return nil, err
	}
	return c, c.readAudio(ogg)
}

func (c *clip) readVideo(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		return err
	}
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		c.video = append(c.video, frame)
		c.key = append(c.key, len(frame) > 0 && frame[0]&0x01 == 0)
	}
}

func (c *clip) readAudio(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return err
	}
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(page, []byte("OpusTags")) {
			c.audio = append(c.audio, page)
		}
	}
}

// nextKey returns the index of the first keyframe at or after i.
func (c *clip) nextKey(i int) int {
	for j := 0; j < len(c.video); j++ {
		k := (i + j) % len(c.video)
		if c.key[k] {
			return k
		}
	}
	return i % len(c.video)
}
