package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
)

// fixture is a sealed recording of a synthetic session: three
// participants, four segments each of random bytes, an audit log of which
// the session's entries are the extract.
type fixture struct {
	key           *Key
	m             *Manifest
	manifest, sig []byte
	objects       map[string][]byte // by object key
	log           []*audit.Entry    // the whole audit log
	extract       []*audit.Entry
}

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	f := &fixture{key: key, objects: map[string][]byte{}}
	at := func(d time.Duration) Time { return At(t0.Add(d)) }
	m := &Manifest{
		Software: "kuayang test",
		Node:     "node-1",
		SealedAt: at(10 * time.Minute),
		Org:      Org{ID: "o1", Name: "Wencheng Notary Office"},
		Case:     Case{ID: "c1", Number: "(2026)浙温证字第12号", Title: "Power of attorney <Milan>", Kind: "notarization"},
		Session: Session{ID: "s1", Title: "Signing", TimeZone: "Asia/Shanghai",
			ScheduledStart: at(0), StartedAt: at(time.Minute), EndedAt: at(9 * time.Minute), Record: true},
		Participants: []Participant{
			{ID: "p3", Role: "interpreter", Name: "Chen Li", Language: "it", ConsentAt: at(time.Minute),
				Presence: []Presence{{JoinedAt: at(time.Minute), LeftAt: at(9 * time.Minute), IP: "203.0.113.9"}}},
			{ID: "p1", Role: "notary", Name: "Wang Fang", Language: "zh-CN", ConsentAt: at(time.Minute),
				Presence: []Presence{{JoinedAt: at(time.Minute), LeftAt: at(9 * time.Minute), IP: "198.51.100.1"}}},
			{ID: "p2", Role: "party", Name: "Zhang Wei", Language: "zh-CN", ConsentAt: at(2 * time.Minute),
				Identity: &Identity{Method: "id_card_video", Result: "match", VerifiedBy: "p1", VerifiedAt: at(3 * time.Minute)},
				Presence: []Presence{
					{JoinedAt: at(2 * time.Minute), LeftAt: at(4 * time.Minute), IP: "192.0.2.7"},
					{JoinedAt: at(5 * time.Minute), LeftAt: at(9 * time.Minute), IP: "192.0.2.8"},
				}},
		},
		Gaps:   []Gap{{ParticipantID: "p2", From: at(4 * time.Minute), To: at(5 * time.Minute), Reason: GapDisconnect}},
		Events: []Event{{Time: at(9 * time.Minute), Kind: EventSessionEnd}, {Time: at(time.Minute), Kind: EventRecordingStart, Detail: "by p1"}},
	}
	for pi, pid := range []string{"p1", "p2", "p3"} {
		for i := range 4 {
			size := 1000 + rng.IntN(20000)
			if i == 0 && pi < 2 {
				size = 4321 // p1 and p2 share a size, for the swap tests
			}
			data := make([]byte, size)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			key := fmt.Sprintf("sessions/s1/%s/%06d.webm", pid, i)
			f.objects[key] = data
			start := time.Minute + time.Duration(i)*30*time.Second + time.Duration(pi)*time.Millisecond
			m.Segments = append(m.Segments, Segment{ParticipantID: pid, Index: i, Key: key,
				Bytes: int64(size), SHA256: sha256Hex(data), WallStart: at(start), WallEnd: at(start + 30*time.Second),
				MediaStart: float64(i) * 30, MediaEnd: float64(i)*30 + 29.98, Codecs: []string{"VP8", "opus"},
				Width: 640, Height: 480, ContentType: "video/webm"})
		}
	}
	// Segments in a random order: Encode sorts them.
	rng.Shuffle(len(m.Segments), func(i, j int) { m.Segments[i], m.Segments[j] = m.Segments[j], m.Segments[i] })

	var prev *audit.Entry
	for i := range 12 {
		e := &audit.Entry{Time: t0.Add(time.Duration(i) * 40 * time.Second), ActorKind: audit.ActorAccount, ActorID: "a1",
			Action: "session.join", OrgID: "o1", CaseID: "c1", IP: "198.51.100.1", Detail: `{"n":"<&>"}`}
		if i%3 != 1 {
			e.SessionID = "s1"
		} else {
			e.CaseID, e.SessionID = "c2", "s2"
		}
		audit.Seal(prev, e)
		f.log = append(f.log, e)
		if e.SessionID == "s1" {
			f.extract = append(f.extract, e)
		}
		prev = e
	}
	if m.Audit, err = NewAuditRef(f.extract, prev); err != nil {
		t.Fatal(err)
	}
	f.m = m
	if f.manifest, f.sig, err = Seal(m, key); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) source() BundleSource {
	return BundleSource{Manifest: f.manifest, Signature: f.sig, PublicKeyPEM: f.key.PublicPEM(), Audit: f.extract,
		Open: func(_ context.Context, key string) (io.ReadCloser, error) {
			b, ok := f.objects[key]
			if !ok {
				return nil, os.ErrNotExist
			}
			return io.NopCloser(bytes.NewReader(b)), nil
		}}
}

// bundle writes the fixture's bundle and returns its bytes.
func (f *fixture) bundle(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteBundle(context.Background(), &b, f.source()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// unzipBytes reads every file of a zip.
func unzipBytes(t testing.TB, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[zf.Name] = b
	}
	return files
}

// writeZip writes files as a zip file in dir and returns its path.
func writeZip(t testing.TB, dir string, files map[string][]byte) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bundle.zip")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeDir extracts files into a new directory under dir.
func writeDir(t testing.TB, dir string, files map[string][]byte) string {
	t.Helper()
	root := filepath.Join(dir, "bundle")
	for name, b := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// verifyPath opens a zip file or directory and verifies it.
func verifyPath(t testing.TB, path string, opts VerifyOptions) (*Report, error) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	open := OpenZip
	if fi.IsDir() {
		open = OpenDir
	}
	src, err := open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return Verify(context.Background(), src, opts)
}
