package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/sqlite"
)

// hoursWorld is an API server on a real SQLite store with an organization
// (an admin, a mediator), a case, and a session open for self-booking
// with a party invited.
type hoursWorld struct {
	t        *testing.T
	st       store.Store
	srv      *httptest.Server
	now      time.Time
	org      *cases.Org
	admin    string // bearer tokens
	mediator string
	medAcct  *cases.Account
	kase     *cases.Case
	session  *cases.Session
	invite   string // the party's invite token
	partyID  string
}

func newHoursWorld(t *testing.T, now time.Time) *hoursWorld {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	w := &hoursWorld{t: t, st: st, now: now}
	w.org = &cases.Org{ID: store.NewID(), Name: "Wencheng service center", CreatedAt: now}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("CreateOrg", st.CreateOrg(ctx, w.org))
	login := func(role cases.Role) (*cases.Account, string) {
		a := &cases.Account{ID: store.NewID(), OrgID: w.org.ID, Email: store.NewID() + "@example.org", Name: string(role),
			Role: role, PasswordHash: "x", CreatedAt: now}
		must("CreateAccount", st.CreateAccount(ctx, a))
		tok := store.NewID()
		must("CreateLogin", st.CreateLogin(ctx, &cases.Login{TokenHash: auth.HashToken(tok), AccountID: a.ID, CSRF: "c",
			CreatedAt: now, ExpiresAt: now.Add(1000 * time.Hour)}))
		return a, tok
	}
	_, w.admin = login(cases.RoleAdmin)
	w.medAcct, w.mediator = login(cases.RoleMediator)
	w.kase = &cases.Case{ID: store.NewID(), OrgID: w.org.ID, Kind: cases.KindMediation, Number: "(2026)浙0328民调1号",
		Title: "Inheritance", Status: "open", CreatedBy: w.medAcct.ID, CreatedAt: now}
	must("CreateCase", st.CreateCase(ctx, w.kase))
	w.session, w.invite, w.partyID = w.newSession(true)
	s := &Server{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return w.now },
		PublicURL: func() string { return "http://127.0.0.1:1" }}
	mux := http.NewServeMux()
	s.Routes(mux)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

// newSession adds a session presided by the mediator, with a party
// invited; selfBooking opens it for self-booking.
func (w *hoursWorld) newSession(selfBooking bool) (*cases.Session, string, string) {
	t, ctx := w.t, w.t.Context()
	t.Helper()
	ss := &cases.Session{ID: store.NewID(), CaseID: w.kase.ID, OrgID: w.org.ID, Title: "Hearing",
		ScheduledStart: w.now, TimeZone: "Asia/Shanghai", Record: true, State: "scheduled", CreatedAt: w.now}
	med := &cases.Participant{ID: store.NewID(), SessionID: ss.ID, AccountID: w.medAcct.ID, Role: cases.RoleMediator,
		DisplayName: "Mediator", Language: "zh-CN", TimeZone: "Asia/Shanghai", CreatedAt: w.now}
	party := &cases.Participant{ID: store.NewID(), SessionID: ss.ID, Role: cases.RoleParty, DisplayName: "Chen Wei",
		Language: "it", TimeZone: "Europe/Rome", CreatedAt: w.now}
	tok := store.NewID()
	inv := &cases.Invite{ID: store.NewID(), ParticipantID: party.ID, SessionID: ss.ID, TokenHash: auth.HashToken(tok),
		ExpiresAt: w.now.Add(90 * 24 * time.Hour), CreatedAt: w.now}
	for _, create := range []func() error{
		func() error { return w.st.CreateSession(ctx, ss) },
		func() error { return w.st.CreateParticipant(ctx, med) },
		func() error { return w.st.CreateParticipant(ctx, party) },
		func() error { return w.st.CreateInvite(ctx, inv) },
	} {
		if err := create(); err != nil {
			t.Fatal(err)
		}
	}
	if selfBooking {
		if err := w.st.OpenSelfBooking(ctx, ss.ID, w.now); err != nil {
			t.Fatal(err)
		}
	}
	return ss, tok, party.ID
}

// call sends a JSON request (bearer "" for none) and decodes the answer
// into out when not nil; it returns the status and the error code.
func (w *hoursWorld) call(method, path, bearer string, body, out any) (int, string) {
	w.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, w.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			w.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, e.Error.Code
}

// wencheng are Mon-Sat 14:00-22:00 in Asia/Shanghai, hourly slots.
var wencheng = map[string]any{"time_zone": "Asia/Shanghai", "slot_minutes": 60,
	"weekly": map[string][]string{"mon": {"14:00-22:00"}, "tue": {"14:00-22:00"}, "wed": {"14:00-22:00"},
		"thu": {"14:00-22:00"}, "fri": {"14:00-22:00"}, "sat": {"14:00-18:00", "19:00-22:00"}},
	"closed": []string{"2026-04-04"}}

func TestHoursSetGet(t *testing.T) {
	w := newHoursWorld(t, time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
	var got struct {
		OfficeHours *hoursView `json:"office_hours"`
	}
	if st, _ := w.call("GET", "/api/v1/org/hours", w.mediator, nil, &got); st != 200 || got.OfficeHours != nil {
		t.Fatalf("GET before any: %d %+v, want 200 null", st, got.OfficeHours)
	}
	if st, code := w.call("PUT", "/api/v1/org/hours", w.mediator, wencheng, nil); st != 403 || code != "forbidden" {
		t.Fatalf("PUT by a mediator: %d %s, want 403 forbidden", st, code)
	}
	if st, code := w.call("PUT", "/api/v1/org/hours", "", wencheng, nil); st != 401 {
		t.Fatalf("PUT without login: %d %s, want 401", st, code)
	}
	if st, code := w.call("PUT", "/api/v1/org/hours", w.admin, wencheng, nil); st != 200 {
		t.Fatalf("PUT by the admin: %d %s", st, code)
	}
	if st, _ := w.call("GET", "/api/v1/org/hours", w.mediator, nil, &got); st != 200 || got.OfficeHours == nil {
		t.Fatalf("GET: %d", st)
	}
	h := got.OfficeHours
	if h.TimeZone != "Asia/Shanghai" || h.SlotMinutes != 60 || len(h.Weekly) != 6 || h.Weekly["sat"][1].String() != "19:00-22:00" ||
		len(h.Closed) != 1 || h.UpdatedAt == nil || h.UpdatedBy == "" {
		t.Fatalf("hours %+v", h)
	}
	entries, err := w.st.AuditEntries(t.Context(), audit.Filter{OrgID: w.org.ID, Actions: []string{"org.hours_set"}})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, "Asia/Shanghai") {
		t.Fatalf("audit org.hours_set: %v %+v", err, entries)
	}

	for name, body := range map[string]map[string]any{
		"unknown zone":      {"time_zone": "Mars/Olympus", "slot_minutes": 30, "weekly": map[string][]string{"mon": {"14:00-22:00"}}},
		"no zone":           {"slot_minutes": 30},
		"local zone":        {"time_zone": "Local", "slot_minutes": 30},
		"slot too short":    {"time_zone": "UTC", "slot_minutes": 5},
		"slot too long":     {"time_zone": "UTC", "slot_minutes": 600},
		"overlap":           {"time_zone": "UTC", "slot_minutes": 30, "weekly": map[string][]string{"mon": {"14:00-18:00", "17:00-20:00"}}},
		"end before":        {"time_zone": "UTC", "slot_minutes": 30, "weekly": map[string][]string{"mon": {"22:00-14:00"}}},
		"empty range":       {"time_zone": "UTC", "slot_minutes": 30, "weekly": map[string][]string{"mon": {"14:00-14:00"}}},
		"not a range":       {"time_zone": "UTC", "slot_minutes": 30, "weekly": map[string][]string{"mon": {"2pm to 4pm"}}},
		"bad clock":         {"time_zone": "UTC", "slot_minutes": 30, "weekly": map[string][]string{"mon": {"14:00-25:00"}}},
		"shorter than slot": {"time_zone": "UTC", "slot_minutes": 60, "weekly": map[string][]string{"mon": {"14:00-14:30"}}},
		"unknown day":       {"time_zone": "UTC", "slot_minutes": 30, "weekly": map[string][]string{"funday": {"14:00-15:00"}}},
		"bad date":          {"time_zone": "UTC", "slot_minutes": 30, "closed": []string{"25/12/2026"}},
	} {
		if st, code := w.call("PUT", "/api/v1/org/hours", w.admin, body, nil); st != 400 || code != "invalid_hours" {
			t.Errorf("%s: %d %s, want 400 invalid_hours", name, st, code)
		}
	}
	if st, code := w.call("PUT", "/api/v1/org/hours", w.admin, map[string]any{"time_zone": "UTC", "slot_minutes": 30, "extra": 1}, nil); st != 400 {
		t.Errorf("unknown field: %d %s, want 400", st, code)
	}
	// The refused requests changed nothing.
	if _, _ = w.call("GET", "/api/v1/org/hours", w.admin, nil, &got); got.OfficeHours.TimeZone != "Asia/Shanghai" {
		t.Errorf("hours changed by a refused request: %+v", got.OfficeHours)
	}
}

// TestSlotsAcrossDST: the hours stay 14:00-22:00 in Shanghai (no DST); in
// Rome they move from 07:00-15:00 to 08:00-16:00 when Rome's clocks go
// forward on the last Sunday of March, and back on the last of October.
func TestSlotsAcrossDST(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	for _, tc := range []struct {
		name               string
		now                time.Time
		before, after      time.Time // a weekday before the change and after, 00:00 UTC
		romeBefore, after2 int       // first slot's hour in Rome
	}{
		{"march", time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), 7, 8},
		{"october", time.Date(2026, 10, 22, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 23, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC), 8, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newHoursWorld(t, tc.now)
			if st, code := w.call("PUT", "/api/v1/org/hours", w.admin, wencheng, nil); st != 200 {
				t.Fatalf("PUT: %d %s", st, code)
			}
			var resp slotsResponse
			if st, code := w.call("POST", "/api/v1/booking/slots", "", map[string]any{"invite": w.invite, "days": 7}, &resp); st != 200 {
				t.Fatalf("slots: %d %s", st, code)
			}
			if resp.OfficeHours == nil || resp.OfficeHours.Organization != w.org.Name || resp.Session.SelfBooking == nil {
				t.Fatalf("slots response %+v", resp)
			}
			byDay := map[string][]time.Time{}
			for _, s := range resp.Slots {
				if s.End.Sub(s.Start) != time.Hour || s.Start.Location() != time.UTC {
					t.Fatalf("slot %+v: want an hour, in UTC", s)
				}
				byDay[s.Start.Format(time.DateOnly)] = append(byDay[s.Start.Format(time.DateOnly)], s.Start)
			}
			for _, d := range []struct {
				day  time.Time
				hour int
			}{{tc.before, tc.romeBefore}, {tc.after, tc.after2}} {
				slots := byDay[d.day.Format(time.DateOnly)]
				if len(slots) != 8 {
					t.Fatalf("%s: %d slots, want 8 (14:00-22:00 hourly)", d.day.Format(time.DateOnly), len(slots))
				}
				if !slots[0].Equal(d.day.Add(6*time.Hour)) || slots[0].In(rome).Hour() != d.hour || slots[7].In(rome).Hour() != d.hour+7 {
					t.Errorf("%s: first slot %v (%v in Rome), want 06:00Z = %02d:00 in Rome", d.day.Format(time.DateOnly),
						slots[0], slots[0].In(rome), d.hour)
				}
			}
			// Sunday has no hours; Saturday has its pause (7 slots).
			for day, slots := range byDay {
				wd := slots[0].In(mustZone(t, "Asia/Shanghai")).Weekday()
				if wd == time.Sunday || (wd == time.Saturday && len(slots) != 7) {
					t.Errorf("%s (%s): %d slots", day, wd, len(slots))
				}
			}
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestSlotsInRomeHours: an organization keeping its hours in a zone with
// DST has no slot in the hour skipped in March, and one slot for the hour
// that happens twice in October.
func TestSlotsInRomeHours(t *testing.T) {
	h := &cases.OfficeHours{TimeZone: "Europe/Rome", SlotMinutes: 30}
	h.Weekly[time.Sunday] = []cases.TimeRange{{Start: 60, End: 4 * 60}}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	rome := mustZone(t, "Europe/Rome")
	wall := func(ts []time.Time) []string {
		var out []string
		for _, x := range ts {
			out = append(out, x.In(rome).Format("15:04"))
		}
		return strings.Fields(strings.Join(out, " "))
	}
	march := h.Slots(time.Date(2026, 3, 29, 0, 0, 0, 0, rome), time.Date(2026, 3, 30, 0, 0, 0, 0, rome))
	if got := strings.Join(wall(march), " "); got != "01:00 01:30 03:00 03:30" {
		t.Errorf("29 March slots %q, want 01:00 01:30 03:00 03:30 (02:00-03:00 does not exist)", got)
	}
	for _, s := range march {
		if !h.IsSlot(s) {
			t.Errorf("IsSlot(%v) = false", s)
		}
	}
	if h.IsSlot(time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)) != true { // 03:00 CEST
		t.Errorf("03:00 CEST is a slot")
	}
	october := h.Slots(time.Date(2026, 10, 25, 0, 0, 0, 0, rome), time.Date(2026, 10, 26, 0, 0, 0, 0, rome))
	if got := strings.Join(wall(october), " "); got != "01:00 01:30 02:00 02:30 03:00 03:30" {
		t.Errorf("25 October slots %q, want each wall time once", got)
	}
	for i := 1; i < len(october); i++ {
		if !october[i].After(october[i-1]) {
			t.Errorf("slots out of order: %v", october)
		}
	}
}

func TestBooking(t *testing.T) {
	// Thursday 26 March 2026, 05:00 UTC = 13:00 in Shanghai.
	now := time.Date(2026, 3, 26, 5, 0, 0, 0, time.UTC)
	w := newHoursWorld(t, now)
	book := func(invite string, start time.Time) (int, string) {
		return w.call("POST", "/api/v1/booking", "", map[string]any{"invite": invite, "start": start}, nil)
	}
	slot := time.Date(2026, 3, 26, 7, 0, 0, 0, time.UTC) // 15:00 in Shanghai
	if st, code := book(w.invite, slot); st != 409 || code != "hours_not_set" {
		t.Fatalf("before hours are set: %d %s, want 409 hours_not_set", st, code)
	}
	if st, code := w.call("PUT", "/api/v1/org/hours", w.admin, wencheng, nil); st != 200 {
		t.Fatalf("PUT: %d %s", st, code)
	}
	// Another session of the same mediator, fixed by staff at 16:00-17:00
	// Shanghai time, takes that slot.
	fixed, _, _ := w.newSession(false)
	if err := w.st.EndSession(t.Context(), fixed.ID, now); err != nil {
		t.Fatal(err)
	}
	busy, _, _ := w.newSession(true)
	if err := w.st.BookSession(t.Context(), &cases.Booking{SessionID: busy.ID, Start: slot.Add(time.Hour), End: slot.Add(2 * time.Hour), At: now}); err != nil {
		t.Fatal(err)
	}
	_, closedInvite, _ := w.newSession(false)

	for _, tc := range []struct {
		name   string
		invite string
		start  time.Time
		status int
		code   string
	}{
		{"unknown invite", "nope", slot, 404, "invite_invalid"},
		{"empty invite", "-", slot, 404, "invite_invalid"},
		{"past", "", now.Add(-time.Hour), 400, "slot_in_past"},
		{"now", "", now, 400, "slot_in_past"},
		{"earlier today, outside hours", "", time.Date(2026, 3, 26, 5, 30, 0, 0, time.UTC), 400, "outside_hours"},
		{"after closing", "", time.Date(2026, 3, 26, 14, 0, 0, 0, time.UTC), 400, "outside_hours"},
		{"last slot runs past closing", "", time.Date(2026, 3, 26, 13, 30, 0, 0, time.UTC), 400, "outside_hours"},
		{"sunday", "", time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC), 400, "outside_hours"},
		{"saturday pause", "", time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC), 400, "outside_hours"},
		{"closed date", "", time.Date(2026, 4, 4, 7, 0, 0, 0, time.UTC), 400, "closed_date"},
		{"off the slot grid", "", slot.Add(30 * time.Minute), 400, "not_on_slot"},
		{"too far", "", slot.Add(70 * 24 * time.Hour), 400, "too_far_ahead"},
		{"zero", "", time.Time{}, 400, "invalid"},
		{"taken by the mediator's other session", "", slot.Add(time.Hour), 409, "slot_taken"},
		{"session not open for self-booking", "closed", slot, 409, "booking_closed"},
	} {
		inv := tc.invite
		switch inv {
		case "":
			inv = w.invite
		case "-":
			inv = ""
		case "closed":
			inv = closedInvite
		}
		if st, code := book(inv, tc.start); st != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, st, code, tc.status, tc.code)
		}
	}

	// The taken slot is not offered; the ended session's is.
	var resp slotsResponse
	if st, code := w.call("POST", "/api/v1/booking/slots", "", map[string]any{"invite": w.invite}, &resp); st != 200 {
		t.Fatalf("slots: %d %s", st, code)
	}
	offered := map[time.Time]bool{}
	for _, s := range resp.Slots {
		offered[s.Start] = true
		if !s.Start.After(now) {
			t.Errorf("slot %v offered at %v", s.Start, now)
		}
	}
	if !offered[slot] || offered[slot.Add(time.Hour)] {
		t.Errorf("offered %d slots; 15:00 %v (want true), 16:00 %v (want false)", len(resp.Slots), offered[slot], offered[slot.Add(time.Hour)])
	}

	var ok bookResponse
	if st, code := w.call("POST", "/api/v1/booking", "", map[string]any{"invite": w.invite, "start": slot.In(mustZone(t, "Europe/Rome"))}, &ok); st != 200 {
		t.Fatalf("book: %d %s", st, code)
	}
	ss, err := w.st.Session(t.Context(), w.session.ID)
	if err != nil || !ss.ScheduledStart.Equal(slot) || !ss.ScheduledEnd.Equal(slot.Add(time.Hour)) {
		t.Fatalf("session after booking: %+v %v, want %v", ss, err, slot)
	}
	if !ok.Session.ScheduledStart.Equal(slot) || ok.Session.SelfBooking == nil || ok.Session.SelfBooking.BookedAt == nil ||
		!strings.Contains(ok.Invitation.ICS, "DTSTART:20260326T070000Z") {
		t.Errorf("book response %+v", ok)
	}
	entries, err := w.st.AuditEntries(t.Context(), audit.Filter{OrgID: w.org.ID, Actions: []string{"session.booked"}})
	if err != nil || len(entries) != 1 || entries[0].ActorKind != audit.ActorParticipant || entries[0].ActorID != w.partyID ||
		entries[0].SessionID != w.session.ID || !strings.Contains(entries[0].Detail, "2026-03-26T07:00:00Z") {
		t.Fatalf("audit session.booked: %v %+v", err, entries)
	}
	// Booking another time moves the session; its own old time is free.
	if st, code := book(w.invite, slot.Add(2*time.Hour)); st != 200 {
		t.Errorf("rebook: %d %s", st, code)
	}
	if st, code := book(w.invite, slot); st != 200 {
		t.Errorf("book back: %d %s", st, code)
	}

	// Once the session has started, its time is fixed.
	if err := w.st.MarkSessionLive(t.Context(), w.session.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st, code := book(w.invite, slot.Add(2*time.Hour)); st != 409 || code != "booking_closed" {
		t.Errorf("after start: %d %s, want 409 booking_closed", st, code)
	}

	// Revoked and expired invites.
	inv, err := w.st.InviteByTokenHash(t.Context(), auth.HashToken(w.invite))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.st.RevokeInvite(t.Context(), inv.ID, now); err != nil {
		t.Fatal(err)
	}
	if st, code := book(w.invite, slot); st != 410 || code != "invite_revoked" {
		t.Errorf("revoked invite: %d %s", st, code)
	}
	if st, code := w.call("POST", "/api/v1/booking/slots", "", map[string]any{"invite": w.invite}, nil); st != 410 || code != "invite_revoked" {
		t.Errorf("slots with a revoked invite: %d %s", st, code)
	}
	_, other, _ := w.newSession(true)
	w.now = now.Add(91 * 24 * time.Hour)
	if st, code := book(other, slot.Add(92*24*time.Hour)); st != 410 || code != "invite_expired" {
		t.Errorf("expired invite: %d %s", st, code)
	}
}

// TestBookingConcurrent: two parties of two sessions of the same mediator
// book the same slot at once: one gets it, the other slot_taken.
func TestBookingConcurrent(t *testing.T) {
	now := time.Date(2026, 3, 26, 5, 0, 0, 0, time.UTC)
	w := newHoursWorld(t, now)
	if st, code := w.call("PUT", "/api/v1/org/hours", w.admin, wencheng, nil); st != 200 {
		t.Fatalf("PUT: %d %s", st, code)
	}
	invites := []string{w.invite}
	for range 3 {
		_, inv, _ := w.newSession(true)
		invites = append(invites, inv)
	}
	slot := time.Date(2026, 3, 27, 8, 0, 0, 0, time.UTC)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[string]int{}
	)
	for _, inv := range invites {
		wg.Go(func() {
			st, code := w.call("POST", "/api/v1/booking", "", map[string]any{"invite": inv, "start": slot}, nil)
			mu.Lock()
			codes[http.StatusText(st)+" "+code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes["OK "] != 1 || codes["Conflict slot_taken"] != len(invites)-1 {
		t.Fatalf("outcomes %v, want one OK and %d slot_taken", codes, len(invites)-1)
	}
}

func TestSessionCreateSelfBooking(t *testing.T) {
	now := time.Date(2026, 3, 26, 5, 0, 0, 0, time.UTC)
	w := newHoursWorld(t, now)
	var v sessionView
	body := map[string]any{"title": "To be booked", "time_zone": "Asia/Shanghai", "self_booking": true}
	if st, code := w.call("POST", "/api/v1/cases/"+w.kase.ID+"/sessions", w.mediator, body, &v); st != 201 {
		t.Fatalf("create: %d %s", st, code)
	}
	if v.SelfBooking == nil || !v.SelfBooking.Open || v.SelfBooking.BookedAt != nil {
		t.Fatalf("created session %+v, want open for self-booking", v)
	}
	if _, err := w.st.SelfBooking(t.Context(), v.ID); err != nil {
		t.Fatalf("SelfBooking: %v", err)
	}
	delete(body, "self_booking")
	if st, code := w.call("POST", "/api/v1/cases/"+w.kase.ID+"/sessions", w.mediator, body, nil); st != 400 || code != "invalid" {
		t.Fatalf("without scheduled_start nor self_booking: %d %s, want 400", st, code)
	}
}

func TestBookingBadInput(t *testing.T) {
	w := newHoursWorld(t, time.Date(2026, 3, 26, 5, 0, 0, 0, time.UTC))
	for name, tc := range map[string]struct {
		path string
		body any
		code string
	}{
		"days too many":    {"/api/v1/booking/slots", map[string]any{"invite": w.invite, "days": 61}, "invalid"},
		"days negative":    {"/api/v1/booking/slots", map[string]any{"invite": w.invite, "days": -1}, "invalid"},
		"unknown field":    {"/api/v1/booking/slots", map[string]any{"invite": w.invite, "when": "now"}, "bad_request"},
		"invite a number":  {"/api/v1/booking", map[string]any{"invite": 7}, "bad_request"},
		"start not a time": {"/api/v1/booking", map[string]any{"invite": w.invite, "start": "tomorrow"}, "bad_request"},
		"huge invite":      {"/api/v1/booking", map[string]any{"invite": strings.Repeat("x", 300), "start": w.now}, "invite_invalid"},
	} {
		if st, code := w.call("POST", tc.path, "", tc.body, nil); st/100 != 4 || code != tc.code {
			t.Errorf("%s: %d %s, want 4xx %s", name, st, code, tc.code)
		}
	}
	// Nothing was booked.
	if b, err := w.st.SelfBooking(t.Context(), w.session.ID); err != nil || b.BookedAt != nil {
		t.Errorf("self-booking after bad input: %+v %v", b, err)
	}
}
