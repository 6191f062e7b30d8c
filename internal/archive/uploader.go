package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/recorder"
)

// uploader moves closed segments from the spool to the object store, in
// order, retrying with backoff while the store is unreachable. A segment
// leaves the spool only once the stored object's size and SHA-256 were
// checked and the segment is in the records.
type uploader struct {
	blob      blob.Store
	store     store.Store
	log       *slog.Logger
	retention func(ctx context.Context, sessionID string) (time.Time, blob.Mode, error)
	failed    func(seg recorder.Segment, err error) // a segment was quarantined
	now       func() time.Time

	// Counters for metrics.
	uploaded      atomic.Uint64 // segments stored
	uploadedBytes atomic.Uint64
	failures      atomic.Uint64 // failed upload attempts, retried or quarantined
	quarantined   atomic.Uint64 // segments that could never be stored

	mu      sync.Mutex // guards the fields below
	queue   []recorder.Segment
	pending map[string]int           // session id -> segments queued or uploading
	idle    map[string]chan struct{} // session id -> closed when pending drops to 0
	wake    chan struct{}
}

func newUploader(b blob.Store, st store.Store, log *slog.Logger) *uploader {
	return &uploader{blob: b, store: st, log: log, now: time.Now, pending: map[string]int{},
		idle: map[string]chan struct{}{}, wake: make(chan struct{}, 1)}
}

// add queues a closed segment.
func (u *uploader) add(seg recorder.Segment) {
	u.mu.Lock()
	u.queue = append(u.queue, seg)
	u.pending[seg.SessionID]++
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// drained returns a channel closed once no segment of the session is
// queued or uploading.
func (u *uploader) drained(sessionID string) <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending[sessionID] == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	c := u.idle[sessionID]
	if c == nil {
		c = make(chan struct{})
		u.idle[sessionID] = c
	}
	return c
}

// queued counts a participant's segments waiting for upload.
func (u *uploader) queued(sessionID, participant string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, s := range u.queue {
		if s.SessionID == sessionID && s.ParticipantID == participant {
			n++
		}
	}
	return n
}

// Pending is the number of segments waiting for upload.
func (u *uploader) Pending() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.queue)
}

// run uploads until ctx ends. Failures are retried with backoff from 1 s
// to 30 s; the queue keeps its order.
func (u *uploader) run(ctx context.Context) {
	backoff := time.Second
	for {
		seg, ok := u.head()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-u.wake:
				continue
			}
		}
		err := u.upload(ctx, seg)
		if err != nil && ctx.Err() == nil {
			u.failures.Add(1)
		}
		if errors.Is(err, errPermanent) {
			u.quarantined.Add(1)
			u.quarantine(seg, err)
			u.done(seg)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			u.log.Warn("segment upload failed; will retry", "key", seg.Key, "retry_in", backoff, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		u.uploaded.Add(1)
		u.uploadedBytes.Add(uint64(max(seg.Bytes, 0)))
		u.done(seg)
	}
}

func (u *uploader) head() (recorder.Segment, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.queue) == 0 {
		return recorder.Segment{}, false
	}
	return u.queue[0], true
}

func (u *uploader) done(seg recorder.Segment) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.queue = u.queue[1:]
	u.pending[seg.SessionID]--
	if u.pending[seg.SessionID] <= 0 {
		delete(u.pending, seg.SessionID)
		if c := u.idle[seg.SessionID]; c != nil {
			close(c)
			delete(u.idle, seg.SessionID)
		}
	}
}

// upload stores one segment, records it and removes it from the spool.
func (u *uploader) upload(ctx context.Context, seg recorder.Segment) error {
	until, mode, err := u.retention(ctx, seg.SessionID)
	if err != nil {
		return err
	}
	for tries := 0; ; tries++ {
		err := u.put(ctx, seg, until, mode)
		if err == nil {
			break
		}
		if !errors.Is(err, errTaken) || tries == 100 {
			return err
		}
		// Another node took the recording over while this one was down
		// and numbered its segments on from what was stored, not knowing
		// what this spool held: this segment takes the next free index.
		next, err := u.freeIndex(ctx, seg)
		if err != nil {
			return err
		}
		u.log.Warn("segment index taken by another node's segment; storing under the next free index",
			"key", seg.Key, "index", next)
		seg = seg.Renumbered(next)
	}
	rec := toRecord(seg, u.now(), until)
	if err := u.store.AddSegment(ctx, rec); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("recording segment %s: %w", seg.Key, err)
	}
	return removeSpool(seg)
}

// put uploads the spool file. An object already stored under the key with
// the same size and hash is an earlier upload of this segment (the node
// stopped before removing its spool copy) and counts as done.
func (u *uploader) put(ctx context.Context, seg recorder.Segment, until time.Time, mode blob.Mode) error {
	f, err := os.Open(seg.Path)
	if err != nil {
		return fmt.Errorf("opening spool file: %w", err)
	}
	defer f.Close()
	opts := blob.PutOptions{ContentType: seg.ContentType, RetainUntil: until, Mode: mode}
	_, err = u.blob.Put(ctx, seg.Key, f, seg.Bytes, seg.SHA256, opts)
	if errors.Is(err, blob.ErrCorrupt) {
		return fmt.Errorf("%w: the spool file no longer matches its hash: %v", errPermanent, err)
	}
	if !errors.Is(err, blob.ErrExists) {
		return err
	}
	info, err := u.blob.Stat(ctx, seg.Key)
	if err != nil {
		return err
	}
	if info.Size != seg.Bytes || string(info.SHA256) != string(seg.SHA256) {
		return fmt.Errorf("%w: %s is already stored with different content", errTaken, seg.Key)
	}
	return nil
}

// errTaken: another segment is stored under the key.
var errTaken = errors.New("segment key taken")

// freeIndex is an index after every segment of seg's participant that is
// recorded or stored, and after seg's own.
func (u *uploader) freeIndex(ctx context.Context, seg recorder.Segment) (int, error) {
	segs, err := u.store.Segments(ctx, seg.SessionID)
	if err != nil {
		return 0, err
	}
	next := seg.Index + 1
	for _, s := range segs {
		if s.ParticipantID == seg.ParticipantID && s.Index >= next {
			next = s.Index + 1
		}
	}
	return next, nil
}

// errPermanent marks an upload that retrying cannot fix.
var errPermanent = errors.New("permanent upload failure")

// quarantine moves a segment that cannot be stored out of the way, so the
// queue goes on; the hole it leaves shows in the manifest as a gap, and
// the failure is logged and audited.
func (u *uploader) quarantine(seg recorder.Segment, err error) {
	u.log.Error("segment cannot be stored; quarantined", "key", seg.Key, "err", err)
	dir := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(seg.Path))), "quarantine")
	if mkErr := os.MkdirAll(dir, 0o700); mkErr == nil {
		_ = os.Rename(seg.Path, filepath.Join(dir, strings.ReplaceAll(seg.Key, "/", "_")))
	}
	_ = removeSpool(seg)
	if u.failed != nil {
		u.failed(seg, err)
	}
}

func toRecord(seg recorder.Segment, now, until time.Time) *cases.Segment {
	gaps := ""
	if len(seg.Gaps) > 0 {
		if b, err := json.Marshal(seg.Gaps); err == nil {
			gaps = string(b)
		}
	}
	speaking := ""
	if len(seg.Speaking) > 0 {
		if b, err := json.Marshal(seg.Speaking); err == nil {
			speaking = string(b)
		}
	}
	return &cases.Segment{SessionID: seg.SessionID, ParticipantID: seg.ParticipantID, Stream: seg.Stream, Room: seg.Room, Index: seg.Index, Key: seg.Key,
		ContentType: seg.ContentType, Bytes: seg.Bytes, SHA256: seg.SHA256, WallStart: seg.WallStart, WallEnd: seg.WallEnd,
		MediaStart: seg.MediaStart, MediaEnd: seg.MediaEnd, Codecs: seg.Codecs, Width: seg.Width, Height: seg.Height,
		Gaps: gaps, Speaking: speaking, Recovered: seg.Recovered, UploadedAt: now.UTC(), RetainUntil: until}
}

// removeSpool deletes a segment's spool file and its sidecar.
func removeSpool(seg recorder.Segment) error {
	side := strings.TrimSuffix(seg.Path, filepath.Ext(seg.Path)) + ".json"
	for _, p := range []string{seg.Path, side} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("removing spool file: %w", err)
		}
	}
	return nil
}
