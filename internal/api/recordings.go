package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
)

// Recordings serves recorded media and evidence bundles.
type Recordings struct {
	Blob blob.Store
	// MediaKey signs the short-lived links of the media proxy (for object
	// stores that cannot presign, such as files).
	MediaKey []byte
	// LinkTTL is how long a playback link lives (15 minutes when zero).
	LinkTTL time.Duration
	// ManifestKey and SignatureKey name a sealed session's objects.
	ManifestKey, SignatureKey func(sessionID string) string
	// TimestampKey names a sealed session's timestamp token
	// (manifest.tsr), stored when the node has a timestamp authority;
	// nil when timestamps are not kept.
	TimestampKey func(sessionID string) string
	// TSARoots are the timestamp authorities' roots that verify checks
	// tokens against; nil checks their signature, not who made them.
	TSARoots *x509.CertPool
	// Draft assembles from the records what the manifest of a session
	// that is not sealed would hold (archive.Draft): the timeline of such
	// a session. Presence still open ends at until, or stays open when
	// until is zero.
	Draft func(ctx context.Context, sessionID string, until time.Time) (*evidence.Manifest, error)
}

type segmentView struct {
	Index int `json:"index"`
	// Stream is "screen" for a segment of the participant's screen share,
	// omitted for their camera and microphone.
	Stream string `json:"stream,omitempty"`
	// Room is the private room the segment was recorded in; Sealed marks
	// such a segment, sealed to the mediator: for anyone but the
	// session's presider URL is empty.
	Room        string          `json:"room,omitempty"`
	Sealed      bool            `json:"sealed,omitempty"`
	Key         string          `json:"key"`
	Bytes       int64           `json:"bytes"`
	SHA256      string          `json:"sha256"`
	ContentType string          `json:"content_type"`
	WallStart   time.Time       `json:"wall_start"`
	WallEnd     time.Time       `json:"wall_end"`
	MediaStart  float64         `json:"media_start"`
	MediaEnd    float64         `json:"media_end"`
	Gaps        json.RawMessage `json:"gaps,omitempty"`
	URL         string          `json:"url"`
}

type recordedParticipant struct {
	ID            string        `json:"id"`
	Name          string        `json:"name"`
	Role          string        `json:"role"`
	InterpretsFor string        `json:"interprets_for,omitempty"`
	Duration      float64       `json:"duration_seconds"` // of the camera
	Screen        float64       `json:"screen_seconds,omitempty"`
	Segments      []segmentView `json:"segments"`
}

type recordingView struct {
	SessionID      string                `json:"session_id"`
	State          string                `json:"state"`
	StartedAt      time.Time             `json:"started_at"`
	EndedAt        *time.Time            `json:"ended_at,omitempty"`
	SealedAt       *time.Time            `json:"sealed_at,omitempty"`
	ManifestSHA256 string                `json:"manifest_sha256,omitempty"`
	ChainHead      string                `json:"chain_head,omitempty"`
	KeyID          string                `json:"key_id,omitempty"`
	RetainUntil    *time.Time            `json:"retain_until,omitempty"`
	LegalHold      bool                  `json:"legal_hold"`
	Failure        string                `json:"failure,omitempty"`
	Participants   []recordedParticipant `json:"participants"`
	LinksExpire    time.Time             `json:"links_expire"`
}

func (s *Server) linkTTL() time.Duration {
	if s.Recordings.LinkTTL == 0 {
		return 15 * time.Minute
	}
	return s.Recordings.LinkTTL
}

// listRecordings answers GET /api/v1/sessions/{id}/recordings: the state
// of the recording and every participant's segments with playback links.
// The links are the access: audited as recording.view, or with ?play=1
// (the player asking for them) as recording.play.
func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request, p *principal) error {
	action := "recording.view"
	switch r.URL.Query().Get("play") {
	case "", "0":
	case "1":
		action = "recording.play"
	default:
		return apiError(http.StatusBadRequest, "invalid", "play must be 1 or 0")
	}
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	rec, err := s.Store.Recording(r.Context(), ss.ID)
	if errors.Is(err, store.ErrNotFound) {
		return apiError(http.StatusNotFound, "no_recording", "this session has no recording (yet)")
	} else if err != nil {
		return err
	}
	mediator, err := s.presides(r.Context(), p, ss.CaseID)
	if err != nil {
		return err
	}
	v, sealed, err := s.viewRecording(r.Context(), rec, mediator)
	if err != nil {
		return err
	}
	e := p.entry(action)
	e.CaseID, e.SessionID = ss.CaseID, ss.ID
	e.Detail = sealedDetail(nil, sealed, mediator)
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, v)
	return nil
}

// presides reports whether p's account presides over a session of the
// case (takes part in it as mediator, notary or judge: cases.Presider):
// the session's mediator, to whom what is said in a recorded private
// room is sealed. An admin's role does not make them one.
func (s *Server) presides(ctx context.Context, p *principal, caseID string) (bool, error) {
	sums, err := s.Store.CaseSummaries(ctx, []string{caseID})
	if err != nil {
		return false, err
	}
	if sum := sums[caseID]; sum != nil {
		for _, pr := range sum.Presiders {
			if pr.AccountID == p.account.ID {
				return true, nil
			}
		}
	}
	return false, nil
}

// sealedDetail adds to an audit detail (kv, may be nil) how many segments
// sealed to the mediator the access concerned: served to the mediator, or
// withheld from anyone else. Empty when kv is empty and there are none.
func sealedDetail(kv map[string]any, sealed int, mediator bool) string {
	if sealed > 0 {
		if kv == nil {
			kv = map[string]any{}
		}
		if mediator {
			kv["sealed_served"] = sealed
		} else {
			kv["sealed_withheld"] = sealed
		}
	}
	if len(kv) == 0 {
		return ""
	}
	return detail(kv)
}

// CodeSealedToMediator refuses the media of a segment recorded in a
// private room to anyone but the session's mediator.
const CodeSealedToMediator = "sealed_to_mediator"

// playSegment answers GET /api/v1/sessions/{id}/segments/{participant}/{index}:
// a redirect (303) to a short-lived link to the segment's media, audited
// as recording.play. A segment sealed to the mediator (recorded in a
// private room) is refused to anyone but the session's presider with 403
// sealed_to_mediator, and the refusal is audited too.
func (s *Server) playSegment(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	pid := r.PathValue("participant")
	index, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || index < 0 {
		return apiError(http.StatusBadRequest, "invalid", "index must be a segment's number")
	}
	segs, err := s.Store.Segments(r.Context(), ss.ID)
	if err != nil {
		return err
	}
	var sg *cases.Segment
	for _, x := range segs {
		if x.ParticipantID == pid && x.Index == index {
			sg = x
		}
	}
	if sg == nil {
		return apiError(http.StatusNotFound, "no_segment", "this session has no such segment")
	}
	kv := map[string]any{"participant": pid, "index": index}
	if sg.Stream != "" {
		kv["stream"] = sg.Stream
	}
	e := p.entry("recording.play")
	e.CaseID, e.SessionID = ss.CaseID, ss.ID
	if sg.Room != "" {
		kv["room"] = sg.Room
		mediator, err := s.presides(r.Context(), p, ss.CaseID)
		if err != nil {
			return err
		}
		if !mediator {
			kv["refused"] = CodeSealedToMediator
			e.Detail = detail(kv)
			s.record(r.Context(), e)
			return apiError(http.StatusForbidden, CodeSealedToMediator,
				"this segment was recorded in a private room and is sealed to the session's mediator")
		}
	}
	url, err := s.mediaURL(r.Context(), sg.Key)
	if err != nil {
		return err
	}
	e.Detail = detail(kv)
	s.record(r.Context(), e)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, url, http.StatusSeeOther)
	return nil
}

// viewRecording lists rec's segments with playback links; the media of a
// segment sealed to the mediator is linked only for the mediator. It
// returns how many sealed segments there are.
func (s *Server) viewRecording(ctx context.Context, rec *cases.Recording, mediator bool) (*recordingView, int, error) {
	v := &recordingView{SessionID: rec.SessionID, State: rec.State, StartedAt: rec.StartedAt, EndedAt: rec.EndedAt,
		SealedAt: rec.SealedAt, ChainHead: rec.ChainHead, KeyID: rec.KeyID, LegalHold: rec.LegalHold, Failure: rec.Failure,
		Participants: []recordedParticipant{}, LinksExpire: s.now().Add(s.linkTTL()).UTC()}
	if len(rec.ManifestSHA) > 0 {
		v.ManifestSHA256 = hex.EncodeToString(rec.ManifestSHA)
	}
	if !rec.RetainUntil.IsZero() {
		v.RetainUntil = &rec.RetainUntil
	}
	parts, err := s.Store.ParticipantsOfSession(ctx, rec.SessionID)
	if err != nil {
		return nil, 0, err
	}
	segs, err := s.Store.Segments(ctx, rec.SessionID)
	if err != nil {
		return nil, 0, err
	}
	sealed := 0
	for _, pt := range parts {
		rp := recordedParticipant{ID: pt.ID, Name: pt.DisplayName, Role: string(pt.Role), InterpretsFor: pt.InterpretsFor,
			Segments: []segmentView{}}
		for _, sg := range segs {
			if sg.ParticipantID != pt.ID {
				continue
			}
			sv, err := s.viewSegment(ctx, sg, sg.Room == "" || mediator)
			if err != nil {
				return nil, 0, err
			}
			if sg.Room != "" {
				sealed++
			}
			rp.Segments = append(rp.Segments, sv)
			if sg.Stream == "" {
				rp.Duration += (sg.MediaEnd - sg.MediaStart).Seconds()
			} else {
				rp.Screen += (sg.MediaEnd - sg.MediaStart).Seconds()
			}
		}
		if len(rp.Segments) > 0 {
			v.Participants = append(v.Participants, rp)
		}
	}
	return v, sealed, nil
}

// viewSegment describes sg, with a playback link if linked.
func (s *Server) viewSegment(ctx context.Context, sg *cases.Segment, linked bool) (segmentView, error) {
	var url string
	if linked {
		var err error
		if url, err = s.mediaURL(ctx, sg.Key); err != nil {
			return segmentView{}, err
		}
	}
	sv := segmentView{Index: sg.Index, Stream: sg.Stream, Room: sg.Room, Sealed: sg.Room != "", Key: sg.Key, Bytes: sg.Bytes, SHA256: hex.EncodeToString(sg.SHA256),
		ContentType: sg.ContentType, WallStart: sg.WallStart, WallEnd: sg.WallEnd, MediaStart: sg.MediaStart.Seconds(),
		MediaEnd: sg.MediaEnd.Seconds(), URL: url}
	if sg.Gaps != "" {
		sv.Gaps = json.RawMessage(sg.Gaps)
	}
	return sv, nil
}

// mediaURL is a short-lived link to an object: presigned by the object
// store when it can, else a signed link to this node's media proxy.
func (s *Server) mediaURL(ctx context.Context, key string) (string, error) {
	u, err := s.Recordings.Blob.URL(ctx, key, s.linkTTL())
	if !errors.Is(err, blob.ErrNoURL) {
		return u, err
	}
	exp := s.now().Add(s.linkTTL()).Unix()
	payload := strconv.FormatInt(exp, 10) + "." + key
	tok := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + s.mediaMAC(payload)
	return strings.TrimSuffix(s.PublicURL(), "/") + "/api/v1/media/" + tok, nil
}

func (s *Server) mediaMAC(payload string) string {
	m := hmac.New(sha256.New, s.Recordings.MediaKey)
	m.Write([]byte("kuayang media link\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// media answers GET /api/v1/media/{token}: the object a signed link names,
// with range requests, while the link lives. The listing that issued the
// link was audited.
func (s *Server) media(w http.ResponseWriter, r *http.Request) {
	key, err := s.checkMediaToken(r.PathValue("token"))
	if err != nil {
		writeError(w, s.Log, r, err)
		return
	}
	rc, info, err := s.Recordings.Blob.Get(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		writeError(w, s.Log, r, errNotFound)
		return
	} else if err != nil {
		writeError(w, s.Log, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", info.ContentType)
	w.Header().Set("Cache-Control", "private, max-age=600")
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", info.Modified, rs)
		return
	}
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	_, _ = io.Copy(w, rc)
}

func (s *Server) checkMediaToken(tok string) (string, error) {
	bad := apiError(http.StatusNotFound, "link_invalid", "this media link is not valid")
	enc, mac, ok := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || !hmac.Equal([]byte(mac), []byte(s.mediaMAC(string(raw)))) {
		return "", bad
	}
	expStr, key, _ := strings.Cut(string(raw), ".")
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil {
		return "", bad
	}
	if s.now().Unix() > exp {
		return "", apiError(http.StatusGone, "link_expired", "this media link has expired; open the recording again")
	}
	return key, nil
}

// bundle answers GET /api/v1/sessions/{id}/bundle: the evidence bundle of
// a sealed session as a zip, streamed, with its exact Content-Length
// (evidence.BundleSize) so that a browser shows the download's progress.
// Roles with RecordingExport may export it, and the session's presider:
// only the presider's bundle holds the media of the segments sealed to
// the mediator; anyone else's leaves it out.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request, p *principal) error {
	forbidden := apiError(http.StatusForbidden, "forbidden", "your role may not do this")
	exporter := auth.Allowed(p.account.Role, auth.RecordingExport)
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		if !exporter && errors.Is(err, errNotFound) {
			return forbidden // the role is refused first, as for any route
		}
		return err
	}
	mediator, err := s.presides(r.Context(), p, ss.CaseID)
	if err != nil {
		return err
	}
	if !mediator && !exporter {
		return forbidden
	}
	ss, rec, err := s.sealedRecording(r.Context(), p, r.PathValue("id"), "the bundle exists once it is sealed")
	if err != nil {
		return err
	}
	src, err := s.bundleSource(r.Context(), rec)
	if err != nil {
		return err
	}
	src.WithSealed = mediator
	sealed, err := s.sealedSegments(r.Context(), ss.ID)
	if err != nil {
		return err
	}
	c, err := s.Store.Case(r.Context(), ss.CaseID)
	if err != nil {
		return err
	}
	size, err := evidence.BundleSize(r.Context(), *src)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, bundleName(c, ss)))
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	if r.Method == http.MethodHead {
		return nil // the size, without the export
	}
	e := p.entry("recording.export")
	e.CaseID, e.SessionID = ss.CaseID, ss.ID
	e.Detail = sealedDetail(map[string]any{"manifest_sha256": hex.EncodeToString(rec.ManifestSHA)}, sealed, mediator)
	s.record(r.Context(), e)
	if err := evidence.WriteBundle(r.Context(), w, *src); err != nil {
		s.Log.Error("evidence bundle failed mid-stream", "session", ss.ID, "err", err)
		// The zip is incomplete: abort the response so that the client
		// sees a failed download, not a short file (net/http's own way).
		panic(http.ErrAbortHandler)
	}
	return nil
}

// sealedSegments counts the session's segments sealed to the mediator.
func (s *Server) sealedSegments(ctx context.Context, sessionID string) (int, error) {
	segs, err := s.Store.Segments(ctx, sessionID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sg := range segs {
		if sg.Room != "" {
			n++
		}
	}
	return n, nil
}

// sealedRecording loads a session of p's organization and its recording,
// which must be sealed; what says what waits for the seal.
func (s *Server) sealedRecording(ctx context.Context, p *principal, id, what string) (*cases.Session, *cases.Recording, error) {
	ss, err := s.sessionOf(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	rec, err := s.Store.Recording(ctx, ss.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, apiError(http.StatusNotFound, "no_recording", "this session has no recording")
	} else if err != nil {
		return nil, nil, err
	}
	if rec.State != cases.RecordingSealed {
		return nil, nil, apiError(http.StatusConflict, "not_sealed", "the recording is %s; %s", rec.State, what)
	}
	return ss, rec, nil
}

// storedManifest reads and decodes the manifest of a sealed recording.
func (s *Server) storedManifest(ctx context.Context, rec *cases.Recording) (*evidence.Manifest, []byte, error) {
	b, err := s.readObject(ctx, s.Recordings.ManifestKey(rec.SessionID))
	if err != nil {
		return nil, nil, err
	}
	m, err := evidence.DecodeManifest(b)
	if err != nil {
		return nil, nil, err
	}
	return m, b, nil
}

// bundleSource gathers what a bundle holds: the signed manifest, the
// public key and the audit extract the manifest names.
func (s *Server) bundleSource(ctx context.Context, rec *cases.Recording) (*evidence.BundleSource, error) {
	manifest, err := s.readObject(ctx, s.Recordings.ManifestKey(rec.SessionID))
	if err != nil {
		return nil, err
	}
	sig, err := s.readObject(ctx, s.Recordings.SignatureKey(rec.SessionID))
	if err != nil {
		return nil, err
	}
	m, err := evidence.DecodeManifest(manifest)
	if err != nil {
		return nil, err
	}
	pem, err := s.publicKey(ctx, rec.KeyID)
	if err != nil {
		return nil, err
	}
	extract, err := s.auditExtract(ctx, rec.SessionID, m.Audit.LastSeq)
	if err != nil {
		return nil, err
	}
	open := func(ctx context.Context, key string) (io.ReadCloser, error) {
		rc, _, err := s.Recordings.Blob.Get(ctx, key)
		return rc, err
	}
	token, err := s.timestampToken(ctx, rec.SessionID)
	if err != nil {
		return nil, err
	}
	return &evidence.BundleSource{Manifest: manifest, Signature: sig, PublicKeyPEM: pem, Audit: extract, Timestamp: token, Open: open}, nil
}

// auditExtract is the audit extract of a sealed session: its entries up to
// the last entry of the log at sealing, read page by page.
func (s *Server) auditExtract(ctx context.Context, sessionID string, lastSeq int64) ([]*audit.Entry, error) {
	var out []*audit.Entry
	f := audit.Filter{SessionID: sessionID, Limit: 10000}
	for {
		page, err := s.Store.AuditEntries(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if e.Seq > lastSeq {
				return out, nil
			}
			out = append(out, e)
		}
		if len(page) < f.Limit {
			return out, nil
		}
		f.AfterSeq = page[len(page)-1].Seq
	}
}

func (s *Server) readObject(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := s.Recordings.Blob.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 64<<20))
}

// publicKey is the PEM of the registered key with id.
func (s *Server) publicKey(ctx context.Context, id string) ([]byte, error) {
	k, err := s.signingKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fmt.Errorf("signing key %s is not registered", id)
	}
	return []byte(k.PublicPEM), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// bundleName is the download's file name: case number and session, in
// characters every file system accepts.
func bundleName(c *cases.Case, ss *cases.Session) string {
	n := strings.Trim(unsafeName.ReplaceAllString(c.Number, "-"), "-")
	if n == "" {
		n = "case"
	}
	return "kuayang-" + n + "-" + ss.ID[:min(8, len(ss.ID))] + ".zip"
}

type keyView struct {
	ID          string    `json:"id"`
	Node        string    `json:"node"`
	Fingerprint string    `json:"fingerprint"`
	PublicPEM   string    `json:"public_pem"`
	CreatedAt   time.Time `json:"created_at"`
}

// keys answers GET /api/v1/keys: every manifest signing key ever used, so
// that anyone can check a bundle's key against the court's own list.
func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.Store.SigningKeys(r.Context())
	if err != nil {
		writeError(w, s.Log, r, err)
		return
	}
	views := make([]keyView, 0, len(keys))
	for _, k := range keys {
		pub, err := evidence.ParsePublicPEM([]byte(k.PublicPEM))
		if err != nil {
			s.Log.Error("stored signing key unreadable", "key", k.ID, "err", err)
			continue
		}
		views = append(views, keyView{ID: k.ID, Node: k.Node, Fingerprint: evidence.Fingerprint(pub), PublicPEM: k.PublicPEM, CreatedAt: k.CreatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": views})
}

type legalHoldRequest struct {
	On *bool `json:"on"`
}

// legalHold answers POST /api/v1/sessions/{id}/legal-hold {"on": bool}:
// a sealed recording's objects (segments, manifest, signature) are put on
// or taken off legal hold, so that they outlive their retention while a
// matter is pending.
func (s *Server) legalHold(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req legalHoldRequest
	if e := decode(w, r, &req); e != nil {
		return e
	}
	if req.On == nil {
		return apiError(http.StatusBadRequest, "invalid", "on (true or false) is required")
	}
	rec, err := s.Store.Recording(r.Context(), ss.ID)
	if errors.Is(err, store.ErrNotFound) {
		return apiError(http.StatusNotFound, "no_recording", "this session has no recording")
	} else if err != nil {
		return err
	}
	if rec.State != cases.RecordingSealed {
		return apiError(http.StatusConflict, "not_sealed", "the recording is %s; legal hold applies once it is sealed", rec.State)
	}
	if err := s.holdObjects(r.Context(), rec, *req.On); err != nil {
		return err
	}
	rec.LegalHold = *req.On
	if err := s.Store.PutRecording(r.Context(), rec); err != nil {
		return err
	}
	e := p.entry("recording.legal_hold")
	e.CaseID, e.SessionID, e.Detail = ss.CaseID, ss.ID, fmt.Sprintf(`{"on":%t}`, *req.On)
	s.record(r.Context(), e)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) holdObjects(ctx context.Context, rec *cases.Recording, on bool) error {
	segs, err := s.Store.Segments(ctx, rec.SessionID)
	if err != nil {
		return err
	}
	keys := []string{s.Recordings.ManifestKey(rec.SessionID), s.Recordings.SignatureKey(rec.SessionID)}
	if token, err := s.timestampToken(ctx, rec.SessionID); err != nil {
		return err
	} else if token != nil {
		keys = append(keys, s.Recordings.TimestampKey(rec.SessionID))
	}
	for _, sg := range segs {
		keys = append(keys, sg.Key)
	}
	for _, k := range keys {
		if err := s.Recordings.Blob.SetLegalHold(ctx, k, on); err != nil {
			return fmt.Errorf("legal hold on %s: %w", k, err)
		}
	}
	return nil
}
