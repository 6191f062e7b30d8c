package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// testSettlements: a settlement's versions, sharing, signatures bound to
// versions, and its final PDF recorded once.
func testSettlements(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Milano Mediation")
	mediator := newParticipant(f.session, "Li Si", at(3*time.Hour))
	mediator.Role = cases.RoleMediator
	must(t, "CreateParticipant", s.CreateParticipant(ctx, mediator))
	st := &cases.Settlement{ID: store.NewID(), SessionID: f.session.ID, CaseID: f.kase.ID, OrgID: f.org.ID,
		Template: "general", Language: "zh", CreatedBy: mediator.ID, CreatedAt: at(4 * time.Hour)}
	must(t, "CreateSettlement", s.CreateSettlement(ctx, st))
	if err := s.CreateSettlement(ctx, st); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CreateSettlement twice: %v, want ErrConflict", err)
	}
	for v := 1; v <= 2; v++ {
		must(t, "AddSettlementVersion", s.AddSettlementVersion(ctx, &cases.SettlementVersion{SettlementID: st.ID, Version: v,
			Text: "调解协议 v" + string(rune('0'+v)) + " 'quoted'; --", SHA256: hash32(byte(v)), CreatedAt: at(time.Duration(4*60+v) * time.Minute)}))
	}
	if err := s.AddSettlementVersion(ctx, &cases.SettlementVersion{SettlementID: st.ID, Version: 2, Text: "x", SHA256: hash32(9), CreatedAt: at(5 * time.Hour)}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AddSettlementVersion of an existing number: %v, want ErrConflict", err)
	}
	must(t, "ShareSettlementVersion", s.ShareSettlementVersion(ctx, st.ID, 1, at(5*time.Hour)))
	if err := s.ShareSettlementVersion(ctx, st.ID, 7, at(5*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ShareSettlementVersion of a missing version: %v, want ErrNotFound", err)
	}
	sig := &cases.SettlementSignature{SettlementID: st.ID, Version: 1, ParticipantID: f.participant.ID, Role: cases.RoleParty,
		TypedName: "张三", NameMatches: false, Strokes: `{"w":300,"h":100,"strokes":[[1,2,3,4]]}`, SignedAt: at(6 * time.Hour)}
	must(t, "PutSettlementSignature", s.PutSettlementSignature(ctx, sig))
	sig.NameConfirmedBy, sig.ConfirmedAt, sig.ConfirmedBy = mediator.ID, ptr(at(6*time.Hour+time.Minute)), mediator.ID
	must(t, "PutSettlementSignature (confirmed)", s.PutSettlementSignature(ctx, sig))
	must(t, "ShareSettlementVersion 2", s.ShareSettlementVersion(ctx, st.ID, 2, at(7*time.Hour)))

	got, err := s.Settlement(ctx, st.ID)
	must(t, "Settlement", err)
	if got.SessionID != f.session.ID || got.CaseID != f.kase.ID || got.OrgID != f.org.ID || got.Template != "general" ||
		got.Language != "zh" || got.CreatedBy != mediator.ID || got.SharedVersion != 2 || got.Final != nil {
		t.Fatalf("Settlement = %+v", got)
	}
	eqTime(t, "CreatedAt", got.CreatedAt, st.CreatedAt)
	if len(got.Versions) != 2 || got.Versions[0].Version != 1 || got.Versions[1].Version != 2 ||
		got.Versions[0].Text != "调解协议 v1 'quoted'; --" || !bytes.Equal(got.Versions[1].SHA256, hash32(2)) {
		t.Fatalf("Versions = %+v", got.Versions)
	}
	if v := got.Version(1); v == nil || v.SharedAt == nil {
		t.Fatalf("version 1 = %+v, want it shared", v)
	} else {
		eqTime(t, "version 1 SharedAt", *v.SharedAt, at(5*time.Hour))
	}
	if len(got.SignaturesOf(2)) != 0 {
		t.Fatal("version 2 has signatures made on version 1")
	}
	gs := got.SignaturesOf(1)
	if len(gs) != 1 {
		t.Fatalf("signatures of version 1: %+v", gs)
	}
	g := gs[0]
	if g.TypedName != "张三" || g.NameMatches || g.NameConfirmedBy != mediator.ID || g.Strokes != sig.Strokes ||
		g.ConfirmedAt == nil || g.Role != cases.RoleParty {
		t.Fatalf("signature = %+v", g)
	}
	eqTime(t, "SignedAt", g.SignedAt, sig.SignedAt)
	eqTime(t, "ConfirmedAt", *g.ConfirmedAt, *sig.ConfirmedAt)

	fin := &cases.SettlementFinal{Key: "cases/" + f.kase.ID + "/settlements/" + st.ID + ".pdf", Bytes: 12345, SHA256: hash32(7),
		At: at(8 * time.Hour), By: mediator.ID}
	must(t, "FinalizeSettlement", s.FinalizeSettlement(ctx, st.ID, fin))
	if err := s.FinalizeSettlement(ctx, st.ID, fin); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("FinalizeSettlement twice: %v, want ErrConflict", err)
	}
	if err := s.FinalizeSettlement(ctx, store.NewID(), fin); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FinalizeSettlement of nothing: %v, want ErrNotFound", err)
	}
	list, err := s.SettlementsOfSession(ctx, f.session.ID)
	must(t, "SettlementsOfSession", err)
	if len(list) != 1 || list[0].Final == nil || list[0].Final.Key != fin.Key || list[0].Final.Bytes != 12345 ||
		!bytes.Equal(list[0].Final.SHA256, fin.SHA256) || list[0].Final.Timestamp != "" || len(list[0].Versions) != 2 {
		t.Fatalf("SettlementsOfSession = %+v", list)
	}
	eqTime(t, "Final.At", list[0].Final.At, fin.At)
	byCase, err := s.SettlementsOfCase(ctx, f.kase.ID)
	must(t, "SettlementsOfCase", err)
	if len(byCase) != 1 || byCase[0].ID != st.ID {
		t.Fatalf("SettlementsOfCase = %+v", byCase)
	}
	if none, err := s.SettlementsOfSession(ctx, store.NewID()); err != nil || none == nil || len(none) != 0 {
		t.Fatalf("SettlementsOfSession(unknown) = %v, %v; want empty", none, err)
	}
	if _, err := s.Settlement(ctx, store.NewID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Settlement(unknown): %v, want ErrNotFound", err)
	}
}
