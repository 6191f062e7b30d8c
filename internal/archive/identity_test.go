package archive

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/sqlite"
)

// TestIdentityInManifest: a participant's decided identity check is in the
// manifest, with the provider's advice and the images' hashes; a
// participant without a decided check has no identity.
func TestIdentityInManifest(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	org := &cases.Org{ID: store.NewID(), Name: "Notary", CreatedAt: now}
	kase := &cases.Case{ID: store.NewID(), OrgID: org.ID, Kind: cases.KindNotarization, Number: "N-1", Status: "open", CreatedAt: now}
	sess := &cases.Session{ID: store.NewID(), CaseID: kase.ID, OrgID: org.ID, TimeZone: "UTC", State: "live", CreatedAt: now}
	party := &cases.Participant{ID: store.NewID(), SessionID: sess.ID, Role: cases.RoleParty, DisplayName: "Anna", CreatedAt: now}
	other := &cases.Participant{ID: store.NewID(), SessionID: sess.ID, Role: cases.RoleParty, DisplayName: "Bo", CreatedAt: now}
	for _, err := range []error{st.CreateOrg(ctx, org), st.CreateCase(ctx, kase), st.CreateSession(ctx, sess),
		st.CreateParticipant(ctx, party), st.CreateParticipant(ctx, other)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	score := 0.93
	decided := now.Add(time.Minute)
	c := &cases.IdentityCheck{ID: store.NewID(), SessionID: sess.ID, CaseID: kase.ID, OrgID: org.ID, ParticipantID: party.ID,
		State: cases.CheckVerified, DocumentType: cases.DocPassport, DocumentNumber: "******2C3", Nationality: "UTO",
		Provider: "facecheck", ProviderState: cases.ProviderMatch, ProviderScore: &score, ProviderRef: "prov-1",
		Decision: cases.CheckVerified, DecidedByName: "Notaio Bianchi", DecidedAt: &decided, CreatedAt: now}
	if err := st.CreateIdentityCheck(ctx, c); err != nil {
		t.Fatal(err)
	}
	open := &cases.IdentityCheck{ID: store.NewID(), SessionID: sess.ID, CaseID: kase.ID, OrgID: org.ID, ParticipantID: other.ID,
		State: cases.CheckSubmitted, CreatedAt: now}
	if err := st.CreateIdentityCheck(ctx, open); err != nil {
		t.Fatal(err)
	}
	if err := st.AddIdentityImage(ctx, &cases.IdentityImage{CheckID: c.ID, Kind: cases.ImageDocumentFront, Key: "k/0.enc",
		SHA256: bytes.Repeat([]byte{0xab}, 32), ContentType: "image/jpeg", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	m, err := Draft(ctx, st, sess.ID, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Participants {
		switch p.ID {
		case other.ID:
			if p.Identity != nil {
				t.Errorf("undecided participant has identity %+v", p.Identity)
			}
		case party.ID:
			id := p.Identity
			if id == nil || id.Method != "facecheck" || id.Result != "verified" || id.VerifiedBy != "Notaio Bianchi" ||
				!id.VerifiedAt.Equal(decided) || id.DocumentNumber != "******2C3" || id.ProviderScore == nil ||
				*id.ProviderScore != score || id.ProviderReference != "prov-1" || len(id.Images) != 1 ||
				id.Images[0].SHA256 != "abababababababababababababababababababababababababababababababab" {
				t.Errorf("identity in the manifest: %+v", id)
			}
		}
	}
}
