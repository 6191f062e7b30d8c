package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/turn"
)

// Minter mints join tokens.
type Minter interface {
	Mint(sessionID, participantID string) (string, time.Time)
}

// Join answers POST /api/v1/join: it exchanges an invite for a short-lived
// join token and tells the pre-join page what it needs to show.
type Join struct {
	Store     store.Store
	Tokens    Minter
	PublicURL string // explicit public URL, or empty to follow the request
	Log       *slog.Logger
	// ICEServers returns the TURN servers, with credentials, for a
	// participant reaching the node at host (the public URL's host, or
	// the request's); nil means none.
	ICEServers func(participantID, host string) []turn.ICEServer
}

type joinRequest struct {
	Invite string `json:"invite"`
}

type joinCase struct {
	Number string `json:"number"`
	Title  string `json:"title"`
	Kind   string `json:"kind"`
}

type joinSession struct {
	ID             string    `json:"id"`
	Title          string    `json:"title"`
	Record         bool      `json:"record"`
	WaitingRoom    bool      `json:"waiting_room"`
	ScheduledStart time.Time `json:"scheduled_start"`
	TimeZone       string    `json:"time_zone"`
	Case           joinCase  `json:"case"`
	// IdentityRequired: this participant will be asked to verify their
	// identity (document and face) before admission.
	IdentityRequired bool `json:"identity_required"`
}

type joinParticipant struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Language string `json:"language"`
	// InterpretsFor is, for an interpreter, the participant id of the
	// party they interpret for.
	InterpretsFor string `json:"interprets_for,omitempty"`
}

type joinResponse struct {
	JoinToken   string           `json:"join_token"`
	ExpiresAt   time.Time        `json:"expires_at"`
	WSURL       string           `json:"ws_url"`
	Session     joinSession      `json:"session"`
	Participant joinParticipant  `json:"participant"`
	ICEServers  []turn.ICEServer `json:"ice_servers"`
	// OfficeHours are the organization's hours (null if it has set
	// none), for the pre-join page.
	OfficeHours *hoursView `json:"office_hours"`
	// SelfBooking is set when the party books the session's time.
	SelfBooking *selfBookingView `json:"self_booking,omitempty"`
}

// ServeHTTP implements the handler.
func (j *Join) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req joinRequest
	if e := decode(w, r, &req); e != nil {
		writeError(w, j.Log, r, e)
		return
	}
	resp, err := j.join(r.Context(), req.Invite)
	if err != nil {
		writeError(w, j.Log, r, err)
		return
	}
	resp.WSURL = j.wsURL(r)
	if j.ICEServers != nil {
		resp.ICEServers = append(resp.ICEServers, j.ICEServers(resp.Participant.ID, j.host(r))...)
	}
	writeJSON(w, http.StatusOK, resp)
}

var errInviteInvalid = apiError(http.StatusNotFound, "invite_invalid", "this invite link is not valid")

// resolveInvite finds the invite of a token and checks that it can still
// be used at now.
func resolveInvite(ctx context.Context, st store.Store, invite string, now time.Time) (*cases.Invite, error) {
	if invite == "" || len(invite) > 256 {
		return nil, errInviteInvalid
	}
	inv, err := st.InviteByTokenHash(ctx, auth.HashToken(invite))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInviteInvalid
	} else if err != nil {
		return nil, err
	}
	switch {
	case inv.RevokedAt != nil:
		return nil, apiError(http.StatusGone, "invite_revoked", "this invite link was revoked; ask the organizer for a new one")
	case !now.Before(inv.ExpiresAt):
		return nil, apiError(http.StatusGone, "invite_expired", "this invite link has expired; ask the organizer for a new one")
	}
	return inv, nil
}

func (j *Join) join(ctx context.Context, invite string) (*joinResponse, error) {
	inv, err := resolveInvite(ctx, j.Store, invite, time.Now())
	if err != nil {
		return nil, err
	}
	part, sess, c, err := loadInvited(ctx, j.Store, inv)
	if err != nil {
		return nil, err
	}
	if sess.State == "ended" || sess.EndedAt != nil {
		return nil, apiError(http.StatusGone, "session_ended", "this session has ended")
	}
	org, err := j.Store.Org(ctx, sess.OrgID)
	if err != nil {
		return nil, err
	}
	hours, err := orgHours(ctx, j.Store, sess.OrgID)
	if err != nil {
		return nil, err
	}
	booking, err := sessionSelfBooking(ctx, j.Store, sess.ID)
	if err != nil {
		return nil, err
	}
	idReq := false
	if verifiable(part.Role) {
		if idReq, err = identityRequired(ctx, j.Store, sess, c); err != nil {
			return nil, err
		}
	}
	tok, exp := j.Tokens.Mint(sess.ID, part.ID)
	return &joinResponse{
		OfficeHours: viewHours(hours, org.Name), SelfBooking: booking,
		JoinToken: tok,
		ExpiresAt: exp.UTC(),
		Session: joinSession{
			ID: sess.ID, Title: sess.Title, Record: sess.Record, WaitingRoom: sess.WaitingRoom,
			ScheduledStart: sess.ScheduledStart.UTC(), TimeZone: sess.TimeZone,
			Case:             joinCase{Number: c.Number, Title: c.Title, Kind: string(c.Kind)},
			IdentityRequired: idReq,
		},
		Participant: joinParticipant{ID: part.ID, Name: part.DisplayName, Role: string(part.Role), Language: part.Language,
			InterpretsFor: part.InterpretsFor},
		ICEServers: []turn.ICEServer{},
	}, nil
}

// loadInvited loads the participant, session and case of an invite.
func loadInvited(ctx context.Context, st store.Store, inv *cases.Invite) (*cases.Participant, *cases.Session, *cases.Case, error) {
	part, err := st.Participant(ctx, inv.ParticipantID)
	if err != nil {
		return nil, nil, nil, err
	}
	sess, err := st.Session(ctx, part.SessionID)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := st.Case(ctx, sess.CaseID)
	if err != nil {
		return nil, nil, nil, err
	}
	return part, sess, c, nil
}

// host is the host (and port) the client reaches the node at: the public
// URL's when one is configured, else the request's.
func (j *Join) host(r *http.Request) string {
	if u, err := url.Parse(j.PublicURL); err == nil && j.PublicURL != "" {
		return u.Host
	}
	return r.Host
}

// wsURL is the websocket URL for this request: the public URL's when one is
// configured, else the request's own host.
func (j *Join) wsURL(r *http.Request) string {
	base := j.PublicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	base = strings.Replace(base, "http", "ws", 1)
	return strings.TrimSuffix(base, "/") + "/ws"
}
