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
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/tsa"
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
	Grace time.Duration
	// Rooms, when set, is the installation's coordination (several nodes
	// on one database): a node records a session while it holds the
	// lease of its room. Without it the node is alone.
	Rooms Rooms
	// FailoverWait is how long sealing waits for a node that stopped
	// while recording the session to come back and store what its spool
	// held (15 minutes when zero). After that the session is sealed
	// without it, and the manifest says so.
	FailoverWait time.Duration
	// SweepInterval is how often the archive looks for recordings left by
	// a node that stopped (10 s when zero).
	SweepInterval time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
	// Documents, when set, lists the documents presented or produced in
	// a session (evidence.Document), for its manifest: they are sealed
	// with the recording and go into its bundle.
	Documents func(ctx context.Context, sessionID string) ([]evidence.Document, error)
	// Stamper, when set, timestamps each sealed manifest (RFC 3161): the
	// token is stored as manifest.tsr beside it. An authority that fails
	// does not hold sealing up: the token is added later.
	Stamper tsa.Stamper
	// StampRetry is the first wait before stamping again a manifest the
	// authority failed to stamp, doubling up to an hour (1 minute when
	// zero).
	StampRetry time.Duration
}

// Rooms is what the archive needs of the installation's coordination.
type Rooms interface {
	// Acquire leases the session's room to this node; an error when
	// another node holds it or the coordination does not answer.
	Acquire(ctx context.Context, sessionID string) error
	// Release gives the lease up, unless people are connected to the room
	// on this node.
	Release(sessionID string)
	// Live reports whether node is a live node of the installation; ok is
	// false when that cannot be told now (the coordination does not
	// answer).
	Live(node string) (live, ok bool)
}

// alone is Rooms for a node without others.
type alone struct{ self string }

func (alone) Acquire(context.Context, string) error { return nil }
func (alone) Release(string)                        {}
func (a alone) Live(node string) (bool, bool)       { return node == a.self, true }

// Archive records and seals sessions.
type Archive struct {
	cfg Config
	log *slog.Logger
	up  *uploader

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	freshSpool bool // the spool directory did not exist at Start

	mu      sync.Mutex // guards the maps below
	live    map[string]*liveSession
	sealing map[string]bool // sessions with a seal loop running
	parts   map[string]bool // sessions whose pending part is being recovered
	gaveUp  map[string]bool // "session node": sealing stopped waiting for node
	// unstamped are the sealed sessions waiting for a timestamp token.
	unstamped map[string]*unstamped
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
	if cfg.FailoverWait == 0 {
		cfg.FailoverWait = 15 * time.Minute
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = 10 * time.Second
	}
	if cfg.Rooms == nil {
		cfg.Rooms = alone{cfg.Node}
	}
	if cfg.StampRetry == 0 {
		cfg.StampRetry = stampRetryMin
	}
	a := &Archive{cfg: cfg, log: cfg.Logger.With("component", "archive"), live: map[string]*liveSession{},
		sealing: map[string]bool{}, parts: map[string]bool{}, gaveUp: map[string]bool{}, unstamped: map[string]*unstamped{}}
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

// Start registers the signing key, queues what the spool holds and starts
// the uploader; Run then takes up unfinished recordings.
func (a *Archive) Start(ctx context.Context) error {
	k := &cases.SigningKey{ID: a.cfg.Key.ID, Node: a.cfg.Node, PublicPEM: string(a.cfg.Key.PublicPEM()), CreatedAt: a.now()}
	if err := a.cfg.Store.PutSigningKey(ctx, k); err != nil {
		return fmt.Errorf("archive: registering the signing key: %w", err)
	}
	// A node whose spool directory is gone (a new disk, a lost data
	// directory) cannot vouch for what it recorded before.
	if _, err := os.Stat(a.cfg.SpoolDir); errors.Is(err, fs.ErrNotExist) {
		a.freshSpool = true
	}
	if err := os.MkdirAll(a.cfg.SpoolDir, 0o700); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	// One unreadable file must not keep the node, and every other
	// segment in the spool, from starting: what Recover could not
	// close is logged (and kept aside), the rest is uploaded.
	segs, err := recorder.Recover(a.cfg.SpoolDir)
	if err != nil {
		a.log.Error("recovering the spool: some segments could not be closed", "err", err, "recovered", len(segs))
	}
	spooled := map[string]int{}
	for _, s := range segs {
		a.up.add(s)
		spooled[s.SessionID]++
	}
	if len(segs) > 0 {
		a.log.Info("spool recovered", "segments", len(segs))
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.up.run(a.ctx)
	}()
	// The spool's sessions: where another node took the recording over
	// meanwhile, this node's part is recovered once they are stored.
	for sid, n := range spooled {
		if own, err := a.ownPart(ctx, sid); err == nil && own != nil && own.State == cases.NodePending {
			a.recoverPart(sid, "restart", n)
		}
	}
	return nil
}

// Run takes up at once what this node (or a node that stopped) left
// recording or sealing, and then looks again every SweepInterval until
// Close. Call it once the coordination (Rooms) works, before the node
// accepts participants.
func (a *Archive) Run(ctx context.Context) {
	if err := a.sweep(ctx); err != nil {
		a.log.Warn("looking for recordings left unfinished", "err", err)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.sweepLoop()
	}()
	if a.cfg.Stamper != nil {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.stampLoop()
		}()
	}
}

// sweepLoop sweeps every SweepInterval until Close.
func (a *Archive) sweepLoop() {
	t := time.NewTicker(a.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
		if err := a.sweep(ctx); err != nil && a.ctx.Err() == nil {
			a.log.Warn("looking for recordings left by stopped nodes", "err", err)
		}
		cancel()
	}
}

// sweep takes up the recordings nobody looks after: those this node was
// recording or sealing when it stopped, and those of a node that is gone.
// A recording is taken up by the node that gets the lease of its room, so
// of several nodes sweeping at once one does; the others leave it. A
// recording whose room is empty ends after the grace period unless
// someone joins; one that was sealing is sealed.
func (a *Archive) sweep(ctx context.Context) error {
	for _, state := range []string{cases.RecordingActive, cases.RecordingSealing} {
		recs, err := a.cfg.Store.RecordingsInState(ctx, state)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := a.takeUp(ctx, r); err != nil {
				a.log.Warn("taking up a recording", "session", r.SessionID, "err", err)
			}
		}
	}
	return nil
}

// takeUp takes up r if nobody looks after it (see sweep).
func (a *Archive) takeUp(ctx context.Context, r *cases.Recording) error {
	sid := r.SessionID
	a.mu.Lock()
	busy := a.live[sid] != nil || a.sealing[sid]
	a.mu.Unlock()
	if busy {
		return nil
	}
	parts, err := a.cfg.Store.RecordingNodes(ctx, sid)
	if err != nil {
		return err
	}
	from := ""
	for _, p := range parts {
		switch {
		case p.Node == a.cfg.Node && p.State == cases.NodePending:
			a.recoverPart(sid, "restart", 0)
			return nil
		case p.State == cases.NodeRecording:
			from = p.Node
		}
	}
	if from != "" && from != a.cfg.Node {
		if live, ok := a.cfg.Rooms.Live(from); live || !ok {
			return nil // its node looks after it (or nobody can tell now)
		}
	}
	if err := a.cfg.Rooms.Acquire(ctx, sid); err != nil {
		return nil // another node hosts the room: it looks after it
	}
	err = a.cfg.Store.AdoptRecording(ctx, sid, from, a.cfg.Node, a.now())
	if errors.Is(err, store.ErrConflict) {
		a.cfg.Rooms.Release(sid)
		return nil // another node took it up a moment ago
	} else if err != nil {
		a.cfg.Rooms.Release(sid)
		return err
	}
	switch from {
	case a.cfg.Node, "": // "": recorded before nodes' parts were kept, by a node that restarted since
		a.audit(ctx, sid, evidence.EventRecordingFailure, `{"reason":"node restarted"}`)
	default:
		a.audit(ctx, sid, evidence.EventRecordingFailure, fmt.Sprintf(`{"reason":%q,"node":%q}`, reasonNodeStopped, from))
	}
	a.log.Info("recording taken up", "session", sid, "state", r.State, "from", cmp.Or(from, "(none)"))
	if r.State == cases.RecordingSealing {
		a.goSeal(sid)
		return nil
	}
	a.mu.Lock()
	if a.live[sid] == nil {
		a.live[sid] = &liveSession{}
		a.armLocked(sid)
	}
	a.mu.Unlock()
	return nil
}

// ownPart is this node's part in recording a session, nil when it has
// none.
func (a *Archive) ownPart(ctx context.Context, sessionID string) (*cases.RecordingNode, error) {
	parts, err := a.cfg.Store.RecordingNodes(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		if p.Node == a.cfg.Node {
			return p, nil
		}
	}
	return nil, nil
}

// recoverPart: another node records the session now (it took over while
// this node was down, or took the room over). Once what this node's spool
// held of the session is stored, this node's part is done, and sealing
// (on whichever node seals) stops waiting for it.
func (a *Archive) recoverPart(sessionID, reason string, segments int) {
	a.goOnce(a.parts, sessionID, func() {
		select {
		case <-a.ctx.Done():
			return
		case <-a.up.drained(sessionID):
		}
		lost := a.freshSpool && reason == "restart"
		if lost {
			// Whatever this node held of the session was lost with its
			// spool: say so (before sealing may go on), and let sealing
			// go on without it.
			a.audit(a.ctx, sessionID, evidence.EventRecordingFailure, fmt.Sprintf(`{"reason":%q,"node":%q}`, reasonSpoolLost, a.cfg.Node))
			a.log.Warn("this node restarted without its spool: what it held of a recording taken over elsewhere is lost",
				"session", sessionID)
		}
		for backoff := time.Second; ; backoff = min(backoff*2, time.Minute) {
			err := a.cfg.Store.SetRecordingNode(a.ctx, sessionID, a.cfg.Node, cases.NodeDone, a.now())
			if err == nil {
				break
			}
			a.log.Warn("recording this node's part as stored", "session", sessionID, "err", err)
			select {
			case <-a.ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
		if lost {
			return
		}
		after := false
		if rec, err := a.cfg.Store.Recording(a.ctx, sessionID); err == nil {
			after = rec.State == cases.RecordingSealed
		}
		a.audit(a.ctx, sessionID, evidence.EventRecordingRecovered, fmt.Sprintf(`{"node":%q,"reason":%q,"segments":%d,"after_seal":%t}`,
			a.cfg.Node, reason, segments, after))
		a.log.Info("this node's part of a recording taken over elsewhere is stored", "session", sessionID,
			"segments", segments, "after_seal", after)
	})
}

// goOnce runs fn on its own goroutine for a session, unless one of the
// same kind (running: a set guarded by mu) runs for it already.
func (a *Archive) goOnce(running map[string]bool, sessionID string, fn func()) {
	a.mu.Lock()
	if running[sessionID] {
		a.mu.Unlock()
		return
	}
	running[sessionID] = true
	a.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			a.mu.Lock()
			delete(running, sessionID)
			a.mu.Unlock()
		}()
		fn()
	}()
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
	displaced, err := a.cfg.Store.ClaimRecording(ctx, sess.ID, a.cfg.Node, a.now())
	if err != nil {
		return err
	}
	for _, d := range displaced {
		// That node stopped (or lost the room) while recording: what it
		// stored stays; this node records on in new segments.
		a.audit(ctx, sess.ID, evidence.EventRecordingFailure, fmt.Sprintf(`{"reason":%q,"node":%q}`, reasonNodeStopped, d))
		a.log.Warn("recording taken over from a node that stopped", "session", sess.ID, "node", d)
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

// stopLive stops recording a live session here: its grace timer, its
// recorder (closing its segments into the spool); false when it was not
// live.
func (a *Archive) stopLive(sessionID string) bool {
	a.mu.Lock()
	ls := a.live[sessionID]
	delete(a.live, sessionID)
	a.mu.Unlock()
	if ls == nil {
		return false
	}
	ls.close()
	return true
}

// close stops the grace timer and the recorder.
func (ls *liveSession) close() {
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

// End ends a session now: the recorder closes its segments and the session
// is sealed once they are stored. Calling End again does nothing.
func (a *Archive) End(sessionID string) {
	if !a.stopLive(sessionID) {
		return
	}
	a.goSeal(sessionID)
}

func (a *Archive) goSeal(sessionID string) {
	a.goOnce(a.sealing, sessionID, func() { a.sealLoop(sessionID) })
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
	// Nobody records the session any more: its room may go.
	a.cfg.Rooms.Release(sessionID)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-a.up.drained(sessionID):
	}
	if err := a.awaitParts(ctx, sessionID); err != nil {
		return err
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
	if err := a.finish(ctx, rec, manifest, m, until); err != nil {
		return err
	}
	a.timestamp(ctx, sessionID)
	return nil
}

// The reasons of recording.failure events that name a node.
const (
	// reasonNodeStopped: the node recording the session stopped (or lost
	// its room) and another node took the recording over.
	reasonNodeStopped = "node stopped"
	// reasonNotBack: that node did not come back within FailoverWait;
	// what its spool held of the session is missing.
	reasonNotBack = "node did not come back; what its spool held of the session is missing"
	// reasonSpoolLost: that node came back without its spool (a new
	// disk, a lost data directory).
	reasonSpoolLost = "node came back without its spool; what it held of the session is missing"
)

// awaitParts waits until no other node's part in the session is pending
// (a node that stopped while recording it has come back and stored what
// its spool held), or FailoverWait has passed since it stopped: then the
// session is sealed without it, and an event of the manifest says what
// may be missing.
func (a *Archive) awaitParts(ctx context.Context, sessionID string) error {
	for logged := false; ; logged = true {
		parts, err := a.cfg.Store.RecordingNodes(ctx, sessionID)
		if err != nil {
			return err
		}
		var waiting []string
		for _, p := range parts {
			if p.Node == a.cfg.Node || p.State != cases.NodePending {
				continue
			}
			if a.now().Sub(p.Since) < a.cfg.FailoverWait {
				waiting = append(waiting, p.Node)
				continue
			}
			a.mu.Lock()
			told := a.gaveUp[sessionID+" "+p.Node]
			a.gaveUp[sessionID+" "+p.Node] = true
			a.mu.Unlock()
			if !told {
				a.audit(ctx, sessionID, evidence.EventRecordingFailure, fmt.Sprintf(`{"reason":%q,"node":%q,"waited_s":%d}`,
					reasonNotBack, p.Node, int(a.cfg.FailoverWait.Seconds())))
				a.log.Warn("sealing without the media a stopped node may hold", "session", sessionID, "node", p.Node)
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		if !logged {
			a.log.Info("sealing waits for stopped nodes to store what they recorded", "session", sessionID,
				"nodes", waiting, "at_most", a.cfg.FailoverWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
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
	if err := a.cfg.Store.SetRecordingNode(ctx, rec.SessionID, a.cfg.Node, cases.NodeDone, now); err != nil {
		a.log.Warn("recording this node's part as done", "session", rec.SessionID, "err", err)
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
	until, mode := org.Retention(sess)
	return until, blob.Mode(mode), nil
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

// Handoff: another node hosts the session's room now (this node lost its
// lease, say while cut off from Redis). The recorder stops here without
// ending the session, the new host records on, and this node's part is
// done once its last segments are stored.
func (a *Archive) Handoff(sessionID string) {
	if !a.stopLive(sessionID) {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	if err := a.cfg.Store.SetRecordingNode(ctx, sessionID, a.cfg.Node, cases.NodePending, a.now()); err != nil {
		a.log.Warn("recording the hand-over of a recording", "session", sessionID, "err", err)
	}
	a.log.Info("recording handed over to the room's new host", "session", sessionID)
	a.recoverPart(sessionID, "handoff", 0)
}

// Private implements signaling.Privacy: a participant in a private room
// that is not recorded is not recorded until they come back (the manifest
// shows the time as a private_room gap, from the room.move entries); one
// in a recorded private room is recorded in segments sealed to that room
// (sealedTo), which only the session's mediator may play.
func (a *Archive) Private(sessionID, participantID string, private bool, sealedTo string) {
	a.mu.Lock()
	ls := a.live[sessionID]
	a.mu.Unlock()
	if ls != nil && ls.rec != nil {
		// Seal first: a participant resumed into a recorded private room
		// starts their next segment already sealed.
		ls.rec.Seal(participantID, sealedTo)
		ls.rec.Pause(participantID, private)
	}
}

// Holds reports whether the archive keeps the session going on this node
// (it records it, or waits out the grace period of its empty room): the
// room's lease must stay with the node until the session ends.
func (a *Archive) Holds(sessionID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.live[sessionID] != nil
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
		ls.close()
	}
	a.cancel()
	a.wg.Wait()
}
