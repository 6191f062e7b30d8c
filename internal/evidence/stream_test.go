package evidence

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// withScreen adds two screen-share segments of p2 to the fixture's
// manifest and objects, numbered on after its camera segments (one
// sequence per participant), a loss gap inside the first, and seals it
// again.
func withScreen(t *testing.T, f *fixture) {
	t.Helper()
	m, err := DecodeManifest(f.manifest)
	if err != nil {
		t.Fatal(err)
	}
	for i, start := range []time.Duration{6 * time.Minute, 6*time.Minute + 30*time.Second} {
		data := bytes.Repeat([]byte{byte(i + 1)}, 777+i)
		key := "sessions/s1/p2/screen/00000" + string(rune('4'+i)) + ".webm"
		f.objects[key] = data
		m.Segments = append(m.Segments, Segment{ParticipantID: "p2", Stream: StreamScreen, Index: 4 + i, Key: key,
			Bytes: int64(len(data)), SHA256: sha256Hex(data), WallStart: At(t0.Add(start)), WallEnd: At(t0.Add(start + 30*time.Second)),
			MediaStart: float64(i) * 30, MediaEnd: float64(i)*30 + 30, Codecs: []string{"VP8"}, Width: 1920, Height: 1080,
			ContentType: "video/webm"})
	}
	m.Gaps = append(m.Gaps, Gap{ParticipantID: "p2", Stream: StreamScreen, From: At(t0.Add(6*time.Minute + time.Second)),
		To: At(t0.Add(6*time.Minute + 2*time.Second)), Reason: GapLoss})
	f.m = m
	if f.manifest, f.sig, err = Seal(m, f.key); err != nil {
		t.Fatal(err)
	}
}

func TestScreenStreamVerifies(t *testing.T) {
	f := newFixture(t)
	camera := string(f.manifest)
	if strings.Contains(camera, `"stream"`) {
		t.Fatal("a manifest without screen segments names a stream")
	}
	withScreen(t, f)
	if n := strings.Count(string(f.manifest), `"stream": "screen"`); n != 3 {
		t.Fatalf("%d entries with the screen stream, want 2 segments and 1 gap:\n%s", n, f.manifest)
	}
	// Through a written bundle, as kuayang verify reads it.
	r, err := verifyPath(t, writeZip(t, t.TempDir(), unzipBytes(t, f.bundle(t))), VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var p2 ParticipantReport
	for _, p := range r.Participants {
		if p.ID == "p2" {
			p2 = p
		}
	}
	if p2.Segments != 6 || p2.ScreenSegments != 2 || p2.Screen != 60*time.Second || p2.Duration != 4*29980*time.Millisecond {
		t.Fatalf("report of p2: %+v", p2)
	}
	// The stream is chained: a screen segment passed off as camera breaks
	// the chain.
	m, _ := DecodeManifest(f.manifest)
	for i := range m.Segments {
		if m.Segments[i].Stream == StreamScreen {
			m.Segments[i].Stream = ""
			break
		}
	}
	b, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Under a fresh signature, so that only the chain can tell.
	files := unzipBytes(t, f.bundle(t))
	files["manifest.json"], files["manifest.sig"] = b, EncodeSignature(f.key.Sign(b))
	_, err = verifyPath(t, writeZip(t, t.TempDir(), files), VerifyOptions{})
	var p *Problem
	if !errors.As(err, &p) || p.Kind != ChainBroken {
		t.Fatalf("screen segment relabelled as camera: %v", err)
	}
}

func TestEncodeRejectsUnknownStream(t *testing.T) {
	f := newFixture(t)
	withScreen(t, f)
	for name, edit := range map[string]func(m *Manifest){
		"segment stream": func(m *Manifest) { m.Segments[0].Stream = "camera" },
		"gap stream":     func(m *Manifest) { m.Gaps[0].Stream = "Screen" },
		// Streams share the participant's numbering.
		"index taken by camera": func(m *Manifest) {
			for i := range m.Segments {
				if m.Segments[i].Stream == StreamScreen {
					m.Segments[i].Index = 0
				}
			}
		},
	} {
		m, err := DecodeManifest(f.manifest)
		if err != nil {
			t.Fatal(err)
		}
		edit(m)
		if _, err := m.Encode(); err == nil || !strings.Contains(err.Error(), "invalid manifest") {
			t.Errorf("%s: encoded (%v)", name, err)
		}
	}
}
