// Package settlement is the mediation settlement agreement made in a
// video session: the mediator drafts it from a template and saves
// versions, shares one, the parties sign it (typed name, drawn signature,
// spoken confirmation the mediator marks), the mediator signs last and
// finalizes it, and the server renders it as a PDF, signs it (PAdES, a CMS
// from the node's key) and stores it write-once with the case. The sealed
// manifest lists it (Documents), so it goes into the evidence bundle.
//
// Signaling calls the Service for the participant who acts; the Service
// checks what that participant may do and keeps the records.
package settlement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/pdf"
	"github.com/kuayang/kuayang/internal/store"
)

// Records is what the Service reads and writes of the case records.
type Records interface {
	store.Settlements
	Session(ctx context.Context, id string) (*cases.Session, error)
	Case(ctx context.Context, id string) (*cases.Case, error)
	Org(ctx context.Context, id string) (*cases.Org, error)
	ParticipantsOfSession(ctx context.Context, sessionID string) ([]*cases.Participant, error)
}

// Service keeps the settlements of sessions.
type Service struct {
	Records Records
	Blob    blob.Store
	// SignPDF returns the detached CMS (DER) over a PDF's signed bytes
	// (its /ByteRange), for the organization org: the node's key and a
	// certificate naming org and the node.
	SignPDF func(org string, content []byte) ([]byte, error)
	// Signer names who signs the PDFs: the organization's node.
	Signer string
	// Stamper, when set, timestamps each PDF's SHA-256 (RFC 3161).
	Stamper pdf.Stamper
	Now     func() time.Time
	Log     *slog.Logger // slog.Default() when nil

	mu sync.Mutex // serializes changes: they read, check, then write
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Actor is the participant who acts.
type Actor struct {
	ID   string
	Name string
	Role cases.Role
}

// Key is where the signed PDF of a settlement is stored.
func Key(caseID, id string) string { return "cases/" + caseID + "/settlements/" + id + ".pdf" }

// current is the session's settlement in progress or last finalized, or
// nil.
func (s *Service) current(ctx context.Context, sessionID string) (*cases.Settlement, error) {
	list, err := s.Records.SettlementsOfSession(ctx, sessionID)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[len(list)-1], nil
}

// Current is the view of the session's shared settlement, or nil when
// none is shared.
func (s *Service) Current(ctx context.Context, sessionID string) (*View, error) {
	st, err := s.current(ctx, sessionID)
	if err != nil || st == nil || st.SharedVersion == 0 {
		return nil, err
	}
	return s.view(ctx, st)
}

// mediation loads the session and its case, and refuses anything but
// mediation.
func (s *Service) mediation(ctx context.Context, sessionID string) (*cases.Session, *cases.Case, error) {
	sess, err := s.Records.Session(ctx, sessionID)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Records.Case(ctx, sess.CaseID)
	if err != nil {
		return nil, nil, err
	}
	if c.Kind != cases.KindMediation {
		return nil, nil, errorf(CodeNotMediation, "settlement agreements are made in mediation cases")
	}
	return sess, c, nil
}

// Template fills a built-in template from the case and the session.
func (s *Service) Template(ctx context.Context, sessionID string, by Actor, name, lang, terms string) (string, error) {
	sess, c, err := s.mediation(ctx, sessionID)
	if err != nil {
		return "", err
	}
	parts, err := s.Records.ParticipantsOfSession(ctx, sess.ID)
	if err != nil {
		return "", err
	}
	f := Fields{CaseNumber: c.Number, CaseTitle: c.Title, Mediator: by.Name, Place: sess.ID, Terms: terms,
		Date: s.now().In(zone(sess.TimeZone)).Format("2006-01-02")}
	for _, p := range parts {
		if p.Role == cases.RoleParty {
			f.Parties = append(f.Parties, p.DisplayName)
		}
	}
	return Fill(name, lang, f)
}

// Saved is a version the mediator saved.
type Saved struct {
	Version int
	Text    string
	SHA256  string
	// Shared: the save replaced the shared version (the text was shared
	// already): View is what everyone sees now.
	Shared bool
	View   *View
}

// Save saves a new version of the session's settlement (creating it with
// the first). Once a version is shared, a save shares the new version at
// once: what the parties see is never behind what the mediator wrote, and
// the signatures collected on the old one no longer count (View.Cleared).
func (s *Service) Save(ctx context.Context, sessionID string, by Actor, text, template, lang string) (*Saved, error) {
	if err := checkText(text); err != nil {
		return nil, err
	}
	sess, _, err := s.mediation(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	text = Canonical(text)
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.current(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if st == nil || st.Final != nil {
		st = &cases.Settlement{ID: store.NewID(), SessionID: sess.ID, CaseID: sess.CaseID, OrgID: sess.OrgID,
			Template: template, Language: lang, CreatedBy: by.ID, CreatedAt: now}
		if err := s.Records.CreateSettlement(ctx, st); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256([]byte(text))
	if n := len(st.Versions); n > 0 && bytes.Equal(st.Versions[n-1].SHA256, sum[:]) {
		// Saving the same text again makes no version.
		v := st.Versions[n-1]
		return &Saved{Version: v.Version, Text: v.Text, SHA256: hex.EncodeToString(v.SHA256)}, nil
	}
	v := cases.SettlementVersion{SettlementID: st.ID, Version: len(st.Versions) + 1, Text: text, SHA256: sum[:], CreatedAt: now}
	if err := s.Records.AddSettlementVersion(ctx, &v); err != nil {
		return nil, err
	}
	out := &Saved{Version: v.Version, Text: text, SHA256: hex.EncodeToString(sum[:])}
	if st.SharedVersion == 0 {
		return out, nil
	}
	cleared := len(st.SignaturesOf(st.SharedVersion))
	if err := s.Records.ShareSettlementVersion(ctx, st.ID, v.Version, now); err != nil {
		return nil, err
	}
	view, err := s.reload(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	view.Cleared = cleared
	out.Shared, out.View = true, view
	return out, nil
}

// Share shares a saved version: everyone sees it and signs it. Sharing
// another version than the shared one leaves the signatures of that one
// behind (View.Cleared).
func (s *Service) Share(ctx context.Context, sessionID string, by Actor, version int) (*View, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.open(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if st.Version(version) == nil {
		return nil, errorf(CodeNoSuchVersion, "there is no version %d", version)
	}
	cleared := 0
	if st.SharedVersion != version {
		cleared = len(st.SignaturesOf(st.SharedVersion))
	}
	if err := s.Records.ShareSettlementVersion(ctx, st.ID, version, s.now()); err != nil {
		return nil, err
	}
	view, err := s.reload(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	view.Cleared = cleared
	return view, nil
}

// open is the session's settlement that can still change.
func (s *Service) open(ctx context.Context, sessionID string) (*cases.Settlement, error) {
	st, err := s.current(ctx, sessionID)
	switch {
	case err != nil:
		return nil, err
	case st == nil:
		return nil, errorf(CodeNoSettlement, "no settlement has been drafted in this session")
	case st.Final != nil:
		return nil, errorf(CodeFinal, "the settlement is finalized; draft a new one to change it")
	}
	return st, nil
}

// shared is the session's settlement with a shared version, open.
func (s *Service) shared(ctx context.Context, sessionID, sha string) (*cases.Settlement, *cases.SettlementVersion, error) {
	st, err := s.open(ctx, sessionID)
	if err != nil {
		return nil, nil, err
	}
	v := st.Version(st.SharedVersion)
	if v == nil {
		return nil, nil, errorf(CodeNoSettlement, "no settlement has been shared in this session")
	}
	if sha != hex.EncodeToString(v.SHA256) {
		return nil, nil, errorf(CodeSettlementChanged, "the settlement changed: version %d is shared now; read it again and sign that", v.Version)
	}
	return st, v, nil
}

// Sign records by's signature of the shared version, whose SHA-256 is
// sha: the one by saw. The mediator signs last, once every party has
// signed and confirmed aloud.
func (s *Service) Sign(ctx context.Context, sessionID string, by Actor, sha, typed string, d Drawing) (*View, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	if err := checkTypedName(typed); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, v, err := s.shared(ctx, sessionID, sha)
	if err != nil {
		return nil, err
	}
	signers, err := s.signers(ctx, st)
	if err != nil {
		return nil, err
	}
	me := findSigner(signers, by.ID)
	if me == nil {
		return nil, errorf(CodeNotSigner, "only the parties and the mediator sign the settlement")
	}
	if by.Role.Presides() {
		for _, g := range signers {
			if g.ParticipantID != by.ID && (!g.Signed || !g.Confirmed || !g.NameAccepted()) {
				return nil, errorf(CodeNotReady, "the mediator signs last: %s has not signed, or confirmed aloud, yet", g.Name)
			}
		}
	}
	now := s.now()
	g := &cases.SettlementSignature{SettlementID: st.ID, Version: v.Version, ParticipantID: by.ID, Role: by.Role,
		TypedName: typed, NameMatches: NameMatches(typed, by.Name), Strokes: d.encode(), SignedAt: now}
	if by.Role.Presides() {
		// The mediator's own signature needs no one to mark it.
		g.ConfirmedAt, g.ConfirmedBy = &now, by.ID
		if !g.NameMatches {
			return nil, errorf(CodeBadSignature, "type your name as it is on record: %s", by.Name)
		}
	}
	if err := s.Records.PutSettlementSignature(ctx, g); err != nil {
		return nil, err
	}
	return s.reload(ctx, st.ID)
}

// maxTypedName bounds a typed name, in bytes.
const maxTypedName = 200

func checkTypedName(typed string) error {
	if len(typed) > maxTypedName || !utf8.ValidString(typed) || len(nameWords(typed)) == 0 {
		return errorf(CodeBadSignature, "type your full name (at most %d bytes)", maxTypedName)
	}
	return nil
}

// Confirmation kinds the mediator marks.
const (
	ConfirmSpoken = "spoken" // the signer said aloud, on camera, that they agree
	ConfirmName   = "name"   // the typed name, though it differs, is the signer's
)

// Confirm marks, for a signer of the shared version, their spoken
// confirmation or their typed name as theirs. Only the mediator marks.
func (s *Service) Confirm(ctx context.Context, sessionID string, by Actor, participantID, what string) (*View, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.open(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var g *cases.SettlementSignature
	for _, x := range st.SignaturesOf(st.SharedVersion) {
		if x.ParticipantID == participantID {
			g = &x
		}
	}
	if g == nil {
		return nil, errorf(CodeNoSuchSigner, "this participant has not signed the shared version")
	}
	now := s.now()
	switch what {
	case ConfirmSpoken:
		g.ConfirmedAt, g.ConfirmedBy = &now, by.ID
	case ConfirmName:
		g.NameConfirmedBy = by.ID
	default:
		return nil, errorf(CodeBadSignature, "what must be %q or %q", ConfirmSpoken, ConfirmName)
	}
	if err := s.Records.PutSettlementSignature(ctx, g); err != nil {
		return nil, err
	}
	return s.reload(ctx, st.ID)
}

// Finalized is a finalized settlement.
type Finalized struct {
	View   *View
	Key    string
	Bytes  int64
	SHA256 string
}

// Finalize renders the signed shared version as a PDF, signs it, stores it
// write-once with the case and records it. Every signer must have signed
// and confirmed; the mediator finalizes.
func (s *Service) Finalize(ctx context.Context, sessionID string, by Actor, sha string) (*Finalized, error) {
	if s.SignPDF == nil {
		return nil, errors.New("settlement: no PDF signer configured")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, v, err := s.shared(ctx, sessionID, sha)
	if err != nil {
		return nil, err
	}
	signers, err := s.signers(ctx, st)
	if err != nil {
		return nil, err
	}
	for _, g := range signers {
		if !g.Signed || !g.Confirmed || !g.NameAccepted() {
			return nil, errorf(CodeNotReady, "%s has not signed, or confirmed aloud, yet", g.Name)
		}
	}
	sess, c, err := s.mediation(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	org, err := s.Records.Org(ctx, st.OrgID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	doc, err := render(st, v, signers, c, sess, now)
	if err != nil {
		return nil, err
	}
	signer := org.Name
	if s.Signer != "" {
		signer += " (" + s.Signer + ")"
	}
	body, err := doc.Sign(pdf.SignOptions{Name: signer, Reason: "Settlement agreement, case " + c.Number,
		Location: "Online session " + sess.ID, Time: now}, func(content []byte) ([]byte, error) {
		return s.SignPDF(org.Name, content)
	})
	if err != nil {
		return nil, fmt.Errorf("settlement: sign PDF: %w", err)
	}
	sum := sha256.Sum256(body)
	until, m := org.Retention(sess) // as long as the session's recording
	mode := blob.Mode(m)
	key, err := s.store(ctx, st, body, sum[:], until, mode)
	if err != nil {
		return nil, err
	}
	f := &cases.SettlementFinal{Key: key, Bytes: int64(len(body)), SHA256: sum[:], At: now, By: by.ID}
	if s.Stamper != nil {
		f.Timestamp = s.stamp(ctx, key, sum[:], until, mode)
	}
	if err := s.Records.FinalizeSettlement(ctx, st.ID, f); err != nil {
		return nil, err
	}
	view, err := s.reload(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	return &Finalized{View: view, Key: key, Bytes: f.Bytes, SHA256: hex.EncodeToString(sum[:])}, nil
}

// store puts the signed PDF in the object store, write-once. An earlier
// attempt that stored its PDF but could not record it (the records
// failed) left that object behind: the PDF goes beside it, and the one
// recorded is the one listed.
func (s *Service) store(ctx context.Context, st *cases.Settlement, body, sum []byte, until time.Time, mode blob.Mode) (string, error) {
	for attempt := 1; attempt <= 5; attempt++ {
		key := Key(st.CaseID, st.ID)
		if attempt > 1 {
			key = strings.TrimSuffix(key, ".pdf") + fmt.Sprintf("-%d.pdf", attempt)
		}
		_, err := s.Blob.Put(ctx, key, bytes.NewReader(body), int64(len(body)), sum,
			blob.PutOptions{ContentType: "application/pdf", RetainUntil: until, Mode: mode})
		if errors.Is(err, blob.ErrExists) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("settlement: store PDF: %w", err)
		}
		return key, nil
	}
	return "", fmt.Errorf("settlement: store PDF: %s exists, and 4 more", Key(st.CaseID, st.ID))
}

// stamp obtains and stores a timestamp token over the PDF's SHA-256; it
// returns its key, or "" when none could be had (the PDF stands without:
// it is signed, and sealed into the manifest, which is timestamped).
func (s *Service) stamp(ctx context.Context, key string, sum []byte, until time.Time, mode blob.Mode) string {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	tok, err := s.Stamper.Stamp(ctx, sum)
	if err == nil && len(tok) == 0 {
		err = errors.New("empty token")
	}
	if err != nil {
		log.Warn("settlement PDF not timestamped", "key", key, "err", err)
		return ""
	}
	tsum := sha256.Sum256(tok)
	tkey := key + ".tsr"
	if _, err := s.Blob.Put(ctx, tkey, bytes.NewReader(tok), int64(len(tok)), tsum[:],
		blob.PutOptions{ContentType: "application/timestamp-reply", RetainUntil: until, Mode: mode}); err != nil {
		log.Warn("settlement PDF's timestamp not stored", "key", tkey, "err", err)
		return ""
	}
	return tkey
}

// Documents lists the finalized settlements of a session for its sealed
// manifest (archive Config.Documents).
func (s *Service) Documents(ctx context.Context, sessionID string) ([]evidence.Document, error) {
	list, err := s.Records.SettlementsOfSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var out []evidence.Document
	for _, st := range list {
		if st.Final == nil {
			continue
		}
		detail := fmt.Sprintf("version %d", st.SharedVersion)
		if v := st.Version(st.SharedVersion); v != nil {
			detail += ", text sha256 " + hex.EncodeToString(v.SHA256)
		}
		out = append(out, evidence.Document{ID: st.ID, Kind: evidence.DocumentSettlement, Name: FileName(st.ID),
			Key: st.Final.Key, ContentType: "application/pdf", Bytes: st.Final.Bytes, SHA256: hex.EncodeToString(st.Final.SHA256),
			At: evidence.At(st.Final.At), By: st.Final.By, Detail: detail, Timestamp: st.Final.Timestamp})
	}
	return out, nil
}

// FileName is a settlement's PDF's file name in a bundle and a download.
func FileName(id string) string { return "settlement-" + id + ".pdf" }

// zone is the session's time zone, UTC when unknown.
func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc
	}
	return time.UTC
}
