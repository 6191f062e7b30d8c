package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

type sessionView struct {
	ID             string            `json:"id"`
	CaseID         string            `json:"case_id"`
	Title          string            `json:"title"`
	ScheduledStart time.Time         `json:"scheduled_start"`
	ScheduledEnd   *time.Time        `json:"scheduled_end,omitempty"`
	TimeZone       string            `json:"time_zone"`
	Record         bool              `json:"record"`
	WaitingRoom    bool              `json:"waiting_room"`
	State          string            `json:"state"`
	StartedAt      *time.Time        `json:"started_at,omitempty"`
	EndedAt        *time.Time        `json:"ended_at,omitempty"`
	Participants   []participantView `json:"participants"`
	// Recording is nil (null) while the session has none.
	Recording *recordingSummary `json:"recording"`
	// SelfBooking is set when a party books the session's time.
	SelfBooking *selfBookingView `json:"self_booking,omitempty"`
}

// recordingSummary is what a case page shows of a session's recording.
type recordingSummary struct {
	State       string     `json:"state"`
	SealedAt    *time.Time `json:"sealed_at"`
	RetainUntil *time.Time `json:"retain_until"`
	LegalHold   bool       `json:"legal_hold"`
	Failure     string     `json:"failure"`
	GapCount    int        `json:"gap_count"`
}

type participantView struct {
	ID        string     `json:"id"`
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Language  string     `json:"language"`
	TimeZone  string     `json:"time_zone"`
	Email     string     `json:"email,omitempty"`
	ConsentAt *time.Time `json:"consent_at,omitempty"`
	JoinedAt  *time.Time `json:"joined_at,omitempty"`
	LeftAt    *time.Time `json:"left_at,omitempty"`
	// InterpretsFor is, for an interpreter, the participant id of the
	// party they interpret for.
	InterpretsFor string       `json:"interprets_for,omitempty"`
	Invites       []inviteView `json:"invites"`
}

type inviteView struct {
	ID        string     `json:"id"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	URL       string     `json:"url,omitempty"` // only when just created
}

func viewSession(ss *cases.Session) sessionView {
	v := sessionView{ID: ss.ID, CaseID: ss.CaseID, Title: ss.Title, ScheduledStart: ss.ScheduledStart,
		TimeZone: ss.TimeZone, Record: ss.Record, WaitingRoom: ss.WaitingRoom, State: ss.State,
		StartedAt: ss.StartedAt, EndedAt: ss.EndedAt, Participants: []participantView{}}
	if !ss.ScheduledEnd.IsZero() {
		end := ss.ScheduledEnd
		v.ScheduledEnd = &end
	}
	return v
}

// viewSessionWithParticipants is the view of ss with its participants,
// their invites and its recording.
func (s *Server) viewSessionWithParticipants(r *http.Request, ss *cases.Session) (sessionView, error) {
	v := viewSession(ss)
	var err error
	if v.Recording, err = s.summarizeRecording(r.Context(), ss.ID); err != nil {
		return v, err
	}
	if v.SelfBooking, err = sessionSelfBooking(r.Context(), s.Store, ss.ID); err != nil {
		return v, err
	}
	parts, err := s.Store.ParticipantsOfSession(r.Context(), ss.ID)
	if err != nil {
		return v, err
	}
	for _, pt := range parts {
		invs, err := s.Store.InvitesOfParticipant(r.Context(), pt.ID)
		if err != nil {
			return v, err
		}
		pv := participantView{ID: pt.ID, Role: string(pt.Role), Name: pt.DisplayName, Language: pt.Language,
			TimeZone: pt.TimeZone, Email: pt.Email, ConsentAt: pt.ConsentAt, JoinedAt: pt.JoinedAt, LeftAt: pt.LeftAt,
			InterpretsFor: pt.InterpretsFor, Invites: []inviteView{}}
		for _, inv := range invs {
			pv.Invites = append(pv.Invites, inviteView{ID: inv.ID, ExpiresAt: inv.ExpiresAt, RevokedAt: inv.RevokedAt, CreatedAt: inv.CreatedAt})
		}
		v.Participants = append(v.Participants, pv)
	}
	return v, nil
}

// summarizeRecording sums up the recording of a session; nil if it has
// none.
func (s *Server) summarizeRecording(ctx context.Context, sessionID string) (*recordingSummary, error) {
	rec, err := s.Store.Recording(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	sum := &recordingSummary{State: rec.State, SealedAt: rec.SealedAt, LegalHold: rec.LegalHold, Failure: rec.Failure}
	if !rec.RetainUntil.IsZero() {
		sum.RetainUntil = &rec.RetainUntil
	}
	if sum.GapCount, err = s.gapCount(ctx, rec); err != nil {
		return nil, err
	}
	return sum, nil
}

// gapCount is the number of gaps in a recording: those its sealed
// manifest lists, or before sealing those the recorder reported so far.
func (s *Server) gapCount(ctx context.Context, rec *cases.Recording) (int, error) {
	if rec.GapCount != nil {
		return *rec.GapCount, nil
	}
	if rec.State == cases.RecordingSealed && s.Recordings != nil {
		// Sealed before the count was kept: the manifest has it.
		m, _, err := s.storedManifest(ctx, rec)
		if err == nil {
			return len(m.Gaps), nil
		}
		s.Log.Warn("gap count: manifest unreadable; counting the recorder's gaps", "session", rec.SessionID, "err", err)
	}
	segs, err := s.Store.Segments(ctx, rec.SessionID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sg := range segs {
		n += recorderGaps(sg)
	}
	return n, nil
}

// recorderGaps counts the gaps the recorder reported in a segment.
func recorderGaps(sg *cases.Segment) int {
	var gaps []json.RawMessage
	if sg.Gaps == "" || json.Unmarshal([]byte(sg.Gaps), &gaps) != nil {
		return 0
	}
	return len(gaps)
}

type createSessionRequest struct {
	Title          string     `json:"title"`
	ScheduledStart time.Time  `json:"scheduled_start"`
	ScheduledEnd   *time.Time `json:"scheduled_end"`
	TimeZone       string     `json:"time_zone"`
	Record         *bool      `json:"record"`
	WaitingRoom    bool       `json:"waiting_room"`
	// SelfBooking lets a party with an invite book the time in a free
	// slot of the organization's office hours; scheduled_start may then
	// be left out (it stands at the creation time until booked).
	SelfBooking bool `json:"self_booking"`
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.caseOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req createSessionRequest
	if e := decode(w, r, &req); e != nil {
		return e
	}
	ss, err := s.newSession(c, &req)
	if err != nil {
		return err
	}
	if err := s.Store.CreateSession(r.Context(), ss); err != nil {
		return err
	}
	v := viewSession(ss)
	if req.SelfBooking {
		if err := s.Store.OpenSelfBooking(r.Context(), ss.ID, ss.CreatedAt); err != nil {
			return err
		}
		v.SelfBooking = &selfBookingView{Open: true}
	}
	e := p.entry("session.create")
	e.CaseID, e.SessionID = c.ID, ss.ID
	e.Detail = detail(map[string]any{"title": ss.Title, "scheduled_start": ss.ScheduledStart, "time_zone": ss.TimeZone,
		"record": ss.Record, "waiting_room": ss.WaitingRoom, "self_booking": req.SelfBooking})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// newSession validates a request. Only mediation may hold an unrecorded
// session (a preparatory call); the other kinds are always recorded.
func (s *Server) newSession(c *cases.Case, req *createSessionRequest) (*cases.Session, error) {
	title, err := text("title", req.Title, 200)
	if err != nil {
		return nil, err
	}
	if req.ScheduledStart.IsZero() && req.SelfBooking {
		req.ScheduledStart = s.now().UTC().Truncate(time.Second)
	}
	if req.ScheduledStart.IsZero() {
		return nil, apiError(http.StatusBadRequest, "invalid", "scheduled_start is required (RFC 3339, e.g. 2026-12-01T14:00:00+08:00)")
	}
	if _, err := time.LoadLocation(req.TimeZone); err != nil || req.TimeZone == "" || req.TimeZone == "Local" {
		return nil, apiError(http.StatusBadRequest, "invalid", "time_zone must be an IANA zone such as Asia/Shanghai or Europe/Rome")
	}
	record := req.Record == nil || *req.Record
	if !record && c.Kind != cases.KindMediation {
		return nil, apiError(http.StatusBadRequest, "recording_required", "%s sessions are always recorded", c.Kind)
	}
	ss := &cases.Session{ID: store.NewID(), CaseID: c.ID, OrgID: c.OrgID, Title: title,
		ScheduledStart: req.ScheduledStart.UTC(), TimeZone: req.TimeZone, Record: record,
		WaitingRoom: req.WaitingRoom, State: "scheduled", CreatedAt: s.now().UTC()}
	if req.ScheduledEnd != nil {
		if !req.ScheduledEnd.After(req.ScheduledStart) {
			return nil, apiError(http.StatusBadRequest, "invalid", "scheduled_end must be after scheduled_start")
		}
		ss.ScheduledEnd = req.ScheduledEnd.UTC()
	}
	return ss, nil
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	c, err := s.Store.Case(r.Context(), ss.CaseID)
	if err != nil {
		return err
	}
	v, err := s.viewSessionWithParticipants(r, ss)
	if err != nil {
		return err
	}
	cv, err := s.viewCases(r.Context(), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"session": v, "case": cv[0]})
	return nil
}

// endSession answers POST /api/v1/sessions/{id}/end: the host ends the
// session for everyone. Nobody can join it afterwards; a recorded session
// is sealed at once.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if ss.State == "ended" {
		return apiError(http.StatusConflict, "session_ended", "the session has already ended")
	}
	e := p.entry("session.end")
	e.CaseID, e.SessionID = ss.CaseID, ss.ID
	s.record(r.Context(), e)
	if err := s.Ender.EndSession(r.Context(), ss.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
