package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// Store is a store.Store that times every call: the latency per method in
// a histogram and the failures per method (not ErrNotFound or ErrConflict,
// which are answers). A method added to store.Store later passes through
// the embedded Store untimed until it is added here.
type Store struct {
	store.Store
	latency *HistogramVec
	errors  *CounterVec
}

// NewStore wraps s.
func NewStore(s store.Store) *Store {
	return &Store{Store: s, latency: NewHistogramVec("op", LatencyBuckets), errors: NewCounterVec("op")}
}

// Write writes the store's families.
func (m *Store) Write(w *Writer) {
	m.latency.Write(w, "kuayang_store_duration_seconds", "Time of record store calls (SQLite or PostgreSQL), by method.")
	m.errors.Write(w, "kuayang_store_errors_total", "Record store calls that failed, by method (not found and conflict are answers, not failures).")
}

// done records one call that started at start and ended with *err.
func (m *Store) done(op string, start time.Time, err *error) {
	m.latency.With(op).Observe(time.Since(start).Seconds())
	if e := *err; e != nil && !errors.Is(e, store.ErrNotFound) && !errors.Is(e, store.ErrConflict) && !errors.Is(e, context.Canceled) {
		m.errors.Add(op, 1)
	}
}

// The methods of store.Store, timed.

func (m *Store) CreateOrg(ctx context.Context, o *cases.Org) (err error) {
	defer m.done("CreateOrg", time.Now(), &err)
	return m.Store.CreateOrg(ctx, o)
}

func (m *Store) OrgByName(ctx context.Context, name string) (r0 *cases.Org, err error) {
	defer m.done("OrgByName", time.Now(), &err)
	return m.Store.OrgByName(ctx, name)
}

func (m *Store) CreateAccount(ctx context.Context, a *cases.Account) (err error) {
	defer m.done("CreateAccount", time.Now(), &err)
	return m.Store.CreateAccount(ctx, a)
}

func (m *Store) AccountByEmail(ctx context.Context, email string) (r0 *cases.Account, err error) {
	defer m.done("AccountByEmail", time.Now(), &err)
	return m.Store.AccountByEmail(ctx, email)
}

func (m *Store) Account(ctx context.Context, id string) (r0 *cases.Account, err error) {
	defer m.done("Account", time.Now(), &err)
	return m.Store.Account(ctx, id)
}

func (m *Store) CreateCase(ctx context.Context, c *cases.Case) (err error) {
	defer m.done("CreateCase", time.Now(), &err)
	return m.Store.CreateCase(ctx, c)
}

func (m *Store) Case(ctx context.Context, id string) (r0 *cases.Case, err error) {
	defer m.done("Case", time.Now(), &err)
	return m.Store.Case(ctx, id)
}

func (m *Store) CaseByNumber(ctx context.Context, orgID string, number string) (r0 *cases.Case, err error) {
	defer m.done("CaseByNumber", time.Now(), &err)
	return m.Store.CaseByNumber(ctx, orgID, number)
}

func (m *Store) CreateSession(ctx context.Context, s *cases.Session) (err error) {
	defer m.done("CreateSession", time.Now(), &err)
	return m.Store.CreateSession(ctx, s)
}

func (m *Store) Session(ctx context.Context, id string) (r0 *cases.Session, err error) {
	defer m.done("Session", time.Now(), &err)
	return m.Store.Session(ctx, id)
}

func (m *Store) SessionsOfCase(ctx context.Context, caseID string) (r0 []*cases.Session, err error) {
	defer m.done("SessionsOfCase", time.Now(), &err)
	return m.Store.SessionsOfCase(ctx, caseID)
}

func (m *Store) MarkSessionLive(ctx context.Context, id string, at time.Time) (err error) {
	defer m.done("MarkSessionLive", time.Now(), &err)
	return m.Store.MarkSessionLive(ctx, id, at)
}

func (m *Store) CreateParticipant(ctx context.Context, p *cases.Participant) (err error) {
	defer m.done("CreateParticipant", time.Now(), &err)
	return m.Store.CreateParticipant(ctx, p)
}

func (m *Store) Participant(ctx context.Context, id string) (r0 *cases.Participant, err error) {
	defer m.done("Participant", time.Now(), &err)
	return m.Store.Participant(ctx, id)
}

func (m *Store) ParticipantsOfSession(ctx context.Context, sessionID string) (r0 []*cases.Participant, err error) {
	defer m.done("ParticipantsOfSession", time.Now(), &err)
	return m.Store.ParticipantsOfSession(ctx, sessionID)
}

func (m *Store) MarkJoined(ctx context.Context, participantID string, at time.Time, ip string) (err error) {
	defer m.done("MarkJoined", time.Now(), &err)
	return m.Store.MarkJoined(ctx, participantID, at, ip)
}

func (m *Store) MarkLeft(ctx context.Context, participantID string, at time.Time) (err error) {
	defer m.done("MarkLeft", time.Now(), &err)
	return m.Store.MarkLeft(ctx, participantID, at)
}

func (m *Store) MarkConsent(ctx context.Context, participantID string, at time.Time) (err error) {
	defer m.done("MarkConsent", time.Now(), &err)
	return m.Store.MarkConsent(ctx, participantID, at)
}

func (m *Store) CreateInvite(ctx context.Context, i *cases.Invite) (err error) {
	defer m.done("CreateInvite", time.Now(), &err)
	return m.Store.CreateInvite(ctx, i)
}

func (m *Store) InviteByTokenHash(ctx context.Context, hash []byte) (r0 *cases.Invite, err error) {
	defer m.done("InviteByTokenHash", time.Now(), &err)
	return m.Store.InviteByTokenHash(ctx, hash)
}

func (m *Store) InvitesOfParticipant(ctx context.Context, participantID string) (r0 []*cases.Invite, err error) {
	defer m.done("InvitesOfParticipant", time.Now(), &err)
	return m.Store.InvitesOfParticipant(ctx, participantID)
}

func (m *Store) RevokeInvite(ctx context.Context, id string, at time.Time) (err error) {
	defer m.done("RevokeInvite", time.Now(), &err)
	return m.Store.RevokeInvite(ctx, id, at)
}

func (m *Store) Org(ctx context.Context, id string) (r0 *cases.Org, err error) {
	defer m.done("Org", time.Now(), &err)
	return m.Store.Org(ctx, id)
}

func (m *Store) Orgs(ctx context.Context) (r0 []*cases.Org, err error) {
	defer m.done("Orgs", time.Now(), &err)
	return m.Store.Orgs(ctx)
}

func (m *Store) Accounts(ctx context.Context, orgID string) (r0 []*cases.Account, err error) {
	defer m.done("Accounts", time.Now(), &err)
	return m.Store.Accounts(ctx, orgID)
}

func (m *Store) SearchCases(ctx context.Context, q cases.CaseQuery) (r0 []*cases.Case, r1 int, err error) {
	defer m.done("SearchCases", time.Now(), &err)
	return m.Store.SearchCases(ctx, q)
}

func (m *Store) CaseSummaries(ctx context.Context, ids []string) (r0 map[string]*cases.CaseSummary, err error) {
	defer m.done("CaseSummaries", time.Now(), &err)
	return m.Store.CaseSummaries(ctx, ids)
}

func (m *Store) Invite(ctx context.Context, id string) (r0 *cases.Invite, err error) {
	defer m.done("Invite", time.Now(), &err)
	return m.Store.Invite(ctx, id)
}

func (m *Store) CreateLogin(ctx context.Context, l *cases.Login) (err error) {
	defer m.done("CreateLogin", time.Now(), &err)
	return m.Store.CreateLogin(ctx, l)
}

func (m *Store) LoginByTokenHash(ctx context.Context, hash []byte) (r0 *cases.Login, err error) {
	defer m.done("LoginByTokenHash", time.Now(), &err)
	return m.Store.LoginByTokenHash(ctx, hash)
}

func (m *Store) DeleteLogin(ctx context.Context, hash []byte) (err error) {
	defer m.done("DeleteLogin", time.Now(), &err)
	return m.Store.DeleteLogin(ctx, hash)
}

func (m *Store) DeleteExpiredLogins(ctx context.Context, now time.Time) (r0 int, err error) {
	defer m.done("DeleteExpiredLogins", time.Now(), &err)
	return m.Store.DeleteExpiredLogins(ctx, now)
}

func (m *Store) AppendAudit(ctx context.Context, e *audit.Entry) (err error) {
	defer m.done("AppendAudit", time.Now(), &err)
	return m.Store.AppendAudit(ctx, e)
}

func (m *Store) AuditEntries(ctx context.Context, f audit.Filter) (r0 []*audit.Entry, err error) {
	defer m.done("AuditEntries", time.Now(), &err)
	return m.Store.AuditEntries(ctx, f)
}

func (m *Store) EndSession(ctx context.Context, id string, at time.Time) (err error) {
	defer m.done("EndSession", time.Now(), &err)
	return m.Store.EndSession(ctx, id, at)
}

func (m *Store) PutRecording(ctx context.Context, r *cases.Recording) (err error) {
	defer m.done("PutRecording", time.Now(), &err)
	return m.Store.PutRecording(ctx, r)
}

func (m *Store) Recording(ctx context.Context, sessionID string) (r0 *cases.Recording, err error) {
	defer m.done("Recording", time.Now(), &err)
	return m.Store.Recording(ctx, sessionID)
}

func (m *Store) RecordingsInState(ctx context.Context, state string) (r0 []*cases.Recording, err error) {
	defer m.done("RecordingsInState", time.Now(), &err)
	return m.Store.RecordingsInState(ctx, state)
}

func (m *Store) AddSegment(ctx context.Context, s *cases.Segment) (err error) {
	defer m.done("AddSegment", time.Now(), &err)
	return m.Store.AddSegment(ctx, s)
}

func (m *Store) Segments(ctx context.Context, sessionID string) (r0 []*cases.Segment, err error) {
	defer m.done("Segments", time.Now(), &err)
	return m.Store.Segments(ctx, sessionID)
}

func (m *Store) ClaimRecording(ctx context.Context, sessionID string, node string, at time.Time) (r0 []string, err error) {
	defer m.done("ClaimRecording", time.Now(), &err)
	return m.Store.ClaimRecording(ctx, sessionID, node, at)
}

func (m *Store) AdoptRecording(ctx context.Context, sessionID string, from string, node string, at time.Time) (err error) {
	defer m.done("AdoptRecording", time.Now(), &err)
	return m.Store.AdoptRecording(ctx, sessionID, from, node, at)
}

func (m *Store) SetRecordingNode(ctx context.Context, sessionID string, node string, state string, at time.Time) (err error) {
	defer m.done("SetRecordingNode", time.Now(), &err)
	return m.Store.SetRecordingNode(ctx, sessionID, node, state, at)
}

func (m *Store) RecordingNodes(ctx context.Context, sessionID string) (r0 []*cases.RecordingNode, err error) {
	defer m.done("RecordingNodes", time.Now(), &err)
	return m.Store.RecordingNodes(ctx, sessionID)
}

func (m *Store) PutSigningKey(ctx context.Context, k *cases.SigningKey) (err error) {
	defer m.done("PutSigningKey", time.Now(), &err)
	return m.Store.PutSigningKey(ctx, k)
}

func (m *Store) SigningKeys(ctx context.Context) (r0 []*cases.SigningKey, err error) {
	defer m.done("SigningKeys", time.Now(), &err)
	return m.Store.SigningKeys(ctx)
}

func (m *Store) Ping(ctx context.Context) (err error) {
	defer m.done("Ping", time.Now(), &err)
	return m.Store.Ping(ctx)
}
