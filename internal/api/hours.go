package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// Booking horizon: how many days of slots a party sees by default, and at
// most; a booking further ahead is refused.
const (
	defaultBookingDays = 14
	maxBookingDays     = 60
)

// hoursRoutes registers the office hours (staff) and the self-booking
// (parties, by invite) on mux.
func (s *Server) hoursRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/org/hours", s.staff(auth.CaseRead, s.getHours))
	mux.Handle("PUT /api/v1/org/hours", s.staff(auth.HoursSet, s.putHours))
	// The invite travels in the body, never in a URL that logs keep.
	mux.HandleFunc("POST /api/v1/booking/slots", s.bookingSlots)
	mux.HandleFunc("POST /api/v1/booking", s.book)
}

// hoursView is an organization's office hours in the API.
type hoursView struct {
	TimeZone    string                       `json:"time_zone"`
	SlotMinutes int                          `json:"slot_minutes"`
	Weekly      map[string][]cases.TimeRange `json:"weekly"`
	Closed      []string                     `json:"closed"`
	// Organization is the organization's name (for "14:00 in ...").
	Organization string `json:"organization,omitempty"`
	// UpdatedAt and UpdatedBy are shown to staff only.
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	UpdatedBy string     `json:"updated_by,omitempty"`
}

func viewHours(h *cases.OfficeHours, orgName string) *hoursView {
	if h == nil {
		return nil
	}
	closed := h.Closed
	if closed == nil {
		closed = []string{}
	}
	return &hoursView{TimeZone: h.TimeZone, SlotMinutes: h.SlotMinutes, Weekly: cases.WeeklyMap(h.Weekly),
		Closed: closed, Organization: orgName}
}

// orgHours loads an organization's hours; nil when it has set none.
func orgHours(ctx context.Context, st store.Store, orgID string) (*cases.OfficeHours, error) {
	h, err := st.OfficeHours(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return h, err
}

// getHours answers GET /api/v1/org/hours: {"office_hours": null} while
// the organization has set none.
func (s *Server) getHours(w http.ResponseWriter, r *http.Request, p *principal) error {
	h, err := orgHours(r.Context(), s.Store, p.account.OrgID)
	if err != nil {
		return err
	}
	v := viewHours(h, "")
	if v != nil {
		v.UpdatedAt, v.UpdatedBy = &h.UpdatedAt, h.UpdatedBy
	}
	writeJSON(w, http.StatusOK, map[string]any{"office_hours": v})
	return nil
}

type hoursRequest struct {
	TimeZone    string              `json:"time_zone"`
	SlotMinutes int                 `json:"slot_minutes"`
	Weekly      map[string][]string `json:"weekly"`
	Closed      []string            `json:"closed"`
}

// parseHours validates a request into the hours of org.
func parseHours(req *hoursRequest, orgID string) (*cases.OfficeHours, error) {
	h := &cases.OfficeHours{OrgID: orgID, TimeZone: req.TimeZone, SlotMinutes: req.SlotMinutes, Closed: req.Closed}
	if h.Closed == nil {
		h.Closed = []string{}
	}
	for day, ranges := range req.Weekly {
		d := -1
		for i, k := range cases.Weekdays {
			if k == strings.ToLower(day) {
				d = i
			}
		}
		if d < 0 {
			return nil, apiError(http.StatusBadRequest, "invalid_hours", "weekly: %q is not a day (sun, mon, tue, wed, thu, fri, sat)", day)
		}
		for _, s := range ranges {
			tr, err := cases.ParseTimeRange(s)
			if err != nil {
				return nil, apiError(http.StatusBadRequest, "invalid_hours", "weekly: %s: %v", cases.Weekdays[d], err)
			}
			h.Weekly[d] = append(h.Weekly[d], tr)
		}
	}
	if err := h.Validate(); err != nil {
		return nil, apiError(http.StatusBadRequest, "invalid_hours", "%v", err)
	}
	return h, nil
}

// putHours answers PUT /api/v1/org/hours: an administrator sets the
// organization's hours, replacing the previous ones.
func (s *Server) putHours(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req hoursRequest
	if e := decode(w, r, &req); e != nil {
		return e
	}
	h, err := parseHours(&req, p.account.OrgID)
	if err != nil {
		return err
	}
	h.UpdatedAt, h.UpdatedBy = s.now().UTC(), p.account.ID
	if err := s.Store.PutOfficeHours(r.Context(), h); err != nil {
		return err
	}
	v := viewHours(h, "")
	v.UpdatedAt, v.UpdatedBy = &h.UpdatedAt, h.UpdatedBy
	e := p.entry("org.hours_set")
	e.Detail = detail(map[string]any{"time_zone": v.TimeZone, "slot_minutes": v.SlotMinutes, "weekly": v.Weekly, "closed": v.Closed})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, map[string]any{"office_hours": v})
	return nil
}

// selfBookingView is, for a session, whether a party may book its time.
type selfBookingView struct {
	Open     bool       `json:"open"`
	BookedAt *time.Time `json:"booked_at"`
}

// sessionSelfBooking is the self-booking of a session; nil when it is not
// open for it.
func sessionSelfBooking(ctx context.Context, st store.Store, sessionID string) (*selfBookingView, error) {
	b, err := st.SelfBooking(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &selfBookingView{Open: true, BookedAt: b.BookedAt}, nil
}

// bookingSession is what the booking page shows of the session.
type bookingSession struct {
	ID             string     `json:"id"`
	Title          string     `json:"title"`
	State          string     `json:"state"`
	ScheduledStart time.Time  `json:"scheduled_start"`
	ScheduledEnd   *time.Time `json:"scheduled_end,omitempty"`
	TimeZone       string     `json:"time_zone"`
	Case           joinCase   `json:"case"`
	// SelfBooking is null when the organizer sets the time.
	SelfBooking *selfBookingView `json:"self_booking"`
}

type slotView struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

type slotsResponse struct {
	Session     bookingSession  `json:"session"`
	Participant joinParticipant `json:"participant"`
	OfficeHours *hoursView      `json:"office_hours"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	// Slots are the free slots, in order; empty when the session cannot
	// be booked.
	Slots []slotView `json:"slots"`
}

type slotsRequest struct {
	Invite string `json:"invite"`
	// Days is how many days ahead to list (14 when 0, at most 60).
	Days int `json:"days"`
}

type bookRequest struct {
	Invite string    `json:"invite"`
	Start  time.Time `json:"start"`
}

// invited is what a party's request resolves to.
type invited struct {
	inv     *cases.Invite
	part    *cases.Participant
	sess    *cases.Session
	kase    *cases.Case
	org     *cases.Org
	hours   *cases.OfficeHours
	booking *selfBookingView
}

func (s *Server) resolveParty(ctx context.Context, invite string) (*invited, error) {
	inv, err := resolveInvite(ctx, s.Store, invite, s.now())
	if err != nil {
		return nil, err
	}
	v := &invited{inv: inv}
	if v.part, v.sess, v.kase, err = loadInvited(ctx, s.Store, inv); err != nil {
		return nil, err
	}
	if v.org, err = s.Store.Org(ctx, v.sess.OrgID); err != nil {
		return nil, err
	}
	if v.hours, err = orgHours(ctx, s.Store, v.sess.OrgID); err != nil {
		return nil, err
	}
	if v.booking, err = sessionSelfBooking(ctx, s.Store, v.sess.ID); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *invited) session() bookingSession {
	b := bookingSession{ID: v.sess.ID, Title: v.sess.Title, State: v.sess.State, ScheduledStart: v.sess.ScheduledStart.UTC(),
		TimeZone: v.sess.TimeZone, Case: joinCase{Number: v.kase.Number, Title: v.kase.Title, Kind: string(v.kase.Kind)},
		SelfBooking: v.booking}
	if !v.sess.ScheduledEnd.IsZero() {
		end := v.sess.ScheduledEnd.UTC()
		b.ScheduledEnd = &end
	}
	return b
}

func (v *invited) participant() joinParticipant {
	return joinParticipant{ID: v.part.ID, Name: v.part.DisplayName, Role: string(v.part.Role), Language: v.part.Language}
}

// bookable reports why the session's time cannot be booked now; nil if it
// can.
func (v *invited) bookable() error {
	switch {
	case v.sess.State == "ended" || v.sess.EndedAt != nil:
		return apiError(http.StatusGone, "session_ended", "this session has ended")
	case v.booking == nil:
		return apiError(http.StatusConflict, "booking_closed", "the organizer sets the time of this session")
	case v.sess.State != "scheduled" || v.sess.StartedAt != nil:
		return apiError(http.StatusConflict, "booking_closed", "this session has started; its time can no longer be changed")
	case v.hours == nil:
		return apiError(http.StatusConflict, "hours_not_set", "the organization has not set its office hours yet")
	}
	return nil
}

// sessionPresiders are the accounts presiding over a session.
func sessionPresiders(ctx context.Context, st store.Store, sessionID string) ([]string, error) {
	parts, err := st.ParticipantsOfSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range parts {
		if p.AccountID != "" && p.Role.Presides() {
			out = append(out, p.AccountID)
		}
	}
	return out, nil
}

// freeSlots are the slots of h in [from, to) that no busy session other
// than self blocks for presiders.
func freeSlots(h *cases.OfficeHours, busy []*cases.BusySession, self string, presiders []string, from, to time.Time) []slotView {
	out := []slotView{}
	for _, st := range h.Slots(from, to) {
		end := st.Add(h.Slot())
		taken := false
		for _, b := range busy {
			if b.SessionID != self && b.Blocks(st, end, presiders) {
				taken = true
				break
			}
		}
		if !taken {
			out = append(out, slotView{Start: st, End: end})
		}
	}
	return out
}

// bookingSlots answers POST /api/v1/booking/slots: the session, the
// organization's hours and the free slots of the next days, each an
// instant in UTC that the page shows in the party's zone and the
// organization's.
func (s *Server) bookingSlots(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		var req slotsRequest
		if e := decode(w, r, &req); e != nil {
			return e
		}
		if req.Days == 0 {
			req.Days = defaultBookingDays
		}
		if req.Days < 1 || req.Days > maxBookingDays {
			return apiError(http.StatusBadRequest, "invalid", "days must be between 1 and %d", maxBookingDays)
		}
		v, err := s.resolveParty(r.Context(), req.Invite)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		resp := slotsResponse{Session: v.session(), Participant: v.participant(), OfficeHours: viewHours(v.hours, v.org.Name), From: now,
			To: now.Add(time.Duration(req.Days) * 24 * time.Hour), Slots: []slotView{}}
		if v.bookable() == nil {
			presiders, err := sessionPresiders(r.Context(), s.Store, v.sess.ID)
			if err != nil {
				return err
			}
			busy, err := s.Store.BusySessions(r.Context(), v.sess.OrgID, resp.From, resp.To.Add(v.hours.Slot()))
			if err != nil {
				return err
			}
			// A slot starting now is already in the past for the party.
			resp.Slots = freeSlots(v.hours, busy, v.sess.ID, presiders, now.Add(time.Second), resp.To)
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	}()
	if err != nil {
		writeError(w, s.Log, r, err)
	}
}

type bookResponse struct {
	Session bookingSession `json:"session"`
	// Invitation is the calendar file of the booked time (and the text of
	// the invitation, in the party's language).
	Invitation invitation `json:"invitation"`
}

// checkSlot says why start cannot be booked in h at now; nil if it can
// (as far as the hours go: whether it is free is the store's to say).
func checkSlot(h *cases.OfficeHours, start, now time.Time) error {
	switch {
	case start.IsZero():
		return apiError(http.StatusBadRequest, "invalid", "start is required (RFC 3339, e.g. 2026-12-01T06:00:00Z)")
	case !start.After(now):
		return apiError(http.StatusBadRequest, "slot_in_past", "this time has passed; pick another")
	case start.After(now.Add(maxBookingDays * 24 * time.Hour)):
		return apiError(http.StatusBadRequest, "too_far_ahead", "book at most %d days ahead", maxBookingDays)
	case h.IsClosed(start):
		return apiError(http.StatusBadRequest, "closed_date", "the office is closed on %s", start.In(h.Location()).Format(time.DateOnly))
	case !h.WithinHours(start):
		return apiError(http.StatusBadRequest, "outside_hours", "this time is outside the office hours")
	case !h.IsSlot(start):
		return apiError(http.StatusBadRequest, "not_on_slot", "a booking starts at the start of a slot (every %d minutes from the opening time)", h.SlotMinutes)
	}
	return nil
}

// book answers POST /api/v1/booking: the party books a free slot, which
// becomes the session's scheduled time.
func (s *Server) book(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		var req bookRequest
		if e := decode(w, r, &req); e != nil {
			return e
		}
		v, err := s.resolveParty(r.Context(), req.Invite)
		if err != nil {
			return err
		}
		if err := v.bookable(); err != nil {
			return err
		}
		now := s.now()
		start := req.Start.UTC()
		if err := checkSlot(v.hours, start, now); err != nil {
			return err
		}
		end := start.Add(v.hours.Slot())
		previous := v.sess.ScheduledStart.UTC()
		err = s.Store.BookSession(r.Context(), &cases.Booking{SessionID: v.sess.ID, ParticipantID: v.part.ID,
			Start: start, End: end, At: now.UTC()})
		switch {
		case errors.Is(err, store.ErrSlotTaken):
			return apiError(http.StatusConflict, "slot_taken", "this time has just been taken; pick another")
		case errors.Is(err, store.ErrBookingClosed):
			return apiError(http.StatusConflict, "booking_closed", "this session's time can no longer be booked")
		case err != nil:
			return err
		}
		s.record(r.Context(), &audit.Entry{ActorKind: audit.ActorParticipant, ActorID: v.part.ID, Action: "session.booked",
			OrgID: v.sess.OrgID, CaseID: v.sess.CaseID, SessionID: v.sess.ID, IP: s.IPs.IP(r),
			Detail: detail(map[string]any{"start": start, "end": end, "time_zone": v.hours.TimeZone,
				"previous_start": previous, "booked_by": v.part.DisplayName})})
		v.sess.ScheduledStart, v.sess.ScheduledEnd = start, end
		at := now.UTC()
		v.booking = &selfBookingView{Open: true, BookedAt: &at}
		link := strings.TrimSuffix(s.publicURL(), "/") + "/join/" + req.Invite
		writeJSON(w, http.StatusOK, bookResponse{Session: v.session(),
			Invitation: newInvitation(v.kase, v.sess, v.part, link, v.inv.ID+"@kuayang", now)})
		return nil
	}()
	if err != nil {
		writeError(w, s.Log, r, err)
	}
}

func (s *Server) publicURL() string {
	if s.PublicURL == nil {
		return ""
	}
	return s.PublicURL()
}
