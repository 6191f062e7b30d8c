package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/evidence"
)

// writeTestBundle seals a small synthetic recording and writes its bundle
// to dir/bundle.zip. It returns the path, the key and the media by key.
// extra segments (with their media) are added to the recording's.
func writeTestBundle(t *testing.T, dir string, extra ...evidence.Segment) (string, *evidence.Key, map[string][]byte) {
	t.Helper()
	key, err := evidence.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	m := &evidence.Manifest{Software: "kuayang test", Node: "node-7", SealedAt: evidence.At(t0.Add(time.Hour)),
		Org:  evidence.Org{ID: "o1", Name: "Wencheng Notary Office"},
		Case: evidence.Case{ID: "c1", Number: "2026-WC-0012", Title: "Power of attorney", Kind: "notarization"},
		Session: evidence.Session{ID: "s1", Title: "Signing", TimeZone: "Asia/Shanghai",
			StartedAt: evidence.At(t0), EndedAt: evidence.At(t0.Add(2 * time.Minute)), Record: true},
		Participants: []evidence.Participant{
			{ID: "p1", Role: "notary", Name: "Wang Fang", Language: "zh-CN"},
			{ID: "p2", Role: "party", Name: "Marco Rossi", Language: "it"},
		},
		Gaps: []evidence.Gap{{ParticipantID: "p2", From: evidence.At(t0.Add(time.Minute)), To: evidence.At(t0.Add(70 * time.Second)), Reason: evidence.GapDisconnect}},
	}
	media := map[string][]byte{}
	for i := range 4 {
		pid := []string{"p1", "p2"}[i%2]
		data := bytes.Repeat([]byte(fmt.Sprintf("segment %d ", i)), 1000+i)
		k := fmt.Sprintf("sessions/s1/%s/%06d.webm", pid, i/2)
		media[k] = data
		sum := sha256.Sum256(data)
		start := t0.Add(time.Duration(i/2) * 30 * time.Second)
		m.Segments = append(m.Segments, evidence.Segment{ParticipantID: pid, Index: i / 2, Key: k, Bytes: int64(len(data)),
			SHA256: hex.EncodeToString(sum[:]), WallStart: evidence.At(start), WallEnd: evidence.At(start.Add(30 * time.Second)),
			MediaStart: float64(i/2) * 30, MediaEnd: float64(i/2)*30 + 30, Codecs: []string{"VP8", "opus"}, ContentType: "video/webm"})
	}
	for _, s := range extra {
		data := bytes.Repeat([]byte(s.Key), 100)
		media[s.Key] = data
		sum := sha256.Sum256(data)
		s.Bytes, s.SHA256 = int64(len(data)), hex.EncodeToString(sum[:])
		m.Segments = append(m.Segments, s)
	}
	e := &audit.Entry{Time: t0, ActorKind: audit.ActorSystem, ActorID: "node-7", Action: "recording.start", SessionID: "s1"}
	audit.Seal(nil, e)
	if m.Audit, err = evidence.NewAuditRef([]*audit.Entry{e}, e); err != nil {
		t.Fatal(err)
	}
	manifest, sig, err := evidence.Seal(m, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bundle.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = evidence.WriteBundle(context.Background(), f, evidence.BundleSource{Manifest: manifest, Signature: sig,
		PublicKeyPEM: key.PublicPEM(), Audit: []*audit.Entry{e},
		Open: func(_ context.Context, k string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(media[k])), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return path, key, media
}

// screenSegment is a screen-share segment of p2 from start, 20 s long,
// numbered after their camera segments.
func screenSegment(start time.Time) evidence.Segment {
	return evidence.Segment{ParticipantID: "p2", Stream: evidence.StreamScreen, Index: 2, Key: "sessions/s1/p2/screen/000002.webm",
		WallStart: evidence.At(start), WallEnd: evidence.At(start.Add(20 * time.Second)), MediaStart: 0, MediaEnd: 20,
		Codecs: []string{"VP8"}, Width: 1920, Height: 1080, ContentType: "video/webm"}
}

// sealedSegment is a camera segment of p2 recorded in the private room
// private-1, from start, 20 s long: sealed to the mediator, left out of
// the bundle writeTestBundle writes.
func sealedSegment(start time.Time) evidence.Segment {
	return evidence.Segment{ParticipantID: "p2", Room: "private-1", Index: 3, Key: "sessions/s1/p2/000003.webm",
		WallStart: evidence.At(start), WallEnd: evidence.At(start.Add(20 * time.Second)), MediaStart: 60, MediaEnd: 80,
		Codecs: []string{"VP8", "opus"}, ContentType: "video/webm"}
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	path, key, media := writeTestBundle(t, dir)
	screenBundle, _, _ := writeTestBundle(t, t.TempDir(), screenSegment(time.Date(2026, 11, 27, 8, 0, 40, 0, time.UTC)))
	sealedBundle, _, _ := writeTestBundle(t, t.TempDir(), sealedSegment(time.Date(2026, 11, 27, 8, 1, 0, 0, time.UTC)))
	keyFile := filepath.Join(dir, "court.pem")
	os.WriteFile(keyFile, key.PublicPEM(), 0o644)
	other, _ := evidence.GenerateKey()
	otherFile := filepath.Join(dir, "other.pem")
	os.WriteFile(otherFile, other.PublicPEM(), 0o644)

	// A copy with one byte of one media file changed.
	tampered := filepath.Join(dir, "tampered.zip")
	raw, _ := os.ReadFile(path)
	seg := media["sessions/s1/p2/000001.webm"]
	at := bytes.Index(raw, seg)
	bad := bytes.Clone(raw)
	bad[at+100] ^= 1
	os.WriteFile(tampered, bad, 0o644)

	// The bundle unzipped.
	unzipped := filepath.Join(dir, "unzipped")
	unzipTo(t, path, unzipped)

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		notOut []string
		stderr string
	}{
		{"intact", []string{path}, 0, []string{"INTACT: " + path + " was signed by key " + key.ID + " of node node-7 at 2026-11-27 09:00:00 UTC; 4 segments, 39.1 KiB; 2 participants; 1 gap",
			`2026-WC-0012 "Power of attorney"`, "Marco Rossi", "0:01:00 recorded, 1 gap\n", evidence.Fingerprint(key.Public), "GET /api/v1/keys"}, []string{"NOT", "withheld"}, ""},
		{"intact with a screen share", []string{screenBundle}, 0, []string{"5 segments", "Marco Rossi", "3 segments, 22.8 KiB, 0:01:00 recorded, 0:00:20 of screen share in 1 segment, 1 gap\n"}, []string{"NOT"}, ""},
		{"intact with a sealed segment withheld", []string{sealedBundle}, 0, []string{"INTACT: " + sealedBundle, "5 segments",
			"withheld  1 segment sealed to the mediator", "media/sessions/s1/p2/000003.webm  participant p2, room private-1, sha256 "}, []string{"NOT"}, ""},
		{"sealed quiet", []string{"--quiet", sealedBundle}, 0, []string{"INTACT: signed by key", "; 1 segment sealed to the mediator withheld\n"}, nil, ""},
		{"intact unzipped", []string{unzipped}, 0, []string{"INTACT: " + unzipped}, nil, ""},
		{"intact with its key", []string{"--key", keyFile, path}, 0, []string{"INTACT", "by the key you gave (--key): " + key.ID}, []string{"GET /api/v1/keys"}, ""},
		{"flags after the bundle", []string{path, "--key", keyFile, "--quiet"}, 0, []string{"INTACT: signed by key " + key.ID + " of node node-7 at 2026-11-27T09:00:00Z\n"}, []string{"participants"}, ""},
		{"another key", []string{"--key", otherFile, path}, 1, []string{"NOT INTACT: the bundle is signed with key " + key.ID}, []string{"was signed"}, ""},
		{"tampered", []string{tampered}, 1, []string{"NOT INTACT: media/sessions/s1/p2/000001.webm (segment entry 3, participant p2, index 1) has been altered"}, nil, ""},
		{"tampered quiet", []string{"--quiet", tampered}, 1, []string{"NOT INTACT: media/sessions/s1/p2/000001.webm"}, nil, ""},
		{"not a zip", []string{keyFile}, 1, []string{"NOT INTACT: " + keyFile + " is not a readable zip file"}, nil, ""},
		{"no such file", []string{filepath.Join(dir, "nope.zip")}, 1, nil, []string{"INTACT"}, "cannot check"},
		{"no bundle", nil, 2, nil, []string{"INTACT"}, "usage: kuayang verify"},
		{"two bundles", []string{path, tampered}, 2, nil, []string{"INTACT"}, "usage: kuayang verify"},
		{"unknown flag", []string{"--frob", path}, 2, nil, []string{"INTACT"}, "frob"},
		{"bad key file", []string{"--key", path, path}, 2, nil, []string{"INTACT"}, "--key"},
		{"help", []string{"-h"}, 0, nil, nil, "usage: kuayang verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := kuayang(t, "", append([]string{"verify"}, tt.args...)...)
			t.Logf("exit %d\nstdout:\n%sstderr:\n%s", code, out, errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.notOut {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
			if !strings.Contains(errOut, tt.stderr) || (tt.stderr == "" && errOut != "") {
				t.Errorf("stderr %q, want %q", errOut, tt.stderr)
			}
		})
	}
}

func unzipTo(t *testing.T, path, dir string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out := filepath.Join(dir, filepath.FromSlash(f.Name))
		os.MkdirAll(filepath.Dir(out), 0o755)
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	start := time.Now().Add(-time.Minute)
	tty := &progressBar{w: &b, tty: true, start: start}
	tty.update(50, 100)
	tty.update(60, 100) // too soon: not drawn
	tty.finish()
	if s := b.String(); !strings.HasPrefix(s, "\r[###############               ]  50%") || strings.Contains(s, "60%") || !strings.HasSuffix(s, "\r") {
		t.Fatalf("%q", s)
	}
	b.Reset()
	lines := &progressBar{w: &b, start: start}
	lines.update(25, 100)
	lines.update(50, 100)
	lines.finish()
	if b.String() != "kuayang verify: 25% of 100 bytes checked\n" {
		t.Fatalf("%q", b.String())
	}
	b.Reset()
	quick := &progressBar{w: &b, tty: true, start: time.Now()}
	quick.update(50, 100)
	(&progressBar{w: &b, tty: true, start: start, off: true}).update(50, 100)
	if b.Len() != 0 {
		t.Fatalf("%q", b.String())
	}
	if isTerminal(&b) {
		t.Fatal("a buffer is a terminal")
	}
}
