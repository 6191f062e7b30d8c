// Package demo creates, idempotently, a demo organization with staff
// accounts, a recorded mediation session and a notarization with invite
// links, so that a new installation can be tried at once (`kuayang serve
// --demo`).
//
// The store keeps only hashes of passwords and invite tokens. So that a
// second run prints the same links and passwords, both are derived from the
// node's secret key instead of drawn at random.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// Names of the demo records.
const (
	OrgName    = "Wencheng Overseas Mediation Committee (demo)"
	CaseNumber = "(2026)浙0328民调0001号"
	CaseTitle  = "Demo: shop lease dispute between Milan and Wencheng"
)

// JoinURL is one invite link.
type JoinURL struct {
	Role string `json:"role"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Account is one demo login.
type Account struct {
	Role     string `json:"role"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Result is what the demo created or found; it is written to
// <data-dir>/demo.json.
type Result struct {
	CaseID    string    `json:"case_id"`
	SessionID string    `json:"session_id"`
	JoinURLs  []JoinURL `json:"join_urls"`
	// BookURLs are links that let a party book the time of a session
	// open for self-booking in the organization's office hours.
	BookURLs []JoinURL `json:"book_urls"`
	// NotaryURLs are the links of a demo notarization: the notary's and
	// the party's.
	NotaryURLs []JoinURL `json:"notary_urls"`
	Accounts   []Account `json:"accounts"`
}

// Demo builds the demo records.
type Demo struct {
	Store     store.Store
	Key       []byte // the node's secret: derives passwords and invites
	PublicURL string
	InviteTTL time.Duration
	Now       func() time.Time
}

type staff struct {
	role  cases.Role
	name  string
	email string
}

var demoStaff = []staff{
	{cases.RoleMediator, "Zhou Min (mediator)", "mediator@demo.kuayang.invalid"},
	{cases.RoleClerk, "Hu Jing (clerk)", "clerk@demo.kuayang.invalid"},
	{cases.RoleAdmin, "Demo admin", "admin@demo.kuayang.invalid"},
	{cases.RoleNotary, "Wang Fang (notary)", "notary@demo.kuayang.invalid"},
}

type guest struct {
	role     cases.Role
	name     string
	language string
	zone     string
}

var demoGuests = []guest{
	{cases.RoleParty, "Chen Wei", "it", "Europe/Rome"},
	{cases.RoleParty, "Lin Mei", "zh-CN", "Asia/Shanghai"},
}

// Ensure creates whatever of the demo is missing and returns it all.
func (d *Demo) Ensure(ctx context.Context) (*Result, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	org, err := d.org(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	accounts := map[cases.Role]*cases.Account{}
	for _, s := range demoStaff {
		a, pw, err := d.account(ctx, org, s)
		if err != nil {
			return nil, err
		}
		accounts[s.role] = a
		res.Accounts = append(res.Accounts, Account{Role: string(s.role), Email: a.Email, Password: pw})
	}
	c, err := d.caseOf(ctx, org, accounts[cases.RoleMediator])
	if err != nil {
		return nil, err
	}
	sess, err := d.session(ctx, c)
	if err != nil {
		return nil, err
	}
	res.CaseID, res.SessionID = c.ID, sess.ID
	links, err := d.invites(ctx, sess, accounts[cases.RoleMediator])
	if err != nil {
		return nil, err
	}
	res.JoinURLs = links
	if err := d.officeHours(ctx, org); err != nil {
		return nil, err
	}
	book, err := d.bookingSession(ctx, c, accounts[cases.RoleMediator])
	if err != nil {
		return nil, err
	}
	res.BookURLs = []JoinURL{book}
	if res.NotaryURLs, err = d.notarization(ctx, org, accounts[cases.RoleNotary]); err != nil {
		return nil, err
	}
	return res, nil
}

func (d *Demo) org(ctx context.Context) (*cases.Org, error) {
	o, err := d.Store.OrgByName(ctx, OrgName)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return o, err
	}
	o = &cases.Org{ID: store.NewID(), Name: OrgName, CreatedAt: d.Now().UTC()}
	return o, d.Store.CreateOrg(ctx, o)
}

func (d *Demo) account(ctx context.Context, org *cases.Org, s staff) (*cases.Account, string, error) {
	pw := auth.DeriveToken(d.Key, "demo-password:"+s.email)[:16]
	a, err := d.Store.AccountByEmail(ctx, s.email)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return a, pw, err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return nil, "", err
	}
	a = &cases.Account{ID: store.NewID(), OrgID: org.ID, Email: s.email, Name: s.name, Role: s.role, PasswordHash: hash, CreatedAt: d.Now().UTC()}
	return a, pw, d.Store.CreateAccount(ctx, a)
}

func (d *Demo) caseOf(ctx context.Context, org *cases.Org, by *cases.Account) (*cases.Case, error) {
	c, err := d.Store.CaseByNumber(ctx, org.ID, CaseNumber)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	c = &cases.Case{ID: store.NewID(), OrgID: org.ID, Kind: cases.KindMediation, Number: CaseNumber,
		Title: CaseTitle, Status: "open", CreatedBy: by.ID, CreatedAt: d.Now().UTC()}
	return c, d.Store.CreateCase(ctx, c)
}

// session returns the demo case's session, creating one that is recorded,
// has no waiting room, and is scheduled for the current hour.
func (d *Demo) session(ctx context.Context, c *cases.Case) (*cases.Session, error) {
	ss, err := d.Store.SessionsOfCase(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if len(ss) > 0 {
		return ss[0], nil
	}
	start := d.Now().UTC().Truncate(time.Hour)
	s := &cases.Session{ID: store.NewID(), CaseID: c.ID, OrgID: c.OrgID, Title: "Joint mediation session",
		ScheduledStart: start, ScheduledEnd: start.Add(2 * time.Hour), TimeZone: "Asia/Shanghai",
		Record: true, WaitingRoom: false, State: "scheduled", CreatedAt: d.Now().UTC()}
	return s, d.Store.CreateSession(ctx, s)
}

// invites makes sure the mediator and each guest has a participant and a
// usable invite, and returns their links.
func (d *Demo) invites(ctx context.Context, sess *cases.Session, mediator *cases.Account) ([]JoinURL, error) {
	want := []*cases.Participant{{Role: cases.RoleMediator, DisplayName: mediator.Name, AccountID: mediator.ID,
		Language: "zh-CN", TimeZone: "Asia/Shanghai", Email: mediator.Email}}
	for _, g := range demoGuests {
		want = append(want, &cases.Participant{Role: g.role, DisplayName: g.name, Language: g.language, TimeZone: g.zone})
	}
	return d.links(ctx, sess, want)
}

// links makes sure each participant of want (by role and name) is in the
// session and returns their invite links.
func (d *Demo) links(ctx context.Context, sess *cases.Session, want []*cases.Participant) ([]JoinURL, error) {
	parts, err := d.Store.ParticipantsOfSession(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	var links []JoinURL
	for _, w := range want {
		p := find(parts, w.Role, w.DisplayName)
		if p == nil {
			p = w
			p.ID, p.SessionID, p.CreatedAt = store.NewID(), sess.ID, d.Now().UTC()
			if err := d.Store.CreateParticipant(ctx, p); err != nil {
				return nil, err
			}
		}
		tok, err := d.invite(ctx, p)
		if err != nil {
			return nil, err
		}
		links = append(links, JoinURL{Role: string(p.Role), Name: p.DisplayName, URL: d.PublicURL + "/join/" + tok})
	}
	return links, nil
}

func find(ps []*cases.Participant, role cases.Role, name string) *cases.Participant {
	for _, p := range ps {
		if p.Role == role && p.DisplayName == name {
			return p
		}
	}
	return nil
}

// invite returns a usable derived invite token for p, creating the invite
// when needed. Expired or revoked generations are skipped.
func (d *Demo) invite(ctx context.Context, p *cases.Participant) (string, error) {
	for gen := 0; gen < 1000; gen++ {
		tok := auth.DeriveToken(d.Key, fmt.Sprintf("demo-invite:%s:%d", p.ID, gen))
		inv, err := d.Store.InviteByTokenHash(ctx, auth.HashToken(tok))
		switch {
		case err == nil && inv.Usable(d.Now()):
			return tok, nil
		case err == nil:
			continue
		case !errors.Is(err, store.ErrNotFound):
			return "", err
		}
		inv = &cases.Invite{ID: store.NewID(), ParticipantID: p.ID, SessionID: p.SessionID, TokenHash: auth.HashToken(tok),
			ExpiresAt: d.Now().Add(d.InviteTTL).UTC(), CreatedAt: d.Now().UTC()}
		return tok, d.Store.CreateInvite(ctx, inv)
	}
	return "", errors.New("demo: no usable invite generation left")
}

// WriteFile writes r to <dir>/demo.json.
func (r *Result) WriteFile(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "demo.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}
