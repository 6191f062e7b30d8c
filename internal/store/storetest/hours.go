package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func testOfficeHours(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Wencheng service center")
	if _, err := s.OfficeHours(ctx, f.org.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OfficeHours before any: %v, want ErrNotFound", err)
	}
	h := &cases.OfficeHours{OrgID: f.org.ID, TimeZone: "Asia/Shanghai", SlotMinutes: 30,
		Closed: []string{"2026-01-01", "2026-02-17"}, UpdatedAt: at(time.Minute).UTC(), UpdatedBy: f.account.ID}
	for d := time.Monday; d <= time.Saturday; d++ {
		h.Weekly[d] = []cases.TimeRange{{Start: 14 * 60, End: 22 * 60}}
	}
	h.Weekly[time.Saturday] = []cases.TimeRange{{Start: 9 * 60, End: 12 * 60}, {Start: 14 * 60, End: 24 * 60}}
	must(t, "PutOfficeHours", s.PutOfficeHours(ctx, h))
	got, err := s.OfficeHours(ctx, f.org.ID)
	must(t, "OfficeHours", err)
	if got.UpdatedAt.Sub(h.UpdatedAt).Abs() >= time.Microsecond {
		t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, h.UpdatedAt)
	}
	got.UpdatedAt = h.UpdatedAt
	if !reflect.DeepEqual(got, h) {
		t.Fatalf("OfficeHours = %+v, want %+v", got, h)
	}

	// Replacing: everything changes, the closed list may become empty.
	h2 := &cases.OfficeHours{OrgID: f.org.ID, TimeZone: "Europe/Rome", SlotMinutes: 60, Closed: []string{},
		UpdatedAt: at(2 * time.Minute).UTC()}
	h2.Weekly[time.Wednesday] = []cases.TimeRange{{Start: 8 * 60, End: 12 * 60}}
	must(t, "PutOfficeHours again", s.PutOfficeHours(ctx, h2))
	got, err = s.OfficeHours(ctx, f.org.ID)
	must(t, "OfficeHours", err)
	got.UpdatedAt = h2.UpdatedAt
	if !reflect.DeepEqual(got, h2) {
		t.Fatalf("OfficeHours after replace = %+v, want %+v", got, h2)
	}

	// Another organization's hours are its own; an unknown one is refused.
	g := seed(t, s, "Milan desk")
	if _, err := s.OfficeHours(ctx, g.org.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OfficeHours of another org: %v, want ErrNotFound", err)
	}
	if err := s.PutOfficeHours(ctx, &cases.OfficeHours{OrgID: "no-such-org", TimeZone: "UTC", SlotMinutes: 30, UpdatedAt: t0}); err == nil {
		t.Errorf("PutOfficeHours for an unknown org succeeded")
	}
}

func testSelfBooking(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Booking org")
	if _, err := s.SelfBooking(ctx, f.session.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SelfBooking before opening: %v, want ErrNotFound", err)
	}
	must(t, "OpenSelfBooking", s.OpenSelfBooking(ctx, f.session.ID, at(time.Minute)))
	must(t, "OpenSelfBooking again", s.OpenSelfBooking(ctx, f.session.ID, at(time.Hour)))
	b, err := s.SelfBooking(ctx, f.session.ID)
	must(t, "SelfBooking", err)
	if b.OpenedAt.Sub(at(time.Minute)).Abs() >= time.Microsecond || b.BookedAt != nil || b.BookedBy != "" {
		t.Fatalf("SelfBooking = %+v, want opened at %v, not booked", b, at(time.Minute))
	}

	start := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Minute)
	must(t, "BookSession", s.BookSession(ctx, &cases.Booking{SessionID: f.session.ID, ParticipantID: f.participant.ID,
		Start: start, End: end, At: at(2 * time.Hour)}))
	b, err = s.SelfBooking(ctx, f.session.ID)
	must(t, "SelfBooking", err)
	if b.BookedAt == nil || b.BookedAt.Sub(at(2*time.Hour)).Abs() >= time.Microsecond || b.BookedBy != f.participant.ID {
		t.Fatalf("SelfBooking after booking = %+v", b)
	}
	ss, err := s.Session(ctx, f.session.ID)
	must(t, "Session", err)
	if !ss.ScheduledStart.Equal(start) || !ss.ScheduledEnd.Equal(end) {
		t.Fatalf("session scheduled %v-%v, want %v-%v", ss.ScheduledStart, ss.ScheduledEnd, start, end)
	}
	// Booking again (another slot) moves the session: its own old slot
	// does not block it.
	must(t, "BookSession again", s.BookSession(ctx, &cases.Booking{SessionID: f.session.ID, ParticipantID: f.participant.ID,
		Start: start.Add(15 * time.Minute), End: end.Add(15 * time.Minute), At: at(3 * time.Hour)}))

	// A session not open for self-booking, a live one, an unknown one.
	other := newSession(f.kase, at(time.Minute))
	must(t, "CreateSession", s.CreateSession(ctx, other))
	bk := &cases.Booking{SessionID: other.ID, Start: start.Add(24 * time.Hour), End: end.Add(24 * time.Hour), At: at(time.Hour)}
	if err := s.BookSession(ctx, bk); !errors.Is(err, store.ErrBookingClosed) {
		t.Errorf("BookSession of a session not open: %v, want ErrBookingClosed", err)
	}
	must(t, "OpenSelfBooking", s.OpenSelfBooking(ctx, other.ID, at(time.Minute)))
	must(t, "MarkSessionLive", s.MarkSessionLive(ctx, other.ID, at(time.Hour)))
	if err := s.BookSession(ctx, bk); !errors.Is(err, store.ErrBookingClosed) {
		t.Errorf("BookSession of a live session: %v, want ErrBookingClosed", err)
	}
	bk.SessionID = "no-such-session"
	if err := s.BookSession(ctx, bk); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("BookSession of an unknown session: %v, want ErrNotFound", err)
	}
}

// presided adds a presiding participant with account a to sess.
func presided(t *testing.T, s store.Store, sess *cases.Session, a *cases.Account) {
	t.Helper()
	p := newParticipant(sess, a.Name, at(time.Minute))
	p.AccountID, p.Role = a.ID, cases.RoleMediator
	must(t, "CreateParticipant", s.CreateParticipant(t.Context(), p))
}

func testBusySessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Busy org")
	other := seed(t, s, "Other org")
	mediator2 := newAccount(f.org, store.NewID()+"@example.org")
	must(t, "CreateAccount", s.CreateAccount(ctx, mediator2))
	day := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	mk := func(start time.Time, end time.Time) *cases.Session {
		ss := newSession(f.kase, at(time.Minute))
		ss.ScheduledStart, ss.ScheduledEnd = start, end
		must(t, "CreateSession", s.CreateSession(ctx, ss))
		return ss
	}
	a := mk(day.Add(6*time.Hour), day.Add(7*time.Hour))   // 06:00-07:00
	b := mk(day.Add(8*time.Hour), time.Time{})            // 08:00, no end: until 09:00
	c := mk(day.Add(10*time.Hour), day.Add(11*time.Hour)) // ended
	d := mk(day.Add(6*time.Hour), day.Add(7*time.Hour))   // open for self-booking, not booked
	e := mk(day.Add(12*time.Hour), day.Add(13*time.Hour)) // outside the window
	presided(t, s, a, f.account)
	presided(t, s, a, mediator2)
	presided(t, s, b, f.account)
	must(t, "EndSession", s.EndSession(ctx, c.ID, at(time.Hour)))
	must(t, "OpenSelfBooking", s.OpenSelfBooking(ctx, d.ID, at(time.Minute)))
	_ = e
	// The other organization's session at the same time is not listed.
	os := newSession(other.kase, at(time.Minute))
	os.ScheduledStart = day.Add(6 * time.Hour)
	must(t, "CreateSession", s.CreateSession(ctx, os))

	busy, err := s.BusySessions(ctx, f.org.ID, day.Add(6*time.Hour+30*time.Minute), day.Add(12*time.Hour))
	must(t, "BusySessions", err)
	var ids []string
	for _, x := range busy {
		ids = append(ids, x.SessionID)
	}
	if want := []string{a.ID, b.ID}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("BusySessions = %v, want %v (a, b)", ids, want)
	}
	wantA := []string{f.account.ID, mediator2.ID}
	if wantA[0] > wantA[1] {
		wantA[0], wantA[1] = wantA[1], wantA[0]
	}
	if !reflect.DeepEqual(busy[0].Presiders, wantA) || !busy[0].End.Equal(day.Add(7*time.Hour)) {
		t.Errorf("busy a = %+v, want presiders %v, end 07:00", busy[0], wantA)
	}
	if !busy[1].End.Equal(day.Add(9*time.Hour)) || !reflect.DeepEqual(busy[1].Presiders, []string{f.account.ID}) {
		t.Errorf("busy b = %+v, want end 09:00 (default length), presider %s", busy[1], f.account.ID)
	}
	// A window touching a session's end does not include it.
	busy, err = s.BusySessions(ctx, f.org.ID, day.Add(7*time.Hour), day.Add(8*time.Hour))
	must(t, "BusySessions", err)
	if len(busy) != 0 {
		t.Errorf("BusySessions 07:00-08:00 = %d sessions, want none", len(busy))
	}
}

// testBookConflicts: a slot is taken by an overlapping session of the
// same presider, or of the organization when the booked session has no
// presider.
func testBookConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Conflict org")
	mediator2 := newAccount(f.org, store.NewID()+"@example.org")
	must(t, "CreateAccount", s.CreateAccount(ctx, mediator2))
	slot := time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC)
	fixed := newSession(f.kase, at(time.Minute))
	fixed.ScheduledStart, fixed.ScheduledEnd = slot, slot.Add(time.Hour)
	must(t, "CreateSession", s.CreateSession(ctx, fixed))
	presided(t, s, fixed, f.account)

	open := func(a *cases.Account) *cases.Session {
		ss := newSession(f.kase, at(time.Minute))
		must(t, "CreateSession", s.CreateSession(ctx, ss))
		if a != nil {
			presided(t, s, ss, a)
		}
		must(t, "OpenSelfBooking", s.OpenSelfBooking(ctx, ss.ID, at(time.Minute)))
		return ss
	}
	book := func(ss *cases.Session, start time.Time) error {
		return s.BookSession(ctx, &cases.Booking{SessionID: ss.ID, Start: start, End: start.Add(30 * time.Minute), At: at(time.Hour)})
	}
	same, diff, none := open(f.account), open(mediator2), open(nil)
	if err := book(same, slot.Add(30*time.Minute)); !errors.Is(err, store.ErrSlotTaken) {
		t.Errorf("same presider, overlapping: %v, want ErrSlotTaken", err)
	}
	if err := book(none, slot); !errors.Is(err, store.ErrSlotTaken) {
		t.Errorf("no presider, overlapping an organization's session: %v, want ErrSlotTaken", err)
	}
	must(t, "another presider, overlapping", book(diff, slot))
	must(t, "same presider, right after", book(same, slot.Add(time.Hour)))
	// same's booking (07:00-07:30) now takes the time from a session
	// without presider.
	if err := book(none, slot.Add(75*time.Minute)); !errors.Is(err, store.ErrSlotTaken) {
		t.Errorf("no presider, overlapping a booked session: %v, want ErrSlotTaken", err)
	}
	must(t, "no presider, free", book(none, slot.Add(2*time.Hour)))
}

// testBookConcurrent: of bookings of one slot at once, one wins.
func testBookConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Race org")
	const n = 6
	var ids []string
	for range n {
		ss := newSession(f.kase, at(time.Minute))
		must(t, "CreateSession", s.CreateSession(ctx, ss))
		presided(t, s, ss, f.account)
		must(t, "OpenSelfBooking", s.OpenSelfBooking(ctx, ss.ID, at(time.Minute)))
		ids = append(ids, ss.ID)
	}
	slot := time.Date(2026, 11, 4, 6, 0, 0, 0, time.UTC)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
	)
	for _, id := range ids {
		wg.Go(func() {
			err := s.BookSession(ctx, &cases.Booking{SessionID: id, Start: slot, End: slot.Add(30 * time.Minute), At: at(time.Hour)})
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, id)
				mu.Unlock()
			case !errors.Is(err, store.ErrSlotTaken):
				t.Errorf("BookSession(%s): %v, want nil or ErrSlotTaken", id, err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d bookings of one slot succeeded, want 1", len(winners))
	}
	busy, err := s.BusySessions(ctx, f.org.ID, slot, slot.Add(30*time.Minute))
	must(t, "BusySessions", err)
	if len(busy) != 1 || busy[0].SessionID != winners[0] {
		t.Fatalf("busy after the race = %d sessions, want only the winner", len(busy))
	}
}
