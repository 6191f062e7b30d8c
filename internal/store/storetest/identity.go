package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func newIdentityCheck(f *fixture, created time.Time) *cases.IdentityCheck {
	return &cases.IdentityCheck{ID: store.NewID(), SessionID: f.session.ID, CaseID: f.kase.ID, OrgID: f.org.ID,
		ParticipantID: f.participant.ID, State: cases.CheckRequested, CreatedAt: created}
}

func checkIdentityCheck(t *testing.T, got, want *cases.IdentityCheck) {
	t.Helper()
	eq(t, "ID", got.ID, want.ID)
	eq(t, "SessionID", got.SessionID, want.SessionID)
	eq(t, "CaseID", got.CaseID, want.CaseID)
	eq(t, "OrgID", got.OrgID, want.OrgID)
	eq(t, "ParticipantID", got.ParticipantID, want.ParticipantID)
	eq(t, "State", got.State, want.State)
	eq(t, "RequestedBy", got.RequestedBy, want.RequestedBy)
	eqNullTime(t, "ConsentAt", got.ConsentAt, want.ConsentAt)
	eqNullTime(t, "RefusedAt", got.RefusedAt, want.RefusedAt)
	eq(t, "DocumentType", got.DocumentType, want.DocumentType)
	eq(t, "MRZ", got.MRZ, want.MRZ)
	eq(t, "MRZRaw", got.MRZRaw, want.MRZRaw)
	eq(t, "DocumentNumber", got.DocumentNumber, want.DocumentNumber)
	eq(t, "Nationality", got.Nationality, want.Nationality)
	eq(t, "Challenge", got.Challenge, want.Challenge)
	eq(t, "Provider", got.Provider, want.Provider)
	eq(t, "ProviderState", got.ProviderState, want.ProviderState)
	switch {
	case got.ProviderScore == nil && want.ProviderScore == nil:
	case got.ProviderScore == nil || want.ProviderScore == nil || *got.ProviderScore != *want.ProviderScore:
		t.Errorf("ProviderScore = %v, want %v", got.ProviderScore, want.ProviderScore)
	}
	eq(t, "ProviderRef", got.ProviderRef, want.ProviderRef)
	eq(t, "Decision", got.Decision, want.Decision)
	eq(t, "Reason", got.Reason, want.Reason)
	eq(t, "DecidedBy", got.DecidedBy, want.DecidedBy)
	eq(t, "DecidedByName", got.DecidedByName, want.DecidedByName)
	eqNullTime(t, "DecidedAt", got.DecidedAt, want.DecidedAt)
	eqNullTime(t, "SubmittedAt", got.SubmittedAt, want.SubmittedAt)
	eqTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
}

func testIdentityChecks(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Milano Notary Office")
	first := newIdentityCheck(f, at(3*time.Hour))
	second := newIdentityCheck(f, at(2*time.Hour)) // older: listed first
	second.RequestedBy = f.participant.ID
	for _, c := range []*cases.IdentityCheck{first, second} {
		must(t, "CreateIdentityCheck", s.CreateIdentityCheck(ctx, c))
	}
	wantErr(t, "CreateIdentityCheck(same id)", s.CreateIdentityCheck(ctx, first), store.ErrConflict)

	got, err := s.IdentityCheck(ctx, first.ID)
	must(t, "IdentityCheck", err)
	checkIdentityCheck(t, got, first)

	// Every mutable field round-trips.
	score := 0.87
	first.State = cases.CheckVerified
	first.RequestedBy = "presider"
	first.ConsentAt, first.RefusedAt = ptr(at(3*time.Hour+time.Minute)), nil
	first.DocumentType = cases.DocPassport
	first.MRZ, first.MRZRaw = `{"document_number":"******789"}`, false
	first.DocumentNumber, first.Nationality = "******789", "ITA"
	first.Challenge = `["left","up","blink"]`
	first.Provider, first.ProviderState, first.ProviderScore, first.ProviderRef = "acme", cases.ProviderMatch, &score, "ref-1"
	first.Decision, first.Reason = cases.CheckVerified, "matches the passport"
	first.DecidedBy, first.DecidedByName, first.DecidedAt = "notary-1", "Notaio Bianchi", ptr(at(4*time.Hour))
	first.SubmittedAt = ptr(at(3*time.Hour + 5*time.Minute))
	must(t, "UpdateIdentityCheck", s.UpdateIdentityCheck(ctx, first))
	got, err = s.IdentityCheck(ctx, first.ID)
	must(t, "IdentityCheck after update", err)
	checkIdentityCheck(t, got, first)

	list, err := s.IdentityChecksOfSession(ctx, f.session.ID)
	must(t, "IdentityChecksOfSession", err)
	if len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
		t.Fatalf("IdentityChecksOfSession = %d checks, want second then first", len(list))
	}
	got, err = s.IdentityCheckByProviderRef(ctx, "acme", "ref-1")
	must(t, "IdentityCheckByProviderRef", err)
	eq(t, "by ref", got.ID, first.ID)
	_, err = s.IdentityCheckByProviderRef(ctx, "other", "ref-1")
	wantErr(t, "IdentityCheckByProviderRef(other provider)", err, store.ErrNotFound)
	_, err = s.IdentityCheckByProviderRef(ctx, "", "")
	wantErr(t, "IdentityCheckByProviderRef(empty)", err, store.ErrNotFound)
	_, err = s.IdentityCheck(ctx, store.NewID())
	wantErr(t, "IdentityCheck(unknown)", err, store.ErrNotFound)
	unknown := newIdentityCheck(f, at(time.Hour))
	wantErr(t, "UpdateIdentityCheck(unknown)", s.UpdateIdentityCheck(ctx, unknown), store.ErrNotFound)
}

func testIdentityImages(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	c := newIdentityCheck(f, at(3*time.Hour))
	must(t, "CreateIdentityCheck", s.CreateIdentityCheck(ctx, c))
	other := newIdentityCheck(f, at(3*time.Hour))
	must(t, "CreateIdentityCheck other", s.CreateIdentityCheck(ctx, other))
	img := func(i int, kind string) *cases.IdentityImage {
		return &cases.IdentityImage{CheckID: c.ID, Index: i, Kind: kind, Step: i, Prompt: "left",
			Key:    "cases/" + f.kase.ID + "/identity/" + c.ID + "/" + string(rune('0'+i)) + ".enc",
			SHA256: bytes.Repeat([]byte{byte(i + 1)}, 32), Bytes: 1234, ContentType: "image/jpeg",
			Width: 640, Height: 480, WrappedKey: []byte("wrapped-" + kind), KeyID: "k1", CreatedAt: at(3 * time.Hour)}
	}
	imgs := []*cases.IdentityImage{img(1, cases.ImageFace), img(0, cases.ImageDocumentFront)}
	for _, i := range imgs {
		must(t, "AddIdentityImage", s.AddIdentityImage(ctx, i))
	}
	dup := img(0, cases.ImageFace)
	dup.Key += "x"
	wantErr(t, "AddIdentityImage(same index)", s.AddIdentityImage(ctx, dup), store.ErrConflict)

	with, err := s.IdentityChecksWithImages(ctx)
	must(t, "IdentityChecksWithImages", err)
	if len(with) != 1 || with[0].ID != c.ID {
		t.Fatalf("IdentityChecksWithImages = %d checks, want only %s", len(with), c.ID)
	}

	got, err := s.IdentityImages(ctx, c.ID)
	must(t, "IdentityImages", err)
	if len(got) != 2 {
		t.Fatalf("IdentityImages = %d, want 2", len(got))
	}
	for i, want := range []*cases.IdentityImage{imgs[1], imgs[0]} {
		g := got[i]
		eq(t, "Index", g.Index, want.Index)
		eq(t, "Kind", g.Kind, want.Kind)
		eq(t, "Step", g.Step, want.Step)
		eq(t, "Prompt", g.Prompt, want.Prompt)
		eq(t, "Key", g.Key, want.Key)
		eq(t, "SHA256", string(g.SHA256), string(want.SHA256))
		eq(t, "Bytes", g.Bytes, want.Bytes)
		eq(t, "ContentType", g.ContentType, want.ContentType)
		eq(t, "Width", g.Width, want.Width)
		eq(t, "Height", g.Height, want.Height)
		eq(t, "WrappedKey", string(g.WrappedKey), string(want.WrappedKey))
		eq(t, "KeyID", g.KeyID, want.KeyID)
		eqTime(t, "CreatedAt", g.CreatedAt, want.CreatedAt)
		eqNullTime(t, "DeletedAt", g.DeletedAt, nil)
	}

	must(t, "DeleteIdentityImage", s.DeleteIdentityImage(ctx, c.ID, 0, at(100*24*time.Hour)))
	must(t, "DeleteIdentityImage again", s.DeleteIdentityImage(ctx, c.ID, 0, at(200*24*time.Hour)))
	wantErr(t, "DeleteIdentityImage(unknown)", s.DeleteIdentityImage(ctx, c.ID, 7, at(0)), store.ErrNotFound)
	got, err = s.IdentityImages(ctx, c.ID)
	must(t, "IdentityImages after delete", err)
	if got[0].WrappedKey != nil {
		t.Errorf("deleted image keeps its wrapped key %q", got[0].WrappedKey)
	}
	eqNullTime(t, "DeletedAt", got[0].DeletedAt, ptr(at(100*24*time.Hour)))
	eq(t, "other image WrappedKey", string(got[1].WrappedKey), "wrapped-face")

	must(t, "DeleteIdentityImage 1", s.DeleteIdentityImage(ctx, c.ID, 1, at(100*24*time.Hour)))
	with, err = s.IdentityChecksWithImages(ctx)
	must(t, "IdentityChecksWithImages after delete", err)
	if len(with) != 0 {
		t.Errorf("IdentityChecksWithImages = %d checks after deleting every image, want 0", len(with))
	}
}

func testIdentityPolicy(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	_, err := s.IdentityPolicy(ctx, f.org.ID)
	wantErr(t, "IdentityPolicy(none)", err, store.ErrNotFound)
	p := &cases.IdentityPolicy{OrgID: f.org.ID, StoreRawNumbers: true, ImageRetentionDays: 30, UpdatedAt: at(time.Hour)}
	must(t, "PutIdentityPolicy", s.PutIdentityPolicy(ctx, p))
	p.StoreRawNumbers, p.ImageRetentionDays, p.UpdatedAt = false, 0, at(2*time.Hour)
	must(t, "PutIdentityPolicy again", s.PutIdentityPolicy(ctx, p))
	got, err := s.IdentityPolicy(ctx, f.org.ID)
	must(t, "IdentityPolicy", err)
	eq(t, "StoreRawNumbers", got.StoreRawNumbers, false)
	eq(t, "ImageRetentionDays", got.ImageRetentionDays, 0)
	eq(t, "RetentionDays()", got.RetentionDays(), cases.DefaultIdentityRetentionDays)
	eqTime(t, "UpdatedAt", got.UpdatedAt, p.UpdatedAt)
	if s.PutIdentityPolicy(ctx, &cases.IdentityPolicy{OrgID: f.org.ID, ImageRetentionDays: -1, UpdatedAt: at(0)}) == nil {
		t.Error("PutIdentityPolicy(negative retention) succeeded")
	}
}

func testIdentityRequiredAndNonces(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	req, set, err := s.IdentityRequired(ctx, f.session.ID)
	must(t, "IdentityRequired(unset)", err)
	if req || set {
		t.Errorf("IdentityRequired(unset) = %v, %v; want false, false", req, set)
	}
	must(t, "SetIdentityRequired", s.SetIdentityRequired(ctx, f.session.ID, true, at(time.Hour)))
	req, set, err = s.IdentityRequired(ctx, f.session.ID)
	must(t, "IdentityRequired", err)
	if !req || !set {
		t.Errorf("IdentityRequired = %v, %v; want true, true", req, set)
	}
	must(t, "SetIdentityRequired false", s.SetIdentityRequired(ctx, f.session.ID, false, at(2*time.Hour)))
	req, set, _ = s.IdentityRequired(ctx, f.session.ID)
	if req || !set {
		t.Errorf("IdentityRequired after false = %v, %v; want false, true", req, set)
	}

	must(t, "UseIdentityNonce", s.UseIdentityNonce(ctx, "n-1", at(time.Hour)))
	wantErr(t, "UseIdentityNonce(replay)", s.UseIdentityNonce(ctx, "n-1", at(2*time.Hour)), store.ErrConflict)
	must(t, "UseIdentityNonce other", s.UseIdentityNonce(ctx, "n-2", at(time.Hour)))
}
