package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"time"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
)

// storedBundle is an evidence.Source over what the node keeps of a sealed
// recording: the bundle a clerk would download, read from the object
// store and the records rather than from a zip file, so that
// evidence.Verify checks the stored objects themselves. A stored object
// that is missing is left out of Files, and Verify reports it.
type storedBundle struct {
	ctx   context.Context // the request's
	blob  blob.Store
	files map[string]int64
	small map[string][]byte // manifest.json, manifest.sig, manifest.tsr, public-key.pem, audit.jsonl
	media map[string]string // media/<key> → object key
	// opened counts the media files opened: the segments Verify read.
	opened int
}

var _ evidence.Source = (*storedBundle)(nil)

func (b *storedBundle) Files() map[string]int64 { return b.files }
func (b *storedBundle) Close() error            { return nil }

// Open opens a small file from memory, a media file from the object
// store.
func (b *storedBundle) Open(name string) (io.ReadCloser, error) {
	if data, ok := b.small[name]; ok {
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	key, ok := b.media[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	rc, _, err := b.blob.Get(b.ctx, key)
	if err != nil {
		return nil, err
	}
	b.opened++
	return rc, nil
}

// addSmall adds a small file; nil data (not stored) is left out.
func (b *storedBundle) addSmall(name string, data []byte) {
	if data != nil {
		b.small[name], b.files[name] = data, int64(len(data))
	}
}

// storedBundleOf gathers the stored bundle of a sealed recording: the
// manifest and signature objects, the key registered under the
// recording's key id, the session's audit extract from the log, and every
// segment object the manifest or the records name.
func (s *Server) storedBundleOf(ctx context.Context, rec *cases.Recording) (*storedBundle, error) {
	b := &storedBundle{ctx: ctx, blob: s.Recordings.Blob, files: map[string]int64{}, small: map[string][]byte{}, media: map[string]string{}}
	manifest, err := s.optionalObject(ctx, s.Recordings.ManifestKey(rec.SessionID))
	if err != nil {
		return nil, err
	}
	b.addSmall(evidence.ManifestFile, manifest)
	sig, err := s.optionalObject(ctx, s.Recordings.SignatureKey(rec.SessionID))
	if err != nil {
		return nil, err
	}
	b.addSmall(evidence.SignatureFile, sig)
	token, err := s.timestampToken(ctx, rec.SessionID)
	if err != nil {
		return nil, err
	}
	b.addSmall(evidence.TimestampFile, token)
	if k, err := s.signingKey(ctx, rec.KeyID); err != nil {
		return nil, err
	} else if k != nil {
		b.addSmall(evidence.PublicKeyFile, []byte(k.PublicPEM))
	}
	m, _ := evidence.DecodeManifest(manifest) // nil if absent or malformed: Verify says so
	lastSeq := int64(math.MaxInt64)
	if m != nil {
		lastSeq = m.Audit.LastSeq
	}
	extract, err := s.auditExtract(ctx, rec.SessionID, lastSeq)
	if err != nil {
		return nil, err
	}
	auditBytes, err := evidence.EncodeAudit(extract)
	if err != nil {
		return nil, err
	}
	b.addSmall(evidence.AuditFile, auditBytes)
	return b, s.statSegments(ctx, b, m, rec.SessionID)
}

// statSegments lists in b the stored segment objects that m or the
// records name, with their stored sizes.
func (s *Server) statSegments(ctx context.Context, b *storedBundle, m *evidence.Manifest, sessionID string) error {
	var keys []string
	if m != nil {
		for _, sg := range m.Segments {
			keys = append(keys, sg.Key)
		}
	}
	segs, err := s.Store.Segments(ctx, sessionID)
	if err != nil {
		return err
	}
	for _, sg := range segs {
		keys = append(keys, sg.Key)
	}
	for _, key := range keys {
		name := evidence.MediaDir + key
		if _, done := b.media[name]; done {
			continue
		}
		info, err := b.blob.Stat(ctx, key)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		} else if err != nil {
			return fmt.Errorf("stat %s: %w", key, err)
		}
		b.media[name], b.files[name] = key, info.Size
	}
	return nil
}

// optionalObject reads a small object; nil if it is not stored.
func (s *Server) optionalObject(ctx context.Context, key string) ([]byte, error) {
	b, err := s.readObject(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// signingKey is the registered key with id, or nil if there is none.
func (s *Server) signingKey(ctx context.Context, id string) (*cases.SigningKey, error) {
	keys, err := s.Store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return nil, nil
}

// verifyView is the answer of POST /api/v1/sessions/{id}/verify.
type verifyView struct {
	OK              bool         `json:"ok"`
	Summary         string       `json:"summary"`
	KeyID           string       `json:"key_id"`
	KeyFingerprint  string       `json:"key_fingerprint"`
	Node            string       `json:"node"`
	SealedAt        *time.Time   `json:"sealed_at"`
	ManifestSHA256  string       `json:"manifest_sha256"`
	ChainHead       string       `json:"chain_head"`
	SegmentsChecked int          `json:"segments_checked"`
	BytesChecked    int64        `json:"bytes_checked"`
	CheckedAt       time.Time    `json:"checked_at"`
	Problem         *problemView `json:"problem"`

	// Timestamp is the verified timestamp of the manifest, null when it
	// has none.
	Timestamp *timestampView `json:"timestamp"`
}

// problemView is the first problem found: its stable code (an
// evidence.ProblemKind, or manifest_mismatch) and a sentence.
type problemView struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// manifestMismatch is the code of a stored manifest that verifies but is
// not the one the records say was sealed.
const manifestMismatch = "manifest_mismatch"

// verifyRecording answers POST /api/v1/sessions/{id}/verify: the checks
// of `kuayang verify`, run by evidence.Verify on the stored objects
// (storedBundle), then whether the manifest is the one sealed. A problem
// is an answer (ok false), not an error. Audited as recording.verify with
// the result.
func (s *Server) verifyRecording(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, rec, err := s.sealedRecording(r.Context(), p, r.PathValue("id"), "it can be checked once it is sealed")
	if err != nil {
		return err
	}
	src, err := s.storedBundleOf(r.Context(), rec)
	if err != nil {
		return err
	}
	v := &verifyView{CheckedAt: s.now().UTC()}
	report, err := evidence.Verify(r.Context(), src, evidence.VerifyOptions{TSARoots: s.Recordings.TSARoots,
		Progress: func(done, _ int64) { v.BytesChecked = done }})
	var problem *evidence.Problem
	switch {
	case errors.As(err, &problem):
		v.Problem = &problemView{Code: string(problem.Kind), Detail: problem.Detail}
	case err != nil:
		return err
	default:
		v.Problem = checkSealed(src.small[evidence.ManifestFile], rec)
	}
	if err := s.describeVerify(r.Context(), v, rec, report, src.opened); err != nil {
		return err
	}
	e := p.entry("recording.verify")
	e.CaseID, e.SessionID = ss.CaseID, ss.ID
	e.Detail = detail(map[string]any{"ok": v.OK, "problem": problemCode(v.Problem), "segments": v.SegmentsChecked, "bytes": v.BytesChecked})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, v)
	return nil
}

// checkSealed compares a verified manifest with the SHA-256 the records
// kept when it was sealed: a manifest replaced by another one, signed
// with the same key, verifies but is not the evidence.
func checkSealed(manifest []byte, rec *cases.Recording) *problemView {
	sum := sha256.Sum256(manifest)
	if bytes.Equal(sum[:], rec.ManifestSHA) {
		return nil
	}
	return &problemView{Code: manifestMismatch, Detail: fmt.Sprintf(
		"manifest.json is validly signed but is not the manifest sealed for this session: its SHA-256 is %x, the records say %x", sum, rec.ManifestSHA)}
}

// describeVerify fills in what v says besides the problem: from the
// report when the stored bundle is intact, else from the records.
func (s *Server) describeVerify(ctx context.Context, v *verifyView, rec *cases.Recording, report *evidence.Report, opened int) error {
	v.OK = v.Problem == nil
	v.KeyID, v.ChainHead, v.SealedAt = rec.KeyID, rec.ChainHead, rec.SealedAt
	v.ManifestSHA256 = hex.EncodeToString(rec.ManifestSHA)
	v.SegmentsChecked = opened
	k, err := s.signingKey(ctx, rec.KeyID)
	if err != nil {
		return err
	}
	if k != nil {
		v.Node = k.Node
		if pub, err := evidence.ParsePublicPEM([]byte(k.PublicPEM)); err == nil {
			v.KeyFingerprint = evidence.Fingerprint(pub)
		}
	}
	if !v.OK {
		v.Summary = "not intact: " + v.Problem.Detail
		return nil
	}
	sealed := report.SealedAt.UTC()
	v.KeyID, v.KeyFingerprint, v.Node, v.SealedAt, v.ChainHead = report.KeyID, report.Fingerprint, report.Node, &sealed, report.ChainHead
	v.SegmentsChecked, v.BytesChecked = report.Segments, report.Bytes
	v.Summary = fmt.Sprintf("intact, signed by key %s of node %s at %s", report.KeyID, report.Node, sealed.Format(time.RFC3339))
	if t := report.Timestamp; t != nil {
		v.Timestamp = newTimestampView(t)
		v.Summary += fmt.Sprintf(", timestamped by %s at %s", t.Authority, t.Time.UTC().Format(time.RFC3339))
	}
	return nil
}

// problemCode is the code of p, or "" for none.
func problemCode(p *problemView) string {
	if p == nil {
		return ""
	}
	return p.Code
}
