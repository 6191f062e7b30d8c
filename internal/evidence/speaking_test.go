package evidence

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSealedBeforeSpeaking: a bundle sealed by the node before segments
// had speaking intervals (testdata, written by that code) still verifies,
// and its manifest decodes and encodes to the very bytes it was signed
// as.
func TestSealedBeforeSpeaking(t *testing.T) {
	const path = "testdata/sealed-before-speaking.zip"
	src, err := OpenZip(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rep, err := Verify(context.Background(), src, VerifyOptions{})
	if err != nil {
		t.Fatalf("the old bundle does not verify: %v", err)
	}
	if rep.Segments != 4 {
		t.Errorf("report: %+v", rep)
	}
	files := unzipBytes(t, mustRead(t, path))
	old := files[ManifestFile]
	if bytes.Contains(old, []byte("speaking")) {
		t.Fatal("the old manifest has speaking intervals")
	}
	m, err := DecodeManifest(old)
	if err != nil {
		t.Fatal(err)
	}
	head := m.ChainHead
	again, err := m.Encode()
	if err != nil || !bytes.Equal(again, old) || m.ChainHead != head {
		t.Fatalf("the old manifest encodes differently (%v):\n%s", err, again)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withSpeaking is the fixture with speaking intervals in p1's and p2's
// first segments (given out of order and in another time zone), sealed
// again with the fixture's key.
func withSpeaking(t *testing.T, f *fixture) *fixture {
	t.Helper()
	m, err := DecodeManifest(f.manifest)
	if err != nil {
		t.Fatal(err)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	for i := range m.Segments {
		s := &m.Segments[i]
		if s.Index != 0 || s.ParticipantID == "p3" {
			continue
		}
		at := func(d time.Duration) Time { return Time{s.WallStart.Add(d).In(shanghai).Add(321)} }
		s.Speaking = []Interval{{From: at(10 * time.Second), To: at(12 * time.Second)}, {From: at(0), To: at(1500 * time.Millisecond)}}
	}
	g := *f
	g.m = m
	if g.manifest, g.sig, err = Seal(m, f.key); err != nil {
		t.Fatal(err)
	}
	return &g
}

func TestSpeakingRoundTrip(t *testing.T) {
	f := withSpeaking(t, newFixture(t))
	// Canonical: sorted, UTC microseconds; stable through decode and
	// encode; only the segments that have some list them.
	if n := bytes.Count(f.manifest, []byte(`"speaking": [`)); n != 2 {
		t.Fatalf("%d segments with speaking, want 2:\n%s", n, f.manifest)
	}
	m, err := DecodeManifest(f.manifest)
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.Encode()
	if err != nil || !bytes.Equal(again, f.manifest) {
		t.Fatalf("encode, decode, encode differs (%v)", err)
	}
	for _, s := range m.Segments {
		if s.Index != 0 || s.ParticipantID == "p3" {
			if s.Speaking != nil {
				t.Errorf("%s: speaking %v", s.Key, s.Speaking)
			}
			continue
		}
		if len(s.Speaking) != 2 || !s.Speaking[0].From.Equal(s.WallStart.Time) ||
			s.Speaking[1].To.Sub(s.WallStart.Time) != 12*time.Second || s.Speaking[0].From.Location() != time.UTC {
			t.Errorf("%s: speaking %+v", s.Key, s.Speaking)
		}
	}
	if !bytes.Contains(f.manifest, []byte(`"from": "2026-11-27T08:01:00.000000Z"`)) {
		t.Errorf("speaking times not in canonical form:\n%s", f.manifest)
	}
	// The bundle verifies; altering an interval breaks the signature, and
	// re-signed, the chain.
	files := unzipBytes(t, f.bundle(t))
	dir := t.TempDir()
	if _, err := verifyPath(t, writeZip(t, dir, files), VerifyOptions{}); err != nil {
		t.Fatalf("bundle with speaking: %v", err)
	}
	altered := bytes.Replace(f.manifest, []byte(`"to": "2026-11-27T08:01:12.000000Z"`), []byte(`"to": "2026-11-27T08:01:13.000000Z"`), 1)
	if bytes.Equal(altered, f.manifest) {
		t.Fatal("nothing to alter")
	}
	files[ManifestFile] = altered
	_, err = verifyPath(t, writeDir(t, t.TempDir(), files), VerifyOptions{})
	checkResult(t, nil, err, BadSignature, "")
	resign(files, altered, f.key)
	_, err = verifyPath(t, writeDir(t, t.TempDir(), files), VerifyOptions{})
	checkResult(t, nil, err, ChainBroken, "")
}

func TestSpeakingRejectsInvalid(t *testing.T) {
	first := func(m *Manifest) *Segment {
		for i := range m.Segments {
			if len(m.Segments[i].Speaking) > 0 {
				return &m.Segments[i]
			}
		}
		t.Fatal("no segment with speaking")
		return nil
	}
	for name, edit := range map[string]func(s *Segment){
		"before the segment": func(s *Segment) { s.Speaking[0].From = At(s.WallStart.Add(-time.Millisecond)) },
		"after the segment":  func(s *Segment) { s.Speaking[1].To = At(s.WallEnd.Add(time.Millisecond)) },
		"backwards":          func(s *Segment) { s.Speaking[0].To = s.Speaking[0].From },
		"no end":             func(s *Segment) { s.Speaking[1].To = Time{} },
		"overlapping":        func(s *Segment) { s.Speaking[1].From = At(s.Speaking[0].To.Add(-time.Millisecond)) },
	} {
		f := withSpeaking(t, newFixture(t))
		m, _ := DecodeManifest(f.manifest)
		edit(first(m))
		if _, err := m.Encode(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	// A signed manifest whose intervals are out of order does not verify.
	f := withSpeaking(t, newFixture(t))
	m, _ := DecodeManifest(f.manifest)
	s := first(m)
	s.Speaking[0], s.Speaking[1] = s.Speaking[1], s.Speaking[0]
	b, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	files := unzipBytes(t, f.bundle(t))
	resign(files, b, f.key)
	_, err = verifyPath(t, writeDir(t, t.TempDir(), files), VerifyOptions{})
	var p *Problem
	if !errors.As(err, &p) || p.Kind != BadManifest || !strings.Contains(p.Detail, "speaking") {
		t.Fatalf("unordered speaking: %v", err)
	}
}
