package recorder

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kuayang/kuayang/sfu"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
)

// h264Frames encodes a second of 320x240 H.264 (Annex B access units).
func h264Frames(t *testing.T) [][]byte {
	t.Helper()
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "v.h264")
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "2",
		"-c:v", "libx264", "-profile:v", "baseline", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	var cur []byte
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			return append(frames, cur)
		}
		if err != nil {
			t.Fatal(err)
		}
		cur = append(cur, 0, 0, 0, 1)
		cur = append(cur, nal.Data...)
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr {
			frames = append(frames, cur)
			cur = nil
		}
	}
}

func TestH264IsRecordedAsMatroska(t *testing.T) {
	frames := h264Frames(t)
	r, clk, got, _ := newTestRecorder(t, time.Minute)
	base := clk.Now()
	sink := r.TrackAdded(sfu.TrackInfo{Participant: "hank", TrackID: "v", Kind: "video",
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000}}})
	pk := rtp.NewPacketizerWithOptions(1200, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000, rtp.WithTimestamp(1000))
	for i, fr := range frames {
		clk.set(base.Add(time.Duration(i) * time.Second / 30))
		for _, p := range pk.Packetize(fr, 3000) {
			b, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			sink.WriteRTP(b)
		}
	}
	sink.Close()
	r.Close()
	segs := got.all()
	if len(segs) != 1 || segs[0].ContentType != "video/x-matroska" || filepath.Ext(segs[0].Path) != ".mkv" {
		t.Fatalf("segments %+v", segs)
	}
	s := segs[0]
	if s.Width != 320 || s.Height != 240 {
		t.Errorf("size %dx%d", s.Width, s.Height)
	}
	p := ffprobe(t, s.Path)
	if _, vi := p.stream("video"); vi < 0 || p.Streams[vi].CodecName != "h264" || p.Streams[vi].Width != 320 {
		t.Errorf("streams %+v", p.Streams)
	}
	if !firstVideoKeyframe(t, s.Path) {
		t.Error("does not start with a keyframe")
	}
	decode(t, s.Path, 0)
}

func TestSPSSize(t *testing.T) {
	for _, fr := range h264Frames(t)[:1] {
		r, err := h264reader.NewReader(bytes.NewReader(fr))
		if err != nil {
			t.Fatal(err)
		}
		for {
			nal, err := r.NextNAL()
			if err != nil {
				t.Fatal("no SPS")
			}
			if nal.UnitType == h264reader.NalUnitTypeSPS {
				w, h, err := spsSize(nal.Data)
				if err != nil || w != 320 || h != 240 {
					t.Fatalf("spsSize = %d, %d, %v", w, h, err)
				}
				return
			}
		}
	}
}
