// Package archive turns recorded sessions into sealed evidence. It runs a
// recorder for each live recorded session, moves closed segments from the
// spool to the object store, and when the session ends (its last
// participant left and a grace period passed) seals it: a manifest of
// everything recorded, signed with the node's key, stored write-once next
// to the media.
//
// It survives restarts: at start it uploads what the spool holds and
// finishes sealing what a stopped node left unsealed.
package archive

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/recorder"
	"github.com/kuayang/kuayang/sfu"
)

// Media is what the archive needs of the media plane.
type Media interface {
	Observe(room string, o sfu.Observer) (stop func(), err error)
}

// Config wires an Archive.
type Config struct {
	Store    store.Store
	Blob     blob.Store
	Media    Media
	Key      *evidence.Key
	SpoolDir string
	Node     string
	Version  string
	// SegmentDuration is how long a segment runs (30 s when zero).
	SegmentDuration time.Duration
	// Grace is how long an empty session waits for someone to come back
	// before it ends and is sealed (2 minutes when zero).
	Grace  time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// Archive records and seals sessions.
type Archive struct {
	cfg Config
	log *slog.Logger
	up  *uploader

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex // guards live
	live map[string]*liveSession
}

// liveSession is a session being recorded.
type liveSession struct {
	rec   *recorder.Recorder
	stop  func()      // detaches the recorder from the media plane
	timer *time.Timer // grace timer while the room is empty
}

// New returns an Archive; Start begins its work.
func New(cfg Config) *Archive {
	if cfg.SegmentDuration == 0 {
		cfg.SegmentDuration = 30 * time.Second
	}
	if cfg.Grace == 0 {
		cfg.Grace = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Archive{cfg: cfg, log: cfg.Logger.With("component", "archive"), live: map[string]*liveSession{}}
	a.up = newUploader(cfg.Blob, cfg.Store, a.log)
	a.up.retention = a.retention
	a.up.failed = func(seg recorder.Segment, err error) {
		a.audit(a.ctx, seg.SessionID, evidence.EventRecordingFailure,
			fmt.Sprintf(`{"reason":"segment could not be stored","segment":%q}`, seg.Key))
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a
}

func (a *Archive) now() time.Time { return a.cfg.Now().UTC() }

// Start registers the signing key, queues what the spool holds, resumes
// sealing left unfinished, and starts the uploader.
func (a *Archive) Start(ctx context.Context) error {
	k := &cases.SigningKey{ID: a.cfg.Key.ID, Node: a.cfg.Node, PublicPEM: string(a.cfg.Key.PublicPEM()), CreatedAt: a.now()}
	if err := a.cfg.Store.PutSigningKey(ctx, k); err != nil {
		return fmt.Errorf("archive: registering the signing key: %w", err)
	}
	segs, err := recorder.Recover(a.cfg.SpoolDir)
	if err != nil {
		return fmt.Errorf("archive: recovering the spool: %w", err)
	}
	for _, s := range segs {
		a.up.add(s)
	}
	if len(segs) > 0 {
		a.log.Info("spool recovered", "segments", len(segs))
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.up.run(a.ctx)
	}()
	return a.resume(ctx)
}

// resume restarts the end of sessions a stopped node left recording or
// sealing: a recording session ends unless someone joins within the grace
// period; a sealing one is sealed again.
func (a *Archive) resume(ctx context.Context) error {
	for _, state := range []string{cases.RecordingActive, cases.RecordingSealing} {
		recs, err := a.cfg.Store.RecordingsInState(ctx, state)
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		for _, r := range recs {
			a.audit(ctx, r.SessionID, evidence.EventRecordingFailure, `{"reason":"node restarted"}`)
			if state == cases.RecordingSealing {
				a.goSeal(r.SessionID)
				continue
			}
			a.mu.Lock()
			a.live[r.SessionID] = &liveSession{}
			a.armLocked(r.SessionID)
			a.mu.Unlock()
		}
	}
	return nil
}

// Joined implements signaling.Lifecycle: the first participant of a
// recorded session starts its recorder; anyone cancels a pending end. If
// the recording cannot start, the join is refused.
func (a *Archive) Joined(sess *cases.Session, participantID string) error {
	if !sess.Record {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ls := a.live[sess.ID]
	if ls == nil {
		ls = &liveSession{}
		a.live[sess.ID] = ls
	}
	if ls.timer != nil {
		ls.timer.Stop()
		ls.timer = nil
	}
	if ls.rec != nil {
		return nil
	}
	if err := a.startLocked(sess, ls); err != nil {
		delete(a.live, sess.ID)
		return err
	}
	return nil
}

// Left implements signaling.Lifecycle: when the room is empty, the session
// ends after the grace period unless someone comes back.
func (a *Archive) Left(sess *cases.Session, participantID string, remaining int) {
	if !sess.Record || remaining > 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.live[sess.ID] != nil {
		a.armLocked(sess.ID)
	}
}

// armLocked starts the grace timer of a live session; called with mu held.
func (a *Archive) armLocked(sessionID string) {
	ls := a.live[sessionID]
	if ls.timer != nil {
		ls.timer.Stop()
	}
	ls.timer = time.AfterFunc(a.cfg.Grace, func() { a.End(sessionID) })
}

// startLocked attaches a recorder to the session's room and records the
// recording's start; called with mu held.
func (a *Archive) startLocked(sess *cases.Session, ls *liveSession) error {
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	rec, err := a.cfg.Store.Recording(ctx, sess.ID)
	if errors.Is(err, store.ErrNotFound) {
		rec = &cases.Recording{SessionID: sess.ID, State: cases.RecordingActive, StartedAt: a.now()}
	} else if err != nil {
		return err
	}
	if rec.State != cases.RecordingActive {
		return fmt.Errorf("the recording is %s", rec.State)
	}
	if err := a.cfg.Store.PutRecording(ctx, rec); err != nil {
		return err
	}
	r := recorder.New(recorder.Config{SessionID: sess.ID, SpoolDir: a.cfg.SpoolDir, SegmentDuration: a.cfg.SegmentDuration,
		Logger: a.log, OnSegment: a.up.add, NextIndex: a.nextIndex(sess.ID)})
	stop, err := a.cfg.Media.Observe(sess.ID, r)
	if err != nil {
		r.Close()
		return err
	}
	ls.rec, ls.stop = r, stop
	a.audit(ctx, sess.ID, evidence.EventRecordingStart, "")
	a.log.Info("recording started", "session", sess.ID)
	return nil
}

// nextIndex numbers a participant's segments on from those already stored,
// so that a rejoin or a restart continues the same recording.
func (a *Archive) nextIndex(sessionID string) func(participant string) int {
	return func(participant string) int {
		ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
		defer cancel()
		segs, err := a.cfg.Store.Segments(ctx, sessionID)
		if err != nil {
			a.log.Error("reading segments", "session", sessionID, "err", err)
		}
		next := 0
		for _, s := range segs {
			if s.ParticipantID == participant && s.Index >= next {
				next = s.Index + 1
			}
		}
		return next + a.up.queued(sessionID, participant)
	}
}

// End ends a session now: the recorder closes its segments and the session
// is sealed once they are stored. Calling End again does nothing.
func (a *Archive) End(sessionID string) {
	a.mu.Lock()
	ls := a.live[sessionID]
	delete(a.live, sessionID)
	a.mu.Unlock()
	if ls == nil {
		return
	}
	if ls.timer != nil {
		ls.timer.Stop()
	}
	if ls.stop != nil {
		ls.stop()
	}
	if ls.rec != nil {
		ls.rec.Close()
	}
	a.goSeal(sessionID)
}

func (a *Archive) goSeal(sessionID string) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.sealLoop(sessionID)
	}()
}

// sealLoop seals a session, retrying with backoff while the stores fail.
func (a *Archive) sealLoop(sessionID string) {
	backoff := time.Second
	for {
		err := a.seal(a.ctx, sessionID)
		if err == nil || a.ctx.Err() != nil {
			return
		}
		a.log.Warn("sealing failed; will retry", "session", sessionID, "retry_in", backoff, "err", err)
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// seal ends the session in the records, waits for its segments to be
// stored, then signs and stores the manifest.
func (a *Archive) seal(ctx context.Context, sessionID string) error {
	rec, err := a.cfg.Store.Recording(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // nothing was recorded: nothing to seal
	} else if err != nil {
		return err
	}
	if rec.State == cases.RecordingSealed {
		return nil
	}
	if rec.State == cases.RecordingActive {
		if err := a.beginSealing(ctx, rec); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-a.up.drained(sessionID):
	}
	m, _, err := a.buildManifest(ctx, sessionID, *rec.EndedAt)
	if err != nil {
		return err
	}
	manifest, sig, err := evidence.Seal(m, a.cfg.Key)
	if err != nil {
		return err
	}
	until, mode, err := a.retention(ctx, sessionID)
	if err != nil {
		return err
	}
	if err := a.storeManifest(ctx, sessionID, manifest, sig, until, mode); err != nil && !errors.Is(err, blob.ErrExists) {
		return err
	}
	return a.finish(ctx, rec, manifest, m, until)
}

func (a *Archive) beginSealing(ctx context.Context, rec *cases.Recording) error {
	now := a.now()
	if err := a.cfg.Store.EndSession(ctx, rec.SessionID, now); err != nil {
		return err
	}
	rec.State, rec.EndedAt = cases.RecordingSealing, &now
	if err := a.cfg.Store.PutRecording(ctx, rec); err != nil {
		return err
	}
	a.audit(ctx, rec.SessionID, evidence.EventSessionEnd, "")
	a.audit(ctx, rec.SessionID, evidence.EventRecordingStop, "")
	return nil
}

func (a *Archive) finish(ctx context.Context, rec *cases.Recording, manifest []byte, m *evidence.Manifest, until time.Time) error {
	sum := sha256.Sum256(manifest)
	now := a.now()
	rec.State, rec.SealedAt, rec.ManifestKey, rec.ManifestSHA = cases.RecordingSealed, &now, ManifestKey(rec.SessionID), sum[:]
	rec.ChainHead, rec.KeyID, rec.RetainUntil, rec.Failure = m.ChainHead, m.KeyID, until, ""
	rec.GapCount = new(len(m.Gaps))
	if err := a.cfg.Store.PutRecording(ctx, rec); err != nil {
		return err
	}
	a.audit(ctx, rec.SessionID, "recording.sealed", fmt.Sprintf(`{"manifest_sha256":"%x","chain_head":%q,"key_id":%q,"segments":%d}`,
		sum, m.ChainHead, m.KeyID, len(m.Segments)))
	a.log.Info("recording sealed", "session", rec.SessionID, "segments", len(m.Segments), "gaps", len(m.Gaps))
	return nil
}

// retention is when a session's objects may be deleted, from its
// organization's policy.
func (a *Archive) retention(ctx context.Context, sessionID string) (time.Time, blob.Mode, error) {
	sess, err := a.cfg.Store.Session(ctx, sessionID)
	if err != nil {
		return time.Time{}, "", err
	}
	org, err := a.cfg.Store.Org(ctx, sess.OrgID)
	if err != nil {
		return time.Time{}, "", err
	}
	days, mode := org.RetentionDays, blob.Mode(org.RetentionMode)
	if days == 0 {
		days = 3650
	}
	if mode == "" {
		mode = blob.Compliance
	}
	start := sess.CreatedAt
	if sess.StartedAt != nil {
		start = *sess.StartedAt
	}
	return start.AddDate(0, 0, days).UTC(), mode, nil
}

// audit appends an entry by the node about a session.
func (a *Archive) audit(ctx context.Context, sessionID, action, detail string) {
	e := &audit.Entry{Time: a.now(), ActorKind: audit.ActorSystem, ActorID: a.cfg.Node, Action: action, SessionID: sessionID, Detail: detail}
	if sess, err := a.cfg.Store.Session(ctx, sessionID); err == nil {
		e.OrgID, e.CaseID = sess.OrgID, sess.CaseID
	}
	if err := a.cfg.Store.AppendAudit(ctx, e); err != nil {
		a.log.Error("audit append failed", "action", action, "session", sessionID, "err", err)
	}
}

// Pending is the number of segments waiting for upload.
func (a *Archive) Pending() int { return a.up.Pending() }

// Stats are the archive's numbers, for metrics.
type Stats struct {
	Recording      int    // sessions being recorded now
	Pending        int    // closed segments waiting for upload
	Uploaded       uint64 // segments stored since start
	UploadedBytes  uint64
	UploadFailures uint64 // failed upload attempts since start (retried, or quarantined)
	Quarantined    uint64 // segments that could never be stored, since start
}

// Stats returns a snapshot of the archive's numbers.
func (a *Archive) Stats() Stats {
	a.mu.Lock()
	rec := len(a.live)
	a.mu.Unlock()
	return Stats{Recording: rec, Pending: a.up.Pending(), Uploaded: a.up.uploaded.Load(),
		UploadedBytes: a.up.uploadedBytes.Load(), UploadFailures: a.up.failures.Load(), Quarantined: a.up.quarantined.Load()}
}

// Close stops recording (closing open segments into the spool, where the
// next start finds them), stops uploading and sealing, and waits.
func (a *Archive) Close() {
	a.mu.Lock()
	live := a.live
	a.live = map[string]*liveSession{}
	a.mu.Unlock()
	for _, ls := range live {
		if ls.timer != nil {
			ls.timer.Stop()
		}
		if ls.stop != nil {
			ls.stop()
		}
		if ls.rec != nil {
			ls.rec.Close()
		}
	}
	a.cancel()
	a.wg.Wait()
}
