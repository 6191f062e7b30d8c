package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/blob/file"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/sqlite"
	"github.com/kuayang/kuayang/internal/tsa"
	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

// sealRig is an archive on a real SQLite store and file object store,
// with one recorded session whose recording ended (state sealing) and
// that the archive's first sweep takes up and seals.
type sealRig struct {
	st   *sqlite.DB
	blob *file.Store
	key  *evidence.Key
	sid  string
	a    *Archive
}

func newSealRig(t *testing.T, stamper tsa.Stamper) *sealRig {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "kuayang.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bs, err := file.Open(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := evidence.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	start, end := now.Add(-10*time.Minute), now.Add(-time.Minute)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateOrg(ctx, &cases.Org{ID: "o1", Name: "Wencheng Mediation", CreatedAt: start}))
	must(st.CreateCase(ctx, &cases.Case{ID: "c1", OrgID: "o1", Kind: cases.KindMediation, Number: "M-1", Title: "Lease", Status: "open", CreatedAt: start}))
	must(st.CreateSession(ctx, &cases.Session{ID: "s1", CaseID: "c1", OrgID: "o1", Title: "Hearing", ScheduledStart: start,
		TimeZone: "Asia/Shanghai", Record: true, State: "ended", StartedAt: &start, EndedAt: &end, CreatedAt: start}))
	must(st.PutRecording(ctx, &cases.Recording{SessionID: "s1", State: cases.RecordingSealing, StartedAt: start, EndedAt: &end}))
	a := New(Config{Store: st, Blob: bs, Key: key, SpoolDir: filepath.Join(dir, "spool"), Node: "n1", Version: "test",
		SweepInterval: 50 * time.Millisecond, StampRetry: 50 * time.Millisecond, Stamper: stamper,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(a.Start(ctx))
	t.Cleanup(a.Close)
	return &sealRig{st: st, blob: bs, key: key, sid: "s1", a: a}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func (r *sealRig) sealed(t *testing.T) bool {
	rec, err := r.st.Recording(context.Background(), r.sid)
	return err == nil && rec.State == cases.RecordingSealed
}

func (r *sealRig) object(t *testing.T, key string) []byte {
	t.Helper()
	rc, _, err := r.blob.Get(context.Background(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r *sealRig) actions(t *testing.T) []string {
	t.Helper()
	es, err := r.st.AuditEntries(context.Background(), audit.Filter{SessionID: r.sid, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

// bundle writes and verifies the session's bundle as the API does.
func (r *sealRig) bundle(t *testing.T, roots *tsatest.TSA) *evidence.Report {
	t.Helper()
	ctx := context.Background()
	manifest, sig := r.object(t, ManifestKey(r.sid)), r.object(t, SignatureKey(r.sid))
	m, err := evidence.DecodeManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	all, err := r.st.AuditEntries(ctx, audit.Filter{SessionID: r.sid, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var extract []*audit.Entry
	for _, e := range all {
		if e.Seq <= m.Audit.LastSeq {
			extract = append(extract, e)
		}
	}
	var b bytes.Buffer
	err = evidence.WriteBundle(ctx, &b, evidence.BundleSource{Manifest: manifest, Signature: sig, PublicKeyPEM: r.key.PublicPEM(),
		Audit: extract, Timestamp: r.object(t, TimestampKey(r.sid)),
		Open: func(context.Context, string) (io.ReadCloser, error) { return nil, os.ErrNotExist }})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bundle.zip")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := evidence.OpenZip(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rep, err := evidence.Verify(ctx, src, evidence.VerifyOptions{TSARoots: roots.Roots})
	if err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	return rep
}

func TestSealedManifestIsTimestamped(t *testing.T) {
	a := tsatest.New(t)
	r := newSealRig(t, a.Client())
	r.a.Run(context.Background())
	waitFor(t, "the token", func() bool { return r.object(t, TimestampKey(r.sid)) != nil })
	if !r.sealed(t) {
		t.Fatal("a token before the recording is sealed")
	}
	manifest, token := r.object(t, ManifestKey(r.sid)), r.object(t, TimestampKey(r.sid))
	d := sha256.Sum256(manifest)
	info, err := tsa.Verify(token, d[:], a.Roots)
	if err != nil || !info.Trusted {
		t.Fatalf("the stored token: %+v %v", info, err)
	}
	waitFor(t, "the audit entry", func() bool { return strings.Contains(strings.Join(r.actions(t), " "), ActionTimestamped) })
	if strings.Contains(strings.Join(r.actions(t), " "), ActionTimestampFailed) {
		t.Fatalf("a failure audited: %v", r.actions(t))
	}
	rep := r.bundle(t, a)
	if rep.Timestamp == nil || !rep.Timestamp.Trusted || !rep.Timestamp.Time.Equal(info.GenTime) {
		t.Fatalf("report timestamp %+v", rep.Timestamp)
	}
	// Write-once: stamping again keeps the token.
	if err := r.a.stampManifest(context.Background(), r.sid); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.object(t, TimestampKey(r.sid)), token) || a.Requests() != 1 {
		t.Fatalf("the token changed, or the authority was asked again (%d requests)", a.Requests())
	}
}

// TestSealingSurvivesTimestampOutage: with the authority down the
// session is sealed all the same, without token, which is audited once;
// once the authority is back a later pass adds it.
func TestSealingSurvivesTimestampOutage(t *testing.T) {
	a := tsatest.New(t)
	a.SetDown(true)
	r := newSealRig(t, a.Client())
	r.a.Run(context.Background())
	waitFor(t, "the seal", func() bool { return r.sealed(t) })
	waitFor(t, "the failure audited", func() bool { return strings.Contains(strings.Join(r.actions(t), " "), ActionTimestampFailed) })
	if r.object(t, TimestampKey(r.sid)) != nil {
		t.Fatal("a token while the authority is down")
	}
	if r.a.Unstamped() != 1 {
		t.Fatalf("%d sessions wait for a token, want 1", r.a.Unstamped())
	}
	// The bundle without a token verifies, without a timestamp.
	if rep := r.bundle(t, a); rep.Timestamp != nil {
		t.Fatalf("a timestamp reported: %+v", rep.Timestamp)
	}
	waitFor(t, "retries", func() bool { return a.Requests() >= 3 })
	a.SetDown(false)
	waitFor(t, "the token", func() bool { return r.object(t, TimestampKey(r.sid)) != nil })
	waitFor(t, "the success audited", func() bool { return strings.Contains(strings.Join(r.actions(t), " "), ActionTimestamped) })
	if n := strings.Count(strings.Join(r.actions(t), " "), ActionTimestampFailed); n != 1 {
		t.Fatalf("the failure audited %d times", n)
	}
	if r.a.Unstamped() != 0 {
		t.Fatal("the session still waits for a token")
	}
	if rep := r.bundle(t, a); rep.Timestamp == nil || !rep.Timestamp.Trusted {
		t.Fatalf("report timestamp %+v", rep.Timestamp)
	}
}

// TestUnstampedFoundAtStart: a sealed session without token (the node
// stopped before the authority answered, or had none) is found when the
// archive runs, and stamped.
func TestUnstampedFoundAtStart(t *testing.T) {
	first := newSealRig(t, nil)
	first.a.Run(context.Background())
	waitFor(t, "the seal", func() bool { return first.sealed(t) })
	first.a.Close()

	a := tsatest.New(t)
	again := New(Config{Store: first.st, Blob: first.blob, Key: first.key, SpoolDir: filepath.Join(t.TempDir(), "spool"), Node: "n1",
		Version: "test", SweepInterval: 50 * time.Millisecond, StampRetry: 50 * time.Millisecond, Stamper: a.Client(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := again.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.Run(context.Background())
	waitFor(t, "the token", func() bool { return first.object(t, TimestampKey(first.sid)) != nil })
	if rep := first.bundle(t, a); rep.Timestamp == nil {
		t.Fatal("no timestamp reported")
	}
}

var _ store.Store = (*sqlite.DB)(nil)
