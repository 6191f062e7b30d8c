package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/identity"
	"github.com/kuayang/kuayang/internal/identity/mrz"
	"github.com/kuayang/kuayang/internal/store"
)

// Identity is what the identity verification routes need.
type Identity struct {
	Blob blob.Store
	Keys *identity.Keyring
	// Provider is the external face-verification service; nil when none
	// is configured (the presider decides alone).
	Provider *identity.HTTPVerifier
	// CallbackWindow bounds the age of a provider callback's timestamp
	// (5 minutes when zero).
	CallbackWindow time.Duration
	// Changed, when set, is told of every change of a check (the
	// signaling server's identity message to the presiders and the
	// person).
	Changed func(sessionID, participantID, checkID, state string)
}

// changed reports a check's change to Identity.Changed.
func (s *Server) changed(c *cases.IdentityCheck) {
	if s.Identity.Changed != nil {
		s.Identity.Changed(c.SessionID, c.ParticipantID, c.ID, c.State)
	}
}

// Limits of a check's images.
const (
	maxImagesPerCheck = 24
	maxFramesPerStep  = 3
	livenessSteps     = 3
)

// livenessPrompts are the prompts a liveness challenge draws from; the
// call page shows each in the person's language.
var livenessPrompts = []string{"turn_left", "turn_right", "look_up", "blink", "smile"}

// identityRoutes registers the identity verification routes.
func (s *Server) identityRoutes(mux *http.ServeMux) {
	if s.Identity == nil {
		return
	}
	mux.Handle("GET /api/v1/call/{id}/identity", s.participantOf(s.myIdentity))
	mux.Handle("POST /api/v1/call/{id}/identity/consent", s.participantOf(s.identityConsent))
	mux.Handle("POST /api/v1/call/{id}/identity/images", s.participantOf(s.identityUpload))
	mux.Handle("POST /api/v1/call/{id}/identity/mrz", s.participantOf(s.identityMRZ))
	mux.Handle("POST /api/v1/call/{id}/identity/submit", s.participantOf(s.identitySubmit))
	mux.Handle("POST /api/v1/call/{id}/identity/request", s.participantOf(s.identityRequest))
	mux.Handle("GET /api/v1/call/{id}/identity/checks", s.participantOf(s.identityChecks))
	mux.Handle("GET /api/v1/call/{id}/identity/checks/{check}/images/{n}", s.participantOf(s.identityImageForPresider))
	mux.Handle("POST /api/v1/call/{id}/identity/checks/{check}/decision", s.participantOf(s.identityDecision))
	mux.Handle("GET /api/v1/sessions/{id}/identity", s.staff(auth.CaseRead, s.staffIdentityChecks))
	mux.Handle("PUT /api/v1/sessions/{id}/identity", s.staff(auth.SessionCreate, s.setIdentityRequired))
	mux.Handle("GET /api/v1/sessions/{id}/identity/checks/{check}/images/{n}", s.staff(auth.CaseRead, s.staffIdentityImage))
	mux.Handle("GET /api/v1/identity/policy", s.staff(auth.CaseRead, s.getIdentityPolicy))
	mux.Handle("PUT /api/v1/identity/policy", s.staff(auth.AccountRead, s.putIdentityPolicy))
	mux.HandleFunc("POST /api/v1/identity/callback", s.identityCallback)
}

// Identity check views.
type checkView struct {
	ID            string          `json:"id"`
	ParticipantID string          `json:"participant_id"`
	Participant   string          `json:"participant,omitempty"`
	Role          string          `json:"role,omitempty"`
	State         string          `json:"state"`
	Requested     bool            `json:"requested"` // by a presider, rather than by the session
	ConsentAt     *time.Time      `json:"consent_at,omitempty"`
	RefusedAt     *time.Time      `json:"refused_at,omitempty"`
	DocumentType  string          `json:"document_type,omitempty"`
	MRZ           json.RawMessage `json:"mrz,omitempty"`
	MRZMasked     bool            `json:"mrz_masked"`
	Challenge     []string        `json:"challenge"`
	Images        []imageView     `json:"images"`
	Provider      *providerView   `json:"provider,omitempty"`
	Decision      string          `json:"decision,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	DecidedBy     string          `json:"decided_by,omitempty"`
	DecidedAt     *time.Time      `json:"decided_at,omitempty"`
	SubmittedAt   *time.Time      `json:"submitted_at,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
}

type imageView struct {
	Index   int    `json:"index"`
	Kind    string `json:"kind"`
	Step    int    `json:"step"`
	Prompt  string `json:"prompt,omitempty"`
	SHA256  string `json:"sha256"`
	Bytes   int64  `json:"bytes"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Deleted bool   `json:"deleted,omitempty"`
}

type providerView struct {
	Name      string   `json:"name"`
	State     string   `json:"state"`
	Score     *float64 `json:"score,omitempty"`
	Reference string   `json:"reference,omitempty"`
}

func (s *Server) viewCheck(ctx context.Context, c *cases.IdentityCheck, part *cases.Participant) (*checkView, error) {
	v := &checkView{ID: c.ID, ParticipantID: c.ParticipantID, State: c.State, Requested: c.RequestedBy != "",
		ConsentAt: c.ConsentAt, RefusedAt: c.RefusedAt, DocumentType: c.DocumentType, MRZMasked: !c.MRZRaw,
		Challenge: challenge(c), Images: []imageView{}, Decision: c.Decision, Reason: c.Reason,
		DecidedBy: c.DecidedByName, DecidedAt: c.DecidedAt, SubmittedAt: c.SubmittedAt, CreatedAt: c.CreatedAt}
	if part != nil {
		v.Participant, v.Role = part.DisplayName, string(part.Role)
	}
	if c.MRZ != "" {
		v.MRZ = json.RawMessage(c.MRZ)
	}
	if c.Provider != "" {
		v.Provider = &providerView{Name: c.Provider, State: c.ProviderState, Score: c.ProviderScore, Reference: c.ProviderRef}
	}
	imgs, err := s.Store.IdentityImages(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, i := range imgs {
		v.Images = append(v.Images, imageView{Index: i.Index, Kind: i.Kind, Step: i.Step, Prompt: i.Prompt,
			SHA256: fmt.Sprintf("%x", i.SHA256), Bytes: i.Bytes, Width: i.Width, Height: i.Height, Deleted: i.DeletedAt != nil})
	}
	return v, nil
}

func challenge(c *cases.IdentityCheck) []string {
	out := []string{}
	if c.Challenge != "" {
		_ = json.Unmarshal([]byte(c.Challenge), &out)
	}
	return out
}

// newChallenge draws livenessSteps distinct prompts in random order.
func newChallenge() []string {
	p := append([]string(nil), livenessPrompts...)
	for i := len(p) - 1; i > 0; i-- {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		p[i], p[j.Int64()] = p[j.Int64()], p[i]
	}
	return p[:livenessSteps]
}

// identityRequired reports whether the session requires its parties and
// interpreters to verify their identity: the session's own setting, else
// yes for notarization cases.
func (s *Server) identityRequired(ctx context.Context, sess *cases.Session) (bool, error) {
	return identityRequired(ctx, s.Store, sess, nil)
}

// identityRequired is Server.identityRequired for any holder of the
// store; c is the session's case, loaded when nil.
func identityRequired(ctx context.Context, st store.Store, sess *cases.Session, c *cases.Case) (bool, error) {
	req, set, err := st.IdentityRequired(ctx, sess.ID)
	if err != nil || set {
		return req, err
	}
	if c == nil {
		if c, err = st.Case(ctx, sess.CaseID); err != nil {
			return false, err
		}
	}
	return c.Kind == cases.KindNotarization, nil
}

// verifiable reports whether a role is asked to verify its identity.
func verifiable(r cases.Role) bool { return r == cases.RoleParty || r == cases.RoleInterpreter }

// latestCheck returns the participant's latest check, or nil.
func (s *Server) latestCheck(ctx context.Context, sessionID, participantID string) (*cases.IdentityCheck, error) {
	list, err := s.Store.IdentityChecksOfSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var last *cases.IdentityCheck
	for _, c := range list {
		if c.ParticipantID == participantID {
			last = c
		}
	}
	return last, nil
}

// awaiting reports whether a check still waits for the person.
func awaiting(c *cases.IdentityCheck) bool {
	return c != nil && (c.State == cases.CheckRequested || c.State == cases.CheckConsented)
}

type myIdentityResponse struct {
	Required bool       `json:"required"`
	Check    *checkView `json:"check"`
	// RetentionDays is how long the images are kept after the session,
	// for the consent text.
	RetentionDays int `json:"retention_days"`
}

// myIdentity answers GET /api/v1/call/{id}/identity: whether the caller
// must verify their identity, and their latest check.
func (s *Server) myIdentity(w http.ResponseWriter, r *http.Request, p *party) error {
	resp := myIdentityResponse{}
	if verifiable(p.participant.Role) {
		req, err := s.identityRequired(r.Context(), p.session)
		if err != nil {
			return err
		}
		c, err := s.latestCheck(r.Context(), p.session.ID, p.participant.ID)
		if err != nil {
			return err
		}
		resp.Required = req || awaiting(c)
		pol, err := s.identityPolicy(r.Context(), p.session.OrgID)
		if err != nil {
			return err
		}
		resp.RetentionDays = pol.RetentionDays()
		if c != nil {
			if resp.Check, err = s.viewCheck(r.Context(), c, nil); err != nil {
				return err
			}
			resp.Check.Provider = nil // advice for the presider
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

var (
	errNotVerifiable = apiError(http.StatusForbidden, "forbidden", "only parties and interpreters verify their identity")
	errNotRequested  = apiError(http.StatusConflict, "identity_not_requested", "identity verification is not required or requested in this session")
	errNoConsent     = apiError(http.StatusConflict, "identity_no_consent", "consent to the processing of your face and document images first")
	errSessionEnded  = apiError(http.StatusConflict, "session_ended", "this session has ended")
)

// ended reports whether the session is over: nothing more is captured.
func ended(sess *cases.Session) bool { return sess.State == "ended" || sess.EndedAt != nil }

// currentCheck returns the caller's open check for capturing: consented,
// not yet submitted.
func (s *Server) currentCheck(ctx context.Context, p *party) (*cases.IdentityCheck, error) {
	if !verifiable(p.participant.Role) {
		return nil, errNotVerifiable
	}
	if ended(p.session) {
		return nil, errSessionEnded
	}
	c, err := s.latestCheck(ctx, p.session.ID, p.participant.ID)
	if err != nil {
		return nil, err
	}
	if c == nil || c.State != cases.CheckConsented {
		return nil, errNoConsent
	}
	return c, nil
}

type consentRequest struct {
	Consent bool `json:"consent"`
}

// identityConsent answers POST /api/v1/call/{id}/identity/consent: the
// person's biometric consent, or refusal. Either is recorded and audited;
// a consent starts the capture with a new liveness challenge.
func (s *Server) identityConsent(w http.ResponseWriter, r *http.Request, p *party) error {
	var req consentRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	if !verifiable(p.participant.Role) {
		return errNotVerifiable
	}
	if ended(p.session) {
		return errSessionEnded
	}
	c, err := s.latestCheck(ctx, p.session.ID, p.participant.ID)
	if err != nil {
		return err
	}
	if req.Consent && c != nil && c.State == cases.CheckConsented {
		// Consent given twice: the capture under way and its challenge
		// stay as they are.
		v, err := s.viewCheck(ctx, c, nil)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
	if !awaiting(c) {
		required, err := s.identityRequired(ctx, p.session)
		if err != nil {
			return err
		}
		if !required {
			return errNotRequested
		}
		if c != nil && c.State == cases.CheckSubmitted {
			return apiError(http.StatusConflict, "identity_submitted", "your identity check was sent and waits for the presider")
		}
		if c != nil && c.State == cases.CheckVerified {
			return apiError(http.StatusConflict, "identity_verified", "your identity is already verified")
		}
		c = &cases.IdentityCheck{ID: store.NewID(), SessionID: p.session.ID, CaseID: p.session.CaseID,
			OrgID: p.session.OrgID, ParticipantID: p.participant.ID, State: cases.CheckRequested, CreatedAt: s.now()}
		if err := s.Store.CreateIdentityCheck(ctx, c); err != nil {
			return err
		}
	}
	now := s.now()
	action := "identity.consent"
	if req.Consent {
		ch, _ := json.Marshal(newChallenge())
		c.State, c.ConsentAt, c.RefusedAt, c.Challenge = cases.CheckConsented, &now, nil, string(ch)
	} else {
		c.State, c.RefusedAt = cases.CheckRefused, &now
		action = "identity.consent_refused"
	}
	if err := s.Store.UpdateIdentityCheck(ctx, c); err != nil {
		return err
	}
	e := p.entry(action)
	e.Detail = detail(map[string]any{"check": c.ID, "participant": p.participant.ID})
	s.record(ctx, e)
	s.changed(c)
	v, err := s.viewCheck(ctx, c, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// identityUpload answers POST /api/v1/call/{id}/identity/images?kind=…:
// one image, checked by its content, encrypted and stored.
func (s *Server) identityUpload(w http.ResponseWriter, r *http.Request, p *party) error {
	ctx := r.Context()
	q := r.URL.Query()
	kind := q.Get("kind")
	img := &cases.IdentityImage{Kind: kind}
	docType := q.Get("document_type")
	switch kind {
	case cases.ImageDocumentFront, cases.ImageDocumentBack:
		if docType != cases.DocPassport && docType != cases.DocIDCard {
			return apiError(http.StatusBadRequest, "invalid", "document_type must be passport or id_card")
		}
		if docType == cases.DocPassport && kind == cases.ImageDocumentBack {
			return apiError(http.StatusBadRequest, "invalid", "a passport has one data page: send it as document_front")
		}
	case cases.ImageFace:
	default:
		return apiError(http.StatusBadRequest, "invalid", "kind must be document_front, document_back or face")
	}
	c, err := s.currentCheck(ctx, p)
	if err != nil {
		return err
	}
	if kind == cases.ImageFace {
		steps := challenge(c)
		n, err := strconv.Atoi(q.Get("step"))
		if err != nil || n < 0 || n >= len(steps) {
			return apiError(http.StatusBadRequest, "invalid", "step must name a prompt of the liveness challenge (0 to %d)", len(steps)-1)
		}
		img.Step, img.Prompt = n, steps[n]
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, identity.MaxImageBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apiError(http.StatusRequestEntityTooLarge, identity.CodeImageTooLarge, "an image may be at most %d bytes", identity.MaxImageBytes)
	} else if err != nil {
		return apiError(http.StatusBadRequest, "bad_request", "the image could not be read")
	}
	info, err := identity.Sniff(body)
	var ie *identity.ImageError
	if errors.As(err, &ie) {
		status := http.StatusBadRequest
		if ie.Code == identity.CodeImageTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		return apiError(status, ie.Code, "%s", ie.Detail)
	}
	imgs, err := s.Store.IdentityImages(ctx, c.ID)
	if err != nil {
		return err
	}
	if len(imgs) >= maxImagesPerCheck {
		return apiError(http.StatusConflict, "too_many_images", "a check holds at most %d images", maxImagesPerCheck)
	}
	if kind == cases.ImageFace {
		n := 0
		for _, i := range imgs {
			if i.Kind == cases.ImageFace && i.Step == img.Step {
				n++
			}
		}
		if n >= maxFramesPerStep {
			return apiError(http.StatusConflict, "too_many_images", "at most %d frames per liveness prompt", maxFramesPerStep)
		}
	} else if c.DocumentType != docType {
		c.DocumentType = docType
		if err := s.Store.UpdateIdentityCheck(ctx, c); err != nil {
			return err
		}
	}
	sum := sha256.Sum256(body)
	img.CheckID = c.ID
	img.SHA256, img.Bytes, img.ContentType, img.Width, img.Height = sum[:], int64(len(body)), info.ContentType, info.Width, info.Height
	// The object store is write-once: an object left by an upload that
	// was cut short (or running at the same time) keeps its key, and
	// this one takes the next.
	for attempt := 0; ; attempt++ {
		img.Index = len(imgs) + attempt
		img.Key = fmt.Sprintf("cases/%s/identity/%s/%d.enc", c.CaseID, c.ID, img.Index)
		sealed, wrapped, err := s.Identity.Keys.Seal(body, img.Key)
		if err != nil {
			return err
		}
		ssum := sha256.Sum256(sealed)
		_, err = s.Identity.Blob.Put(ctx, img.Key, bytes.NewReader(sealed), int64(len(sealed)), ssum[:],
			blob.PutOptions{ContentType: "application/octet-stream"})
		if errors.Is(err, blob.ErrExists) && attempt < 3 {
			continue
		} else if errors.Is(err, blob.ErrExists) {
			return apiError(http.StatusConflict, "conflict", "another image was stored at the same time; send it again")
		} else if err != nil {
			return fmt.Errorf("identity image %s: %w", img.Key, err)
		}
		img.WrappedKey = wrapped
		break
	}
	img.KeyID, img.CreatedAt = s.Identity.Keys.ID(), s.now()
	if err := s.Store.AddIdentityImage(ctx, img); errors.Is(err, store.ErrConflict) {
		return apiError(http.StatusConflict, "conflict", "another image was stored at the same time; send it again")
	} else if err != nil {
		return err
	}
	e := p.entry("identity.capture")
	e.Detail = detail(map[string]any{"check": c.ID, "index": img.Index, "kind": kind, "step": img.Step,
		"sha256": fmt.Sprintf("%x", img.SHA256), "bytes": img.Bytes})
	s.record(ctx, e)
	writeJSON(w, http.StatusCreated, imageView{Index: img.Index, Kind: img.Kind, Step: img.Step, Prompt: img.Prompt,
		SHA256: fmt.Sprintf("%x", img.SHA256), Bytes: img.Bytes, Width: img.Width, Height: img.Height})
	return nil
}

// MRZFields is the MRZ as stored and shown: masked unless the
// organization's policy keeps raw numbers.
type MRZFields struct {
	Format         string `json:"format"`
	DocumentCode   string `json:"document_code"`
	IssuingState   string `json:"issuing_state"`
	Surname        string `json:"surname"`
	GivenNames     string `json:"given_names"`
	DocumentNumber string `json:"document_number"`
	Nationality    string `json:"nationality"`
	BirthDate      string `json:"birth_date"` // YYMMDD as printed
	Sex            string `json:"sex"`
	ExpiryDate     string `json:"expiry_date"` // YYYY-MM-DD
	OptionalData   string `json:"optional_data,omitempty"`
	OptionalData2  string `json:"optional_data_2,omitempty"`
}

type mrzRequest struct {
	MRZ string `json:"mrz"`
}

// identityMRZ answers POST /api/v1/call/{id}/identity/mrz: the MRZ lines
// as typed or confirmed, validated (check digits, dates, format). An error
// names the field and where it is.
func (s *Server) identityMRZ(w http.ResponseWriter, r *http.Request, p *party) error {
	var req mrzRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	c, err := s.currentCheck(ctx, p)
	if err != nil {
		return err
	}
	m, err := mrz.ParseAt(req.MRZ, s.now())
	var me *mrz.Error
	if errors.As(err, &me) {
		s.Log.Info("api request refused", "method", r.Method, "path", r.URL.Path, "code", me.Code, "field", me.Field)
		msg := map[string]any{"code": me.Code, "message": me.Error()}
		if me.Field != "" {
			msg["field"] = me.Field
		}
		if me.Line > 0 {
			msg["line"] = me.Line
		}
		if me.Column > 0 {
			msg["column"] = me.Column
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": msg})
		return nil
	} else if err != nil {
		return err
	}
	if m.ExpiredAt(s.now()) {
		return apiError(http.StatusBadRequest, "document_expired", "the document expired on %s", m.ExpiryDate.Format("2006-01-02"))
	}
	pol, err := s.identityPolicy(ctx, p.session.OrgID)
	if err != nil {
		return err
	}
	kept := m
	if !pol.StoreRawNumbers {
		kept = m.Masked()
	}
	f := MRZFields{Format: string(kept.Format), DocumentCode: kept.DocumentCode, IssuingState: kept.IssuingState,
		Surname: kept.Surname, GivenNames: kept.GivenNames, DocumentNumber: kept.DocumentNumber,
		Nationality: kept.Nationality, BirthDate: kept.BirthDateRaw, Sex: kept.Sex,
		ExpiryDate: kept.ExpiryDate.Format("2006-01-02"), OptionalData: kept.OptionalData, OptionalData2: kept.OptionalData2}
	b, _ := json.Marshal(f)
	c.MRZ, c.MRZRaw, c.DocumentNumber, c.Nationality = string(b), pol.StoreRawNumbers, kept.DocumentNumber, kept.Nationality
	if err := s.Store.UpdateIdentityCheck(ctx, c); err != nil {
		return err
	}
	e := p.entry("identity.mrz")
	e.Detail = detail(map[string]any{"check": c.ID, "format": f.Format, "nationality": f.Nationality,
		"document_number": m.Masked().DocumentNumber})
	s.record(ctx, e)
	writeJSON(w, http.StatusOK, map[string]any{"mrz": f, "masked": !pol.StoreRawNumbers})
	return nil
}

// identityPolicy returns the organization's policy, or the defaults.
func (s *Server) identityPolicy(ctx context.Context, orgID string) (*cases.IdentityPolicy, error) {
	pol, err := s.Store.IdentityPolicy(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return &cases.IdentityPolicy{OrgID: orgID}, nil
	}
	return pol, err
}

// latestImages keeps the latest image of each document side and every face
// frame.
func latestImages(imgs []*cases.IdentityImage) (doc map[string]*cases.IdentityImage, faces []*cases.IdentityImage) {
	doc = map[string]*cases.IdentityImage{}
	for _, i := range imgs {
		if i.DeletedAt != nil {
			continue
		}
		if i.Kind == cases.ImageFace {
			faces = append(faces, i)
		} else {
			doc[i.Kind] = i
		}
	}
	return doc, faces
}

// identitySubmit answers POST /api/v1/call/{id}/identity/submit: the
// capture is complete. With a provider configured, it is asked now; its
// answer is advice for the presider.
func (s *Server) identitySubmit(w http.ResponseWriter, r *http.Request, p *party) error {
	ctx := r.Context()
	c, err := s.currentCheck(ctx, p)
	if err != nil {
		return err
	}
	imgs, err := s.Store.IdentityImages(ctx, c.ID)
	if err != nil {
		return err
	}
	doc, faces := latestImages(imgs)
	steps := challenge(c)
	done := make([]bool, len(steps))
	for _, f := range faces {
		if f.Step < len(done) {
			done[f.Step] = true
		}
	}
	var missing []string
	if doc[cases.ImageDocumentFront] == nil {
		missing = append(missing, "document_front")
	}
	if c.DocumentType == cases.DocIDCard && doc[cases.ImageDocumentBack] == nil {
		missing = append(missing, "document_back")
	}
	if c.MRZ == "" {
		missing = append(missing, "mrz")
	}
	for i, d := range done {
		if !d {
			missing = append(missing, "face:"+steps[i])
		}
	}
	if len(missing) > 0 {
		return apiError(http.StatusConflict, "identity_incomplete", "still missing: %v", missing)
	}
	now := s.now()
	c.State, c.SubmittedAt = cases.CheckSubmitted, &now
	if err := s.Store.UpdateIdentityCheck(ctx, c); err != nil {
		return err
	}
	e := p.entry("identity.submit")
	e.Detail = detail(map[string]any{"check": c.ID, "images": len(imgs)})
	s.record(ctx, e)
	if s.Identity.Provider != nil {
		// The person leaving the page does not cut the provider short.
		s.askProvider(context.WithoutCancel(ctx), c, doc, faces)
	}
	s.changed(c)
	v, err := s.viewCheck(ctx, c, nil)
	if err != nil {
		return err
	}
	v.Provider = nil // advice for the presider
	writeJSON(w, http.StatusOK, v)
	return nil
}

// askProvider sends the check to the external provider and records its
// answer (or failure) on the check and in the audit log. A failure does
// not fail the submission: the presider decides without the advice.
func (s *Server) askProvider(ctx context.Context, c *cases.IdentityCheck, doc map[string]*cases.IdentityImage, faces []*cases.IdentityImage) {
	prov := s.Identity.Provider
	req := identity.Request{Reference: c.ID, DocumentType: c.DocumentType, Nationality: c.Nationality}
	var err error
	for _, k := range []string{cases.ImageDocumentFront, cases.ImageDocumentBack} {
		if i := doc[k]; i != nil && err == nil {
			var b []byte
			if b, err = s.decryptImage(ctx, i); err == nil {
				req.Document = append(req.Document, identity.Photo{Kind: k, ContentType: i.ContentType, Data: b})
			}
		}
	}
	for _, f := range faces {
		if err != nil {
			break
		}
		var b []byte
		if b, err = s.decryptImage(ctx, f); err == nil {
			req.Faces = append(req.Faces, identity.Photo{Kind: f.Kind, Prompt: f.Prompt, ContentType: f.ContentType, Data: b})
		}
	}
	var res identity.Result
	if err == nil {
		res, err = prov.Verify(ctx, req)
	}
	c.Provider = prov.Provider()
	d := map[string]any{"check": c.ID, "provider": c.Provider}
	if err != nil {
		s.Log.Warn("identity provider failed", "check", c.ID, "provider", c.Provider, "err", err)
		c.ProviderState, c.ProviderScore, c.ProviderRef = cases.ProviderError, nil, ""
		d["status"], d["error"] = cases.ProviderError, err.Error()
	} else {
		c.ProviderState, c.ProviderScore, c.ProviderRef = res.Status, res.Score, res.Reference
		d["status"], d["reference"] = res.Status, res.Reference
		if res.Score != nil {
			d["score"] = *res.Score
		}
	}
	if err := s.Store.UpdateIdentityCheck(ctx, c); err != nil {
		s.Log.Error("identity provider result not recorded", "check", c.ID, "err", err)
		return
	}
	s.record(ctx, &audit.Entry{ActorKind: audit.ActorSystem, ActorID: c.Provider, Action: "identity.provider_result",
		OrgID: c.OrgID, CaseID: c.CaseID, SessionID: c.SessionID, Detail: detail(d)})
}

// decryptImage reads and decrypts a stored image.
func (s *Server) decryptImage(ctx context.Context, i *cases.IdentityImage) ([]byte, error) {
	if i.DeletedAt != nil {
		return nil, apiError(http.StatusGone, "image_deleted", "this image was deleted at the end of its retention")
	}
	rc, _, err := s.Identity.Blob.Get(ctx, i.Key)
	if err != nil {
		return nil, fmt.Errorf("identity image %s: %w", i.Key, err)
	}
	defer rc.Close()
	sealed, err := io.ReadAll(io.LimitReader(rc, 2*identity.MaxImageBytes))
	if err != nil {
		return nil, fmt.Errorf("identity image %s: %w", i.Key, err)
	}
	b, err := s.Identity.Keys.Open(sealed, i.WrappedKey, i.KeyID, i.Key)
	if err != nil {
		return nil, fmt.Errorf("identity image %s: %w", i.Key, err)
	}
	return b, nil
}

type identityRequestBody struct {
	ParticipantID string `json:"participant_id"`
}

// identityRequest answers POST /api/v1/call/{id}/identity/request: the
// presider asks a party or interpreter to verify their identity now.
func (s *Server) identityRequest(w http.ResponseWriter, r *http.Request, p *party) error {
	var req identityRequestBody
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !p.presides() {
		return errNotPresider
	}
	ctx := r.Context()
	target, err := s.Store.Participant(ctx, req.ParticipantID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && target.SessionID != p.session.ID) {
		return apiError(http.StatusNotFound, "not_found", "no such participant in this session")
	} else if err != nil {
		return err
	}
	if !verifiable(target.Role) {
		return apiError(http.StatusBadRequest, "invalid", "only parties and interpreters verify their identity")
	}
	c, err := s.latestCheck(ctx, p.session.ID, target.ID)
	if err != nil {
		return err
	}
	if !awaiting(c) {
		c = &cases.IdentityCheck{ID: store.NewID(), SessionID: p.session.ID, CaseID: p.session.CaseID,
			OrgID: p.session.OrgID, ParticipantID: target.ID, State: cases.CheckRequested,
			RequestedBy: p.participant.ID, CreatedAt: s.now()}
		if err := s.Store.CreateIdentityCheck(ctx, c); err != nil {
			return err
		}
		e := p.entry("identity.request")
		e.Detail = detail(map[string]any{"check": c.ID, "participant": target.ID})
		s.record(ctx, e)
		s.changed(c)
	}
	v, err := s.viewCheck(ctx, c, target)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

type checksResponse struct {
	Required bool         `json:"required"`
	Checks   []*checkView `json:"checks"`
}

// sessionChecks lists a session's checks with their participants.
func (s *Server) sessionChecks(ctx context.Context, sess *cases.Session) (*checksResponse, error) {
	req, err := s.identityRequired(ctx, sess)
	if err != nil {
		return nil, err
	}
	list, err := s.Store.IdentityChecksOfSession(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	parts, err := s.Store.ParticipantsOfSession(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	byID := map[string]*cases.Participant{}
	for _, pt := range parts {
		byID[pt.ID] = pt
	}
	out := &checksResponse{Required: req, Checks: []*checkView{}}
	for _, c := range list {
		v, err := s.viewCheck(ctx, c, byID[c.ParticipantID])
		if err != nil {
			return nil, err
		}
		out.Checks = append(out.Checks, v)
	}
	return out, nil
}

// identityChecks answers GET /api/v1/call/{id}/identity/checks for the
// presider: every check of the session.
func (s *Server) identityChecks(w http.ResponseWriter, r *http.Request, p *party) error {
	if !p.presides() {
		return errNotPresider
	}
	out, err := s.sessionChecks(r.Context(), p.session)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// checkImage loads image n of a check of the session.
func (s *Server) checkImage(ctx context.Context, sessionID, checkID, n string) (*cases.IdentityCheck, *cases.IdentityImage, error) {
	c, err := s.Store.IdentityCheck(ctx, checkID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.SessionID != sessionID) {
		return nil, nil, errNotFound
	} else if err != nil {
		return nil, nil, err
	}
	idx, err := strconv.Atoi(n)
	if err != nil {
		return nil, nil, errNotFound
	}
	imgs, err := s.Store.IdentityImages(ctx, c.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, i := range imgs {
		if i.Index == idx {
			return c, i, nil
		}
	}
	return nil, nil, errNotFound
}

// serveImage decrypts and sends an image; the view is audited.
func (s *Server) serveImage(w http.ResponseWriter, r *http.Request, c *cases.IdentityCheck, i *cases.IdentityImage, e *audit.Entry) error {
	b, err := s.decryptImage(r.Context(), i)
	if err != nil {
		return err
	}
	e.CaseID, e.SessionID = c.CaseID, c.SessionID
	e.Detail = detail(map[string]any{"check": c.ID, "index": i.Index, "kind": i.Kind, "participant": c.ParticipantID})
	s.record(r.Context(), e)
	w.Header().Set("Content-Type", i.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	return nil
}

// identityImageForPresider answers GET
// /api/v1/call/{id}/identity/checks/{check}/images/{n}: the presider only.
func (s *Server) identityImageForPresider(w http.ResponseWriter, r *http.Request, p *party) error {
	if !p.presides() {
		return errNotPresider
	}
	c, i, err := s.checkImage(r.Context(), p.session.ID, r.PathValue("check"), r.PathValue("n"))
	if err != nil {
		return err
	}
	return s.serveImage(w, r, c, i, p.entry("identity.image_viewed"))
}

type decisionRequest struct {
	Decision string `json:"decision"` // verified or rejected
	Reason   string `json:"reason"`
}

// identityDecision answers POST
// /api/v1/call/{id}/identity/checks/{check}/decision: the presider's
// decision, final, recorded with any provider's advice.
func (s *Server) identityDecision(w http.ResponseWriter, r *http.Request, p *party) error {
	var req decisionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !p.presides() {
		return errNotPresider
	}
	ctx := r.Context()
	c, err := s.Store.IdentityCheck(ctx, r.PathValue("check"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.SessionID != p.session.ID) {
		return errNotFound
	} else if err != nil {
		return err
	}
	if req.Decision == cases.CheckRejected && req.Reason == "" {
		return apiError(http.StatusBadRequest, "invalid", "give the reason of a rejection")
	}
	if len(req.Reason) > 1000 {
		return apiError(http.StatusBadRequest, "invalid", "the reason may be at most 1000 bytes")
	}
	res, err := identity.Manual{}.Verify(ctx, identity.Request{Decision: req.Decision})
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid", "decision must be verified or rejected")
	}
	switch {
	case c.Decision != "":
		return apiError(http.StatusConflict, "identity_decided", "this check was already decided")
	case c.State == cases.CheckSubmitted:
	case c.State == cases.CheckConsented && res.Status == cases.CheckRejected:
	default:
		return apiError(http.StatusConflict, "identity_not_submitted", "the participant has not sent their identity check yet")
	}
	now := s.now()
	c.State, c.Decision, c.Reason = res.Status, res.Status, req.Reason
	c.DecidedBy, c.DecidedByName, c.DecidedAt = p.participant.ID, p.participant.DisplayName, &now
	if err := s.Store.UpdateIdentityCheck(ctx, c); err != nil {
		return err
	}
	e := p.entry("identity.decision")
	d := map[string]any{"check": c.ID, "participant": c.ParticipantID, "decision": c.Decision, "reason": c.Reason,
		"method": identity.MethodManual}
	if c.Provider != "" {
		d["provider"], d["provider_state"], d["provider_reference"] = c.Provider, c.ProviderState, c.ProviderRef
		if c.ProviderScore != nil {
			d["provider_score"] = *c.ProviderScore
		}
	}
	e.Detail = detail(d)
	s.record(ctx, e)
	s.changed(c)
	v, err := s.viewCheck(ctx, c, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// staffAdmin loads a session for an admin of its organization.
func (s *Server) staffAdmin(ctx context.Context, p *principal, id string) (*cases.Session, error) {
	if p.account.Role != cases.RoleAdmin {
		return nil, apiError(http.StatusForbidden, "forbidden", "only administrators see identity images outside the call")
	}
	return s.sessionOf(ctx, p, id)
}

// staffIdentityChecks answers GET /api/v1/sessions/{id}/identity: for
// admins whether verification is required and every check; for other
// staff of the organization whether it is required, and nothing of the
// checks (their results are in the sealed recording's manifest).
func (s *Server) staffIdentityChecks(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.account.Role != cases.RoleAdmin {
		sess, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return err
		}
		req, err := s.identityRequired(r.Context(), sess)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"required": req})
		return nil
	}
	sess, err := s.staffAdmin(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := s.sessionChecks(r.Context(), sess)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// staffIdentityImage answers GET
// /api/v1/sessions/{id}/identity/checks/{check}/images/{n} (admins).
func (s *Server) staffIdentityImage(w http.ResponseWriter, r *http.Request, p *principal) error {
	sess, err := s.staffAdmin(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	c, i, err := s.checkImage(r.Context(), sess.ID, r.PathValue("check"), r.PathValue("n"))
	if err != nil {
		return err
	}
	return s.serveImage(w, r, c, i, p.entry("identity.image_viewed"))
}

type requiredRequest struct {
	Required *bool `json:"required"`
}

// setIdentityRequired answers PUT /api/v1/sessions/{id}/identity: whether
// the session requires parties and interpreters to verify their identity.
func (s *Server) setIdentityRequired(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req requiredRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Required == nil {
		return apiError(http.StatusBadRequest, "invalid", "required (true or false) is missing")
	}
	sess, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.Store.SetIdentityRequired(r.Context(), sess.ID, *req.Required, s.now()); err != nil {
		return err
	}
	e := p.entry("identity.required")
	e.CaseID, e.SessionID = sess.CaseID, sess.ID
	e.Detail = detail(map[string]any{"required": *req.Required})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, map[string]any{"required": *req.Required})
	return nil
}

type policyView struct {
	StoreRawNumbers    bool `json:"store_raw_numbers"`
	ImageRetentionDays int  `json:"image_retention_days"`
}

// getIdentityPolicy answers GET /api/v1/identity/policy.
func (s *Server) getIdentityPolicy(w http.ResponseWriter, r *http.Request, p *principal) error {
	pol, err := s.identityPolicy(r.Context(), p.account.OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, policyView{StoreRawNumbers: pol.StoreRawNumbers, ImageRetentionDays: pol.RetentionDays()})
	return nil
}

// putIdentityPolicy answers PUT /api/v1/identity/policy (admins).
func (s *Server) putIdentityPolicy(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req policyView
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.ImageRetentionDays < 1 || req.ImageRetentionDays > 3650 {
		return apiError(http.StatusBadRequest, "invalid", "image_retention_days must be 1 to 3650")
	}
	pol := &cases.IdentityPolicy{OrgID: p.account.OrgID, StoreRawNumbers: req.StoreRawNumbers,
		ImageRetentionDays: req.ImageRetentionDays, UpdatedAt: s.now()}
	if err := s.Store.PutIdentityPolicy(r.Context(), pol); err != nil {
		return err
	}
	e := p.entry("identity.policy")
	e.Detail = detail(map[string]any{"store_raw_numbers": req.StoreRawNumbers, "image_retention_days": req.ImageRetentionDays})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, req)
	return nil
}

// identityCallback answers POST /api/v1/identity/callback: a provider's
// late answer, signed like the requests sent to it. A callback is accepted
// once: a stale timestamp, a nonce seen before, or a reference already
// answered is refused and audited (a bad signature is refused, not
// audited).
func (s *Server) identityCallback(w http.ResponseWriter, r *http.Request) {
	err := s.handleCallback(r)
	if err != nil {
		writeError(w, s.Log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (s *Server) handleCallback(r *http.Request) error {
	ctx := r.Context()
	prov := s.Identity.Provider
	if prov == nil {
		return apiError(http.StatusNotFound, "not_found", "no identity provider is configured")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return apiError(http.StatusRequestEntityTooLarge, "too_large", "the callback body is larger than %d bytes", maxBody)
	}
	ip := s.IPs.IP(r)
	refuse := func(status int, code, msg string) error {
		s.record(ctx, &audit.Entry{ActorKind: audit.ActorAnonymous, ActorID: prov.Provider(), Action: "identity.callback_refused",
			IP: ip, Detail: detail(map[string]any{"code": code})})
		return apiError(status, code, "%s", msg)
	}
	window := s.Identity.CallbackWindow
	if window <= 0 {
		window = 5 * time.Minute
	}
	switch err := identity.CheckSignature(prov.Secret, r.Header, body, s.now(), window); {
	case errors.Is(err, identity.ErrStale):
		return refuse(http.StatusBadRequest, "callback_stale", "the callback's timestamp is outside the accepted window")
	case err != nil:
		// Not audited: anyone can send this, and it must not fill the
		// audit log. It is logged once by writeError.
		return apiError(http.StatusUnauthorized, "callback_signature", "missing or wrong callback signature")
	}
	a, err := identity.ParseAnswer(body, false)
	if err != nil {
		return refuse(http.StatusBadRequest, "invalid", "bad callback: "+err.Error())
	}
	if err := s.Store.UseIdentityNonce(ctx, a.Nonce, s.now()); errors.Is(err, store.ErrConflict) {
		return refuse(http.StatusConflict, "callback_replayed", "this callback was received before")
	} else if err != nil {
		return err
	}
	c, err := s.Store.IdentityCheckByProviderRef(ctx, prov.Provider(), a.Reference)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(http.StatusNotFound, "not_found", "no identity check has this reference")
	} else if err != nil {
		return err
	}
	if c.ProviderState != cases.ProviderPending {
		return refuse(http.StatusConflict, "callback_replayed", "this check's provider result was already received")
	}
	c.ProviderState, c.ProviderScore = a.Status, a.Score
	if err := s.Store.UpdateIdentityCheck(ctx, c); err != nil {
		return err
	}
	d := map[string]any{"check": c.ID, "provider": c.Provider, "status": a.Status, "reference": a.Reference, "callback": true}
	if a.Score != nil {
		d["score"] = *a.Score
	}
	s.record(ctx, &audit.Entry{ActorKind: audit.ActorSystem, ActorID: c.Provider, Action: "identity.provider_result",
		OrgID: c.OrgID, CaseID: c.CaseID, SessionID: c.SessionID, IP: ip, Detail: detail(d)})
	s.changed(c)
	return nil
}
