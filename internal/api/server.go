package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/clientip"
	"github.com/kuayang/kuayang/internal/notary"
	"github.com/kuayang/kuayang/internal/store"
)

// Server is the staff REST API: login, cases, sessions, invites, audit.
type Server struct {
	Store     store.Store
	PublicURL func() string // base of invite links
	Log       *slog.Logger
	// LoginTTL is how long a login lasts (12 h when zero).
	LoginTTL time.Duration
	// InviteTTL is the default lifetime of an invite (30 days when zero).
	InviteTTL time.Duration
	// SecureCookies marks the login cookie Secure (HTTPS deployments).
	SecureCookies bool
	Limiter       *auth.Limiter
	Now           func() time.Time
	// IPs resolves client addresses (trusted reverse proxies).
	IPs *clientip.Resolver
	// Recordings serves media and bundles; nil when recording is off.
	Recordings *Recordings
	// Ender ends a session for everyone: the records, the connections,
	// the recording.
	Ender interface {
		EndSession(ctx context.Context, sessionID string) error
	}
	// CallTokens checks the call tokens of the call page's routes
	// (participantOf); nil refuses them all.
	CallTokens CallChecker
	// Notary keeps the documents and the journal of notarization
	// sessions (notary.go); nil: no such routes.
	Notary *notary.Desk
	// Identity serves identity verification; nil turns it off.
	Identity *Identity
}

// CookieName is the login cookie.
const CookieName = "kuayang_login"

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Routes registers the API on mux.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/login", s.login)
	mux.HandleFunc("POST /api/v1/logout", s.logout)
	mux.Handle("GET /api/v1/me", s.staff(auth.CaseRead, s.me))
	mux.Handle("POST /api/v1/cases", s.staff(auth.CaseCreate, s.createCase))
	mux.Handle("GET /api/v1/cases", s.staff(auth.CaseRead, s.searchCases))
	mux.Handle("GET /api/v1/cases/{id}", s.staff(auth.CaseRead, s.getCase))
	mux.Handle("GET /api/v1/presiders", s.staff(auth.CaseRead, s.listPresiders))
	mux.Handle("POST /api/v1/cases/{id}/sessions", s.staff(auth.SessionCreate, s.createSession))
	mux.Handle("GET /api/v1/sessions/{id}", s.staff(auth.CaseRead, s.getSession))
	mux.Handle("POST /api/v1/sessions/{id}/end", s.staff(auth.SessionEnd, s.endSession))
	mux.Handle("POST /api/v1/sessions/{id}/invites", s.staff(auth.InviteManage, s.createInvite))
	mux.Handle("DELETE /api/v1/invites/{id}", s.staff(auth.InviteManage, s.revokeInvite))
	mux.Handle("GET /api/v1/audit", s.staff(auth.AuditRead, s.listAudit))
	mux.Handle("GET /api/v1/call/{id}/me", s.participantOf(s.callMe))
	s.hoursRoutes(mux)
	s.notaryRoutes(mux)
	if s.Recordings != nil {
		mux.Handle("GET /api/v1/sessions/{id}/recordings", s.staff(auth.RecordingRead, s.listRecordings))
		// RecordingExport, or the session's presider: checked in bundle.
		mux.Handle("GET /api/v1/sessions/{id}/bundle", s.staff(auth.RecordingRead, s.bundle))
		mux.Handle("GET /api/v1/sessions/{id}/segments/{participant}/{index}", s.staff(auth.RecordingRead, s.playSegment))
		mux.Handle("POST /api/v1/sessions/{id}/legal-hold", s.staff(auth.RecordingExport, s.legalHold))
		mux.Handle("GET /api/v1/sessions/{id}/timeline", s.staff(auth.RecordingRead, s.timeline))
		mux.Handle("POST /api/v1/sessions/{id}/verify", s.staff(auth.RecordingRead, s.verifyRecording))
		mux.Handle("GET /api/v1/sessions/{id}/certificate", s.staff(auth.RecordingExport, s.certificate))
		mux.HandleFunc("GET /api/v1/media/{token}", s.media)
		mux.HandleFunc("GET /api/v1/keys", s.keys)
		mux.Handle("GET /api/v1/cases/{id}/settlements", s.staff(auth.CaseRead, s.listSettlements))
		mux.Handle("GET /api/v1/settlements/{id}/pdf", s.staff(auth.RecordingRead, s.settlementPDF))
		mux.Handle("GET /api/v1/call/{id}/settlements/{settlement}", s.participantOf(s.callSettlementPDF))
	}
	s.identityRoutes(mux)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, s.Log, r, apiError(http.StatusNotFound, "not_found", "no such API route"))
	})
}

// principal is the authenticated staff member of a request.
type principal struct {
	account *cases.Account
	login   *cases.Login
	bearer  bool // authenticated by Authorization header, not cookie
	ip      string
}

// handler is an API handler for an authenticated staff member.
type handler func(w http.ResponseWriter, r *http.Request, p *principal) error

// staff wraps h: authentication, CSRF for cookie writes, and the role
// check for action. The organization check is in the loaders (case, session,
// invite), which answer 404 for anything of another organization.
func (s *Server) staff(action auth.Action, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err == nil && !p.bearer && r.Method != http.MethodGet && r.Method != http.MethodHead {
			err = checkCSRF(r, p.login)
		}
		if err == nil && !auth.Allowed(p.account.Role, action) {
			err = apiError(http.StatusForbidden, "forbidden", "your role may not do this")
		}
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			writeError(w, s.Log, r, err)
		}
	})
}

var errUnauthenticated = apiError(http.StatusUnauthorized, "unauthenticated", "log in first")

// authenticate finds the login of a request: bearer token first, then the
// cookie.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	tok, bearer := bearerToken(r)
	if !bearer {
		c, err := r.Cookie(CookieName)
		if err != nil || c.Value == "" {
			return nil, errUnauthenticated
		}
		tok = c.Value
	}
	l, err := s.Store.LoginByTokenHash(r.Context(), auth.HashToken(tok))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthenticated
	} else if err != nil {
		return nil, err
	}
	if !s.now().Before(l.ExpiresAt) {
		return nil, apiError(http.StatusUnauthorized, "login_expired", "your login has expired; log in again")
	}
	a, err := s.Store.Account(r.Context(), l.AccountID)
	if err != nil {
		return nil, err
	}
	if a.DisabledAt != nil {
		return nil, errUnauthenticated
	}
	return &principal{account: a, login: l, bearer: bearer, ip: s.IPs.IP(r)}, nil
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok && strings.TrimSpace(tok) != ""
}

// checkCSRF requires X-CSRF-Token to equal the login's CSRF token.
func checkCSRF(r *http.Request, l *cases.Login) error {
	if got := r.Header.Get("X-CSRF-Token"); got == "" || !auth.Equal(got, l.CSRF) {
		return apiError(http.StatusForbidden, "csrf", "missing or wrong X-CSRF-Token header")
	}
	return nil
}

// record appends an audit entry. A failure is logged; the request that
// caused it has already been done and is not undone.
func (s *Server) record(ctx context.Context, e *audit.Entry) {
	e.Time = s.now()
	if err := s.Store.AppendAudit(ctx, e); err != nil {
		s.Log.Error("audit append failed", "action", e.Action, "err", err)
	}
}

// byAccount is an audit entry by p.
func (p *principal) entry(action string) *audit.Entry {
	return &audit.Entry{ActorKind: audit.ActorAccount, ActorID: p.account.ID, Action: action, OrgID: p.account.OrgID, IP: p.ip}
}

// detail encodes an audit entry's detail.
func detail(kv map[string]any) string {
	b, err := json.Marshal(kv)
	if err != nil {
		return ""
	}
	return string(b)
}

var errNotFound = apiError(http.StatusNotFound, "not_found", "not found")

// caseOf loads a case of p's organization; another organization's case is
// not found.
func (s *Server) caseOf(ctx context.Context, p *principal, id string) (*cases.Case, error) {
	c, err := s.Store.Case(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.OrgID != p.account.OrgID) {
		return nil, errNotFound
	}
	return c, err
}

// sessionOf loads a session of p's organization.
func (s *Server) sessionOf(ctx context.Context, p *principal, id string) (*cases.Session, error) {
	ss, err := s.Store.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ss.OrgID != p.account.OrgID) {
		return nil, errNotFound
	}
	return ss, err
}
