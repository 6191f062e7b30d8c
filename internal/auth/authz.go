package auth

import "github.com/kuayang/kuayang/internal/cases"

// Action is something a staff member may be allowed to do. Every API route
// names one.
type Action string

// The actions of the REST API.
const (
	CaseCreate    Action = "case.create"
	CaseRead      Action = "case.read"
	SessionCreate Action = "session.create"
	InviteManage  Action = "invite.manage"
	AuditRead     Action = "audit.read"
	AccountRead   Action = "account.read"
	// SessionEnd is ending a session for everyone (the host's act).
	SessionEnd Action = "session.end"
	// RecordingRead is listing and playing a session's recording.
	RecordingRead Action = "recording.read"
	// RecordingExport is downloading the evidence bundle.
	RecordingExport Action = "recording.export"
	// HoursSet is setting the organization's office hours.
	HoursSet Action = "org.hours_set"
	// JournalWrite is writing the notary's journal entry on a session
	// (the session's presider, or an admin: checked by the route).
	JournalWrite Action = "journal.write"
)

// grants lists the account roles allowed each action. Parties and
// interpreters have no accounts and no API access.
var grants = map[Action][]cases.Role{
	CaseCreate:      {cases.RoleAdmin, cases.RoleClerk, cases.RoleMediator, cases.RoleNotary, cases.RoleJudge},
	CaseRead:        {cases.RoleAdmin, cases.RoleClerk, cases.RoleMediator, cases.RoleNotary, cases.RoleJudge},
	SessionCreate:   {cases.RoleAdmin, cases.RoleClerk, cases.RoleMediator, cases.RoleNotary, cases.RoleJudge},
	InviteManage:    {cases.RoleAdmin, cases.RoleClerk, cases.RoleMediator, cases.RoleNotary, cases.RoleJudge},
	AuditRead:       {cases.RoleAdmin, cases.RoleClerk},
	AccountRead:     {cases.RoleAdmin},
	SessionEnd:      {cases.RoleAdmin, cases.RoleMediator, cases.RoleNotary, cases.RoleJudge},
	RecordingRead:   {cases.RoleAdmin, cases.RoleClerk, cases.RoleMediator, cases.RoleNotary, cases.RoleJudge},
	RecordingExport: {cases.RoleAdmin, cases.RoleClerk},
	HoursSet:        {cases.RoleAdmin},
	JournalWrite:    {cases.RoleAdmin, cases.RoleNotary},
}

// Allowed reports whether role may do action. Whether the thing acted on
// belongs to the account's organization is checked when it is loaded.
func Allowed(role cases.Role, action Action) bool {
	for _, r := range grants[action] {
		if r == role {
			return true
		}
	}
	return false
}

// StaffRoles are the roles an account can have.
var StaffRoles = []cases.Role{cases.RoleAdmin, cases.RoleClerk, cases.RoleMediator, cases.RoleNotary, cases.RoleJudge}

// IsStaffRole reports whether r can be an account's role.
func IsStaffRole(r cases.Role) bool {
	for _, s := range StaffRoles {
		if s == r {
			return true
		}
	}
	return false
}
