package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/tsa"
)

// TimestampKey is where a sealed session's timestamp token is stored: an
// RFC 3161 token over the SHA-256 of manifest.json, from the timestamp
// authority the node is configured with (Config.Stamper).
func TimestampKey(sessionID string) string { return "sessions/" + sessionID + "/manifest.tsr" }

// The audit actions of timestamping.
const (
	ActionTimestamped     = "recording.timestamped"
	ActionTimestampFailed = "recording.timestamp_failed"
)

// Bounds of the wait between two attempts to stamp a sealed manifest
// while the authority fails.
const (
	stampRetryMin = time.Minute
	stampRetryMax = time.Hour
	// stampsPerSweep bounds the attempts of one sweep, so that an
	// authority coming back, or one configured on an installation with
	// many sealed sessions, is not flooded.
	stampsPerSweep = 10
)

// unstamped is a sealed session whose manifest has no token yet.
type unstamped struct {
	next    time.Time     // not before
	backoff time.Duration // the wait after the next failure
}

// stampManifest stamps a sealed session's stored manifest and stores the
// token beside it, write-once like the manifest. A token already stored
// (by this node earlier, or another) is kept.
func (a *Archive) stampManifest(ctx context.Context, sessionID string) error {
	key := TimestampKey(sessionID)
	if _, err := a.cfg.Blob.Stat(ctx, key); err == nil {
		return nil
	} else if !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	rc, _, err := a.cfg.Blob.Get(ctx, ManifestKey(sessionID))
	if err != nil {
		return fmt.Errorf("reading the manifest: %w", err)
	}
	manifest, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	rc.Close()
	if err != nil {
		return fmt.Errorf("reading the manifest: %w", err)
	}
	digest := sha256.Sum256(manifest)
	token, err := a.cfg.Stamper.Stamp(ctx, digest[:])
	if err != nil {
		return err
	}
	info, err := tsa.Verify(token, digest[:], nil)
	if err != nil {
		return err
	}
	until, mode, err := a.retention(ctx, sessionID)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(token)
	_, err = a.cfg.Blob.Put(ctx, key, bytes.NewReader(token), int64(len(token)), sum[:],
		blob.PutOptions{ContentType: "application/timestamp-reply", RetainUntil: until, Mode: mode})
	if errors.Is(err, blob.ErrExists) {
		return nil // another node stamped it meanwhile
	} else if err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	// A recording put on legal hold before its token came holds the
	// token too.
	if rec, err := a.cfg.Store.Recording(ctx, sessionID); err == nil && rec.LegalHold {
		if err := a.cfg.Blob.SetLegalHold(ctx, key, true); err != nil {
			a.log.Warn("legal hold on the timestamp token", "session", sessionID, "err", err)
		}
	}
	a.audit(ctx, sessionID, ActionTimestamped, jsonDetail(map[string]string{"manifest_sha256": hex.EncodeToString(digest[:]),
		"tsa": info.TSA, "gen_time": info.GenTime.Format(time.RFC3339), "serial": info.Serial.String()}))
	a.log.Info("sealed manifest timestamped", "session", sessionID, "tsa", info.TSA, "gen_time", info.GenTime)
	return nil
}

// timestamp stamps a session just sealed. An authority that fails does
// not fail sealing: the session stays sealed without a token, which is
// said once (log and audit), and the sweeps try again with backoff until
// a token is stored.
func (a *Archive) timestamp(ctx context.Context, sessionID string) {
	if a.cfg.Stamper == nil {
		return
	}
	err := a.stampManifest(ctx, sessionID)
	if err == nil {
		return
	}
	a.log.Warn("timestamping the sealed manifest failed; sealed without a timestamp, will retry",
		"session", sessionID, "retry_in", a.cfg.StampRetry, "err", err)
	a.audit(ctx, sessionID, ActionTimestampFailed, jsonDetail(map[string]string{"error": err.Error()}))
	a.mu.Lock()
	a.unstamped[sessionID] = &unstamped{next: a.now().Add(a.cfg.StampRetry), backoff: 2 * a.cfg.StampRetry}
	a.mu.Unlock()
}

// stampLoop finds the sealed manifests without a token, then every
// SweepInterval stamps those whose time has come, until Close.
//
// Every hour it also looks again among the sessions sealed in the last
// two days: another node may have sealed one, failed to stamp it and
// stopped before it got a token.
func (a *Archive) stampLoop() {
	scan := func(since time.Time) {
		ctx, cancel := context.WithTimeout(a.ctx, 5*time.Minute)
		a.findUnstamped(ctx, since)
		cancel()
	}
	scan(time.Time{})
	scanned := a.now()
	t := time.NewTicker(a.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
		if a.now().Sub(scanned) >= time.Hour {
			scan(a.now().Add(-48 * time.Hour))
			scanned = a.now()
		}
		a.restamp(a.ctx)
	}
}

// restamp tries again the sessions whose time has come. When the
// authority does not answer, the pass stops there: the others would not
// fare better.
func (a *Archive) restamp(ctx context.Context) {
	now := a.now()
	var due []string
	a.mu.Lock()
	for sid, u := range a.unstamped {
		if !u.next.After(now) && len(due) < stampsPerSweep {
			due = append(due, sid)
		}
	}
	a.mu.Unlock()
	for _, sid := range due {
		err := a.stampManifest(ctx, sid)
		a.mu.Lock()
		u := a.unstamped[sid]
		switch {
		case u == nil:
		case err == nil:
			delete(a.unstamped, sid)
		default:
			u.next, u.backoff = a.now().Add(u.backoff), min(2*u.backoff, stampRetryMax)
		}
		a.mu.Unlock()
		if err != nil {
			a.log.Debug("timestamping a sealed manifest failed again", "session", sid, "err", err)
		}
		if tsa.IsCode(err, tsa.CodeUnavailable) || ctx.Err() != nil {
			return
		}
	}
}

// findUnstamped queues the sealed sessions (sealed since since, if not
// zero) whose manifest has no token: those an authority failed to stamp
// before this node restarted, or sealed before one was configured.
func (a *Archive) findUnstamped(ctx context.Context, since time.Time) {
	recs, err := a.cfg.Store.RecordingsInState(ctx, cases.RecordingSealed)
	if err != nil {
		a.log.Warn("looking for sealed manifests without a timestamp", "err", err)
		return
	}
	n := 0
	for _, r := range recs {
		if r.SealedAt != nil && r.SealedAt.Before(since) {
			continue
		}
		a.mu.Lock()
		queued := a.unstamped[r.SessionID] != nil
		a.mu.Unlock()
		if queued {
			continue
		}
		_, err := a.cfg.Blob.Stat(ctx, TimestampKey(r.SessionID))
		if !errors.Is(err, blob.ErrNotFound) {
			continue
		}
		a.mu.Lock()
		if a.unstamped[r.SessionID] == nil {
			a.unstamped[r.SessionID] = &unstamped{next: a.now(), backoff: a.cfg.StampRetry}
			n++
		}
		a.mu.Unlock()
	}
	if n > 0 {
		a.log.Info("sealed manifests without a timestamp will be stamped", "sessions", n)
	}
}

// jsonDetail is an audit entry's detail: what an authority or its
// certificate says may hold any character.
func jsonDetail(v map[string]string) string {
	b, _ := json.Marshal(v) // a map of strings always encodes
	return string(b)
}

// Unstamped is how many sealed sessions wait for a timestamp token.
func (a *Archive) Unstamped() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.unstamped)
}
