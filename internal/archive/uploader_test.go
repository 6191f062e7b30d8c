package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/blob/file"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/recorder"
)

// segStore records AddSegment calls; nothing else of the store is used.
type segStore struct {
	store.Store
	mu   sync.Mutex
	segs []*cases.Segment
}

func (s *segStore) AddSegment(_ context.Context, seg *cases.Segment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.segs = append(s.segs, seg)
	return nil
}

func (s *segStore) Segments(_ context.Context, sessionID string) ([]*cases.Segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*cases.Segment
	for _, seg := range s.segs {
		if seg.SessionID == sessionID {
			out = append(out, seg)
		}
	}
	return out, nil
}

// flaky fails Put until up is set.
type flaky struct {
	blob.Store
	mu sync.Mutex
	up bool
}

func (f *flaky) Put(ctx context.Context, key string, r io.Reader, size int64, sum []byte, o blob.PutOptions) (blob.Info, error) {
	f.mu.Lock()
	up := f.up
	f.mu.Unlock()
	if !up {
		return blob.Info{}, context.DeadlineExceeded
	}
	return f.Store.Put(ctx, key, r, size, sum, o)
}

// spoolSegment writes a segment file and its sidecar-less metadata.
func spoolSegment(t *testing.T, dir, pid string, index int, body []byte) recorder.Segment {
	t.Helper()
	p := filepath.Join(dir, "s1", pid, "00000"+string(rune('0'+index))+".webm")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	return recorder.Segment{SessionID: "s1", ParticipantID: pid, Index: index, Path: p, Key: "sessions/s1/" + pid + "/" + filepath.Base(p),
		ContentType: "video/webm", Bytes: int64(len(body)), SHA256: sum[:], WallStart: time.Now(), WallEnd: time.Now().Add(time.Second)}
}

func newTestUploader(t *testing.T, b blob.Store) (*uploader, *segStore) {
	st := &segStore{}
	u := newUploader(b, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	u.retention = func(context.Context, string) (time.Time, blob.Mode, error) { return time.Time{}, "", nil }
	return u, st
}

func TestUploaderWaitsOutAnOutageInOrder(t *testing.T) {
	fs, err := file.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &flaky{Store: fs}
	u, st := newTestUploader(t, b)
	spool := t.TempDir()
	for i := range 3 {
		u.add(spoolSegment(t, spool, "p1", i, bytes.Repeat([]byte{byte(i)}, 1000)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(300 * time.Millisecond)
	select {
	case <-u.drained("s1"):
		t.Fatal("drained while the store is down")
	default:
	}
	b.mu.Lock()
	b.up = true
	b.mu.Unlock()
	select {
	case <-u.drained("s1"):
	case <-time.After(10 * time.Second):
		t.Fatal("not drained after the store came back")
	}
	if len(st.segs) != 3 || st.segs[0].Index != 0 || st.segs[2].Index != 2 {
		t.Fatalf("recorded %d segments out of order", len(st.segs))
	}
	if entries, _ := os.ReadDir(filepath.Join(spool, "s1", "p1")); len(entries) != 0 {
		t.Fatalf("spool still holds %d files", len(entries))
	}
}

func TestUploaderQuarantinesACorruptSpoolFile(t *testing.T) {
	fs, err := file.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u, st := newTestUploader(t, fs)
	var failed []string
	u.failed = func(seg recorder.Segment, err error) { failed = append(failed, seg.Key) }
	spool := t.TempDir()
	bad := spoolSegment(t, spool, "p1", 0, []byte("recorded"))
	if err := os.WriteFile(bad.Path, []byte("changed!"), 0o600); err != nil { // same size, other bytes
		t.Fatal(err)
	}
	u.add(bad)
	u.add(spoolSegment(t, spool, "p1", 1, []byte("fine")))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-u.drained("s1"):
	case <-time.After(10 * time.Second):
		t.Fatal("a corrupt segment blocked the queue")
	}
	if len(st.segs) != 1 || st.segs[0].Index != 1 || len(failed) != 1 || failed[0] != bad.Key {
		t.Fatalf("stored %d, failed %v", len(st.segs), failed)
	}
	if _, err := os.Stat(filepath.Join(spool, "quarantine")); err != nil {
		t.Fatalf("no quarantine: %v", err)
	}
}

// A node that took the recording over while this one was down numbered
// its segments on from what was stored: this node's spooled segment 1
// finds index 1 (and 2) taken by other content, and is stored as 3, with
// nothing of the other node's overwritten.
func TestUploaderRenumbersASegmentWhoseIndexWasTaken(t *testing.T) {
	fs, err := file.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u, st := newTestUploader(t, fs)
	other := t.TempDir()
	taken := []recorder.Segment{spoolSegment(t, other, "p1", 1, []byte("the other node's 1")),
		spoolSegment(t, other, "p1", 2, []byte("the other node's 2"))}
	for _, seg := range taken {
		f, _ := os.Open(seg.Path)
		if _, err := fs.Put(context.Background(), seg.Key, f, seg.Bytes, seg.SHA256, blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	// Index 2 is stored but not yet recorded (the other node is between
	// the two steps): only index 1 is in the records.
	st.segs = append(st.segs, toRecord(taken[0], time.Now(), time.Time{}))

	spool := t.TempDir()
	mine := spoolSegment(t, spool, "p1", 1, []byte("this node's last segment"))
	u.add(mine)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-u.drained("s1"):
	case <-time.After(10 * time.Second):
		t.Fatal("not drained")
	}
	if n := u.quarantined.Load(); n != 0 {
		t.Fatalf("%d segments quarantined", n)
	}
	last := st.segs[len(st.segs)-1]
	if last.Index != 3 || last.Key != "sessions/s1/p1/000003.webm" || !bytes.Equal(last.SHA256, mine.SHA256) {
		t.Fatalf("recorded index %d key %s, want 3 and sessions/s1/p1/000003.webm with this node's content", last.Index, last.Key)
	}
	for _, seg := range append(taken, mine.Renumbered(3)) {
		info, err := fs.Stat(context.Background(), seg.Key)
		if err != nil || !bytes.Equal(info.SHA256, seg.SHA256) {
			t.Fatalf("%s: %v, stored %x, want %x", seg.Key, err, info.SHA256, seg.SHA256)
		}
	}
	if _, err := os.Stat(mine.Path); !os.IsNotExist(err) {
		t.Fatalf("the spool still holds the segment: %v", err)
	}
}
