package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type accountView struct {
	ID      string `json:"id"`
	OrgID   string `json:"org_id"`
	OrgName string `json:"org_name,omitempty"`
	Email   string `json:"email"`
	Name    string `json:"name"`
	Role    string `json:"role"`
}

// viewAccount is a's view with its organization's name, which staff pages
// show in their header (left out if the organization cannot be read).
func (s *Server) viewAccount(ctx context.Context, a *cases.Account) accountView {
	v := accountView{ID: a.ID, OrgID: a.OrgID, Email: a.Email, Name: a.Name, Role: string(a.Role)}
	if o, err := s.Store.Org(ctx, a.OrgID); err == nil {
		v.OrgName = o.Name
	} else {
		s.Log.Warn("organization of an account unreadable", "org", a.OrgID, "err", err)
	}
	return v
}

type loginResponse struct {
	Token     string      `json:"token"`
	CSRFToken string      `json:"csrf_token"`
	ExpiresAt time.Time   `json:"expires_at"`
	Account   accountView `json:"account"`
}

// dummyHash is checked against when the email is unknown, so that the
// answer takes as long as for a known account.
var dummyHash, _ = auth.HashPassword("kuayang dummy password")

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := s.doLogin(w, r); err != nil {
		writeError(w, s.Log, r, err)
	}
}

func (s *Server) doLogin(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if e := decode(w, r, &req); e != nil {
		return e
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	ip := s.IPs.IP(r)
	if ok, wait := s.Limiter.Allow("ip:"+ip, "email:"+email); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		return apiError(http.StatusTooManyRequests, "rate_limited", "too many failed logins; try again in %d seconds", int(wait.Seconds())+1)
	}
	a, err := s.checkCredentials(r, email, req.Password)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			s.Limiter.Fail("ip:"+ip, "email:"+email)
			s.record(r.Context(), &audit.Entry{ActorKind: audit.ActorAnonymous, Action: "login.failed", IP: ip,
				Detail: detail(map[string]any{"email": email})})
		}
		return err
	}
	s.Limiter.Reset("email:" + email)
	return s.startLogin(w, r, a, ip)
}

var errBadCredentials = apiError(http.StatusUnauthorized, "bad_credentials", "wrong email or password")

func (s *Server) checkCredentials(r *http.Request, email, password string) (*cases.Account, error) {
	a, err := s.Store.AccountByEmail(r.Context(), email)
	if errors.Is(err, store.ErrNotFound) {
		_, _ = auth.CheckPassword(dummyHash, password)
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	ok, err := auth.CheckPassword(a.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", a.ID, err)
	}
	if !ok || a.DisabledAt != nil {
		return nil, errBadCredentials
	}
	return a, nil
}

func (s *Server) startLogin(w http.ResponseWriter, r *http.Request, a *cases.Account, ip string) error {
	ttl := s.LoginTTL
	if ttl == 0 {
		ttl = 12 * time.Hour
	}
	tok := auth.LoginToken()
	now := s.now().UTC()
	l := &cases.Login{TokenHash: auth.HashToken(tok), AccountID: a.ID, CSRF: auth.LoginToken(), IP: ip,
		UserAgent: truncate(r.UserAgent(), 200), CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.Store.CreateLogin(r.Context(), l); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", Expires: l.ExpiresAt,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	s.record(r.Context(), &audit.Entry{ActorKind: audit.ActorAccount, ActorID: a.ID, Action: "login", OrgID: a.OrgID, IP: ip})
	writeJSON(w, http.StatusOK, loginResponse{Token: tok, CSRFToken: l.CSRF, ExpiresAt: l.ExpiresAt, Account: s.viewAccount(r.Context(), a)})
	return nil
}

// logout ends the login of the request (cookie or bearer). It needs the
// CSRF header when the cookie authenticates it.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	p, err := s.authenticate(r)
	if err == nil && !p.bearer {
		err = checkCSRF(r, p.login)
	}
	if err != nil {
		writeError(w, s.Log, r, err)
		return
	}
	if err := s.Store.DeleteLogin(r.Context(), p.login.TokenHash); err != nil {
		writeError(w, s.Log, r, err)
		return
	}
	s.record(r.Context(), p.entry("logout"))
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p *principal) error {
	writeJSON(w, http.StatusOK, map[string]any{"account": s.viewAccount(r.Context(), p.account), "csrf_token": p.login.CSRF,
		"expires_at": p.login.ExpiresAt})
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
