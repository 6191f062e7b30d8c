package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func checkParticipant(t *testing.T, got, want *cases.Participant) {
	t.Helper()
	eq(t, "Participant.ID", got.ID, want.ID)
	eq(t, "Participant.SessionID", got.SessionID, want.SessionID)
	eq(t, "Participant.AccountID", got.AccountID, want.AccountID)
	eq(t, "Participant.Role", got.Role, want.Role)
	eq(t, "Participant.DisplayName", got.DisplayName, want.DisplayName)
	eq(t, "Participant.Language", got.Language, want.Language)
	eq(t, "Participant.TimeZone", got.TimeZone, want.TimeZone)
	eq(t, "Participant.Email", got.Email, want.Email)
	eqNullTime(t, "Participant.ConsentAt", got.ConsentAt, want.ConsentAt)
	eqNullTime(t, "Participant.JoinedAt", got.JoinedAt, want.JoinedAt)
	eqNullTime(t, "Participant.LeftAt", got.LeftAt, want.LeftAt)
	eq(t, "Participant.LastIP", got.LastIP, want.LastIP)
	eqTime(t, "Participant.CreatedAt", got.CreatedAt, want.CreatedAt)
	eq(t, "Participant.InterpretsFor", got.InterpretsFor, want.InterpretsFor)
}

func checkInvite(t *testing.T, got, want *cases.Invite) {
	t.Helper()
	eq(t, "Invite.ID", got.ID, want.ID)
	eq(t, "Invite.ParticipantID", got.ParticipantID, want.ParticipantID)
	eq(t, "Invite.SessionID", got.SessionID, want.SessionID)
	if !bytes.Equal(got.TokenHash, want.TokenHash) {
		t.Errorf("Invite.TokenHash = %x, want %x", got.TokenHash, want.TokenHash)
	}
	eqTime(t, "Invite.ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	eqNullTime(t, "Invite.RevokedAt", got.RevokedAt, want.RevokedAt)
	eqTime(t, "Invite.CreatedAt", got.CreatedAt, want.CreatedAt)
}

// participant reads a participant, failing the test if it cannot.
func participant(t *testing.T, s store.Store, id string) *cases.Participant {
	t.Helper()
	p, err := s.Participant(t.Context(), id)
	must(t, "Participant", err)
	return p
}

func testParticipantRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	staff := newParticipant(f.session, "Judge Li", at(3*time.Hour))
	staff.AccountID = f.account.ID
	staff.Role = cases.RoleJudge
	staff.Language, staff.TimeZone, staff.Email = "it", "Europe/Rome", ""
	staff.ConsentAt = ptr(at(24 * time.Hour))
	staff.JoinedAt = ptr(at(24*time.Hour + time.Second))
	staff.LeftAt = ptr(at(25 * time.Hour))
	staff.LastIP = "2001:db8::1"
	must(t, "CreateParticipant", s.CreateParticipant(ctx, staff))
	interpreter := newParticipant(f.session, "Lin Mei", at(4*time.Hour))
	interpreter.Role = cases.RoleInterpreter
	interpreter.InterpretsFor = f.participant.ID
	must(t, "CreateParticipant(interpreter)", s.CreateParticipant(ctx, interpreter))

	for _, want := range []*cases.Participant{f.participant, staff, interpreter} {
		checkParticipant(t, participant(t, s, want.ID), want)
	}
	list, err := s.ParticipantsOfSession(ctx, f.session.ID)
	must(t, "ParticipantsOfSession", err)
	if len(list) != 3 {
		t.Fatalf("ParticipantsOfSession returned %d, want 3", len(list))
	}
	for i, want := range []*cases.Participant{f.participant, staff, interpreter} {
		checkParticipant(t, list[i], want)
	}
	_, err = s.Participant(ctx, store.NewID())
	wantErr(t, "Participant(unknown)", err, store.ErrNotFound)
}

func testParticipantsOfSessionOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court") // f.participant created at t0+2h
	otherSession := newSession(f.kase, at(0))
	must(t, "CreateSession", s.CreateSession(ctx, otherSession))
	must(t, "CreateParticipant(other session)", s.CreateParticipant(ctx, newParticipant(otherSession, "X", at(0))))

	tieB := newParticipant(f.session, "B", at(time.Hour))
	tieB.ID = "b-" + tieB.ID
	tieA := newParticipant(f.session, "A", at(time.Hour))
	tieA.ID = "a-" + tieA.ID
	late := newParticipant(f.session, "Late", at(9*time.Hour))
	for _, p := range []*cases.Participant{late, tieB, tieA} {
		must(t, "CreateParticipant", s.CreateParticipant(ctx, p))
	}
	got, err := s.ParticipantsOfSession(ctx, f.session.ID)
	must(t, "ParticipantsOfSession", err)
	want := []*cases.Participant{tieA, tieB, f.participant, late}
	if len(got) != len(want) {
		t.Fatalf("ParticipantsOfSession returned %d, want %d", len(got), len(want))
	}
	for i := range want {
		checkParticipant(t, got[i], want[i])
	}
	got, err = s.ParticipantsOfSession(ctx, store.NewID())
	must(t, "ParticipantsOfSession(unknown)", err)
	eq(t, "len(ParticipantsOfSession(unknown))", len(got), 0)
}

// testMarkJoinedLeft checks that MarkJoined keeps the first join, always
// updates the address and clears LeftAt, and that MarkLeft keeps the last
// leave.
func testMarkJoinedLeft(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	id := f.participant.ID
	want := *f.participant

	must(t, "MarkJoined", s.MarkJoined(ctx, id, at(10*time.Hour), "203.0.113.7"))
	want.JoinedAt, want.LastIP = ptr(at(10*time.Hour)), "203.0.113.7"
	checkParticipant(t, participant(t, s, id), &want)

	must(t, "MarkLeft", s.MarkLeft(ctx, id, at(11*time.Hour)))
	want.LeftAt = ptr(at(11 * time.Hour))
	checkParticipant(t, participant(t, s, id), &want)

	must(t, "MarkJoined again", s.MarkJoined(ctx, id, at(12*time.Hour), "198.51.100.9"))
	want.LeftAt, want.LastIP = nil, "198.51.100.9"
	checkParticipant(t, participant(t, s, id), &want)

	must(t, "MarkLeft again", s.MarkLeft(ctx, id, at(13*time.Hour)))
	want.LeftAt = ptr(at(13 * time.Hour))
	checkParticipant(t, participant(t, s, id), &want)

	wantErr(t, "MarkJoined(unknown)", s.MarkJoined(ctx, store.NewID(), t0, "192.0.2.1"), store.ErrNotFound)
	wantErr(t, "MarkLeft(unknown)", s.MarkLeft(ctx, store.NewID(), t0), store.ErrNotFound)
}

func testMarkConsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	id := f.participant.ID
	must(t, "MarkConsent", s.MarkConsent(ctx, id, at(10*time.Hour)))
	must(t, "MarkConsent again", s.MarkConsent(ctx, id, at(11*time.Hour)))
	want := *f.participant
	want.ConsentAt = ptr(at(10 * time.Hour))
	checkParticipant(t, participant(t, s, id), &want)
	wantErr(t, "MarkConsent(unknown)", s.MarkConsent(ctx, store.NewID(), t0), store.ErrNotFound)
}

func testInviteRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	second := newInvite(f.participant, 2, at(5*time.Hour))
	first := newInvite(f.participant, 1, at(4*time.Hour))
	first.RevokedAt = ptr(at(4*time.Hour + time.Minute))
	other := newParticipant(f.session, "Other", at(0))
	must(t, "CreateParticipant", s.CreateParticipant(ctx, other))
	for _, i := range []*cases.Invite{second, first, newInvite(other, 3, at(0))} {
		must(t, "CreateInvite", s.CreateInvite(ctx, i))
	}

	for _, want := range []*cases.Invite{first, second} {
		got, err := s.InviteByTokenHash(ctx, want.TokenHash)
		must(t, "InviteByTokenHash", err)
		checkInvite(t, got, want)
	}
	list, err := s.InvitesOfParticipant(ctx, f.participant.ID)
	must(t, "InvitesOfParticipant", err)
	if len(list) != 2 {
		t.Fatalf("InvitesOfParticipant returned %d, want 2", len(list))
	}
	checkInvite(t, list[0], first)
	checkInvite(t, list[1], second)

	_, err = s.InviteByTokenHash(ctx, newInvite(f.participant, 9, t0).TokenHash)
	wantErr(t, "InviteByTokenHash(unknown)", err, store.ErrNotFound)
	list, err = s.InvitesOfParticipant(ctx, store.NewID())
	must(t, "InvitesOfParticipant(unknown)", err)
	eq(t, "len(InvitesOfParticipant(unknown))", len(list), 0)
}

func testInviteConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	i := newInvite(f.participant, 1, t0)
	must(t, "CreateInvite", s.CreateInvite(ctx, i))
	wantErr(t, "CreateInvite(same hash)", s.CreateInvite(ctx, newInvite(f.participant, 1, t0)), store.ErrConflict)
	sameID := newInvite(f.participant, 2, t0)
	sameID.ID = i.ID
	wantErr(t, "CreateInvite(same id)", s.CreateInvite(ctx, sameID), store.ErrConflict)
	list, err := s.InvitesOfParticipant(ctx, f.participant.ID)
	must(t, "InvitesOfParticipant", err)
	eq(t, "len(InvitesOfParticipant)", len(list), 1)
}

func testRevokeInvite(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	i := newInvite(f.participant, 1, t0)
	must(t, "CreateInvite", s.CreateInvite(ctx, i))
	got, err := s.InviteByTokenHash(ctx, i.TokenHash)
	must(t, "InviteByTokenHash", err)
	eq(t, "Usable before revoking", got.Usable(at(time.Hour)), true)

	must(t, "RevokeInvite", s.RevokeInvite(ctx, i.ID, at(time.Hour)))
	must(t, "RevokeInvite again", s.RevokeInvite(ctx, i.ID, at(2*time.Hour)))
	got, err = s.InviteByTokenHash(ctx, i.TokenHash)
	must(t, "InviteByTokenHash", err)
	want := *i
	want.RevokedAt = ptr(at(time.Hour))
	checkInvite(t, got, &want)
	eq(t, "Usable after revoking", got.Usable(at(time.Hour)), false)
	wantErr(t, "RevokeInvite(unknown)", s.RevokeInvite(ctx, store.NewID(), t0), store.ErrNotFound)
}
