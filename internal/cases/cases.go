// Package cases is the domain: organizations, staff accounts, cases, the
// video sessions of a case, their participants and the invites that let a
// person without an account join one session.
package cases

import "time"

// Role is what a person does in the platform.
type Role string

// Staff roles have accounts; party and interpreter join by invite only.
const (
	RoleAdmin       Role = "admin"
	RoleClerk       Role = "clerk"
	RoleMediator    Role = "mediator"
	RoleNotary      Role = "notary"
	RoleJudge       Role = "judge"
	RoleObserver    Role = "observer"
	RoleParty       Role = "party"
	RoleInterpreter Role = "interpreter"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleClerk, RoleMediator, RoleNotary, RoleJudge, RoleObserver, RoleParty, RoleInterpreter:
		return true
	}
	return false
}

// Presides reports whether r hosts sessions (mediator, notary, judge).
func (r Role) Presides() bool {
	return r == RoleMediator || r == RoleNotary || r == RoleJudge
}

// Kind is the kind of a case.
type Kind string

// Case kinds (see docs/domain in the design notes).
const (
	KindMediation          Kind = "mediation"
	KindNotarization       Kind = "notarization"
	KindHearing            Kind = "hearing"
	KindEvidenceCollection Kind = "evidence_collection"
)

// Valid reports whether k is a known case kind.
func (k Kind) Valid() bool {
	switch k {
	case KindMediation, KindNotarization, KindHearing, KindEvidenceCollection:
		return true
	}
	return false
}

// Org is an organization: a court, a notary office, a mediation committee,
// an overseas service center.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
	// RetentionDays is how long the organization's recordings are kept
	// write-once (Object Lock); 0 means the default, 3650 (10 years).
	RetentionDays int
	// RetentionMode is COMPLIANCE (default; nobody can shorten it) or
	// GOVERNANCE (privileged users can).
	RetentionMode string
}

// DefaultRetentionDays is how long what a session produced is kept when
// the organization sets nothing: 10 years.
const DefaultRetentionDays = 3650

// Retention is until when what session sess produced (its recording and
// the documents shown or signed in it) is kept write-once, and the mode
// (COMPLIANCE unless the organization chose GOVERNANCE): the
// organization's policy counted from the session's start, or its
// creation when it never started.
func (o *Org) Retention(sess *Session) (until time.Time, mode string) {
	days, mode := o.RetentionDays, o.RetentionMode
	if days == 0 {
		days = DefaultRetentionDays
	}
	if mode == "" {
		mode = "COMPLIANCE"
	}
	start := sess.CreatedAt
	if sess.StartedAt != nil {
		start = *sess.StartedAt
	}
	return start.AddDate(0, 0, days).UTC(), mode
}

// Account is a staff member's login.
type Account struct {
	ID           string
	OrgID        string
	Email        string // stored lower-cased
	Name         string
	Role         Role
	PasswordHash string // argon2id, PHC string format
	CreatedAt    time.Time
	DisabledAt   *time.Time
}

// Case is a dispute, notarization, hearing or evidence collection.
type Case struct {
	ID        string
	OrgID     string
	Kind      Kind
	Number    string // unique within the organization
	Title     string
	Status    string // open, closed
	CreatedBy string // account id
	CreatedAt time.Time
}

// Session is one video meeting of a case.
type Session struct {
	ID             string
	CaseID         string
	OrgID          string
	Title          string
	ScheduledStart time.Time // UTC
	ScheduledEnd   time.Time // UTC, zero if unset
	TimeZone       string    // organizer's IANA zone, e.g. Asia/Shanghai
	Record         bool
	WaitingRoom    bool
	State          string // scheduled, live, ended
	StartedAt      *time.Time
	EndedAt        *time.Time
	CreatedAt      time.Time
}

// Participant is one person's place in one session.
type Participant struct {
	ID            string
	SessionID     string
	AccountID     string // empty for parties and interpreters
	Role          Role
	DisplayName   string
	Language      string // BCP 47, e.g. zh-CN, it, en
	TimeZone      string
	Email         string
	ConsentAt     *time.Time // consent to the online procedure and recording
	JoinedAt      *time.Time // first join
	LeftAt        *time.Time // last leave
	LastIP        string
	CreatedAt     time.Time
	InterpretsFor string // participant id of the party an interpreter interprets for; "" otherwise
}

// Invite lets the holder of a link join one session as one participant.
// Only the SHA-256 of the token is stored.
type Invite struct {
	ID            string
	ParticipantID string
	SessionID     string
	TokenHash     []byte
	ExpiresAt     time.Time
	RevokedAt     *time.Time
	CreatedAt     time.Time
}

// Usable reports whether the invite may be used at now.
func (i *Invite) Usable(now time.Time) bool {
	return i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

// Login is a staff member's login session. The token, held by the browser
// in an HttpOnly cookie or by an API client as a bearer token, is stored
// only as its SHA-256.
type Login struct {
	TokenHash []byte
	AccountID string
	CSRF      string // the session's CSRF token, echoed in X-CSRF-Token
	IP        string
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CaseQuery selects cases for a search. Its conditions combine with AND.
type CaseQuery struct {
	OrgID string // required
	// Text matches case number or title, or the name of a participant of
	// any of the case's sessions: a substring, ignoring case, accents and
	// the width of characters (see store/sqlbase.Fold).
	Text string
	Kind Kind // empty for all
	// Mine, an account id, keeps the cases that account created or in
	// whose sessions it takes part; empty for all.
	Mine string
	// From and To, when not zero, bound a time range (both inclusive; a
	// zero bound leaves that side open). A case is in it when one of its
	// sessions is scheduled or started in it, or when it was created in
	// it.
	From, To time.Time
	// Presider, an account id, keeps the cases in whose sessions that
	// account takes part as mediator, notary or judge, and those it
	// created; empty for all.
	Presider string
	// Sort is the order of the results, newest (or last) first unless
	// Ascending; ties are broken by ID, ascending.
	Sort      CaseSort
	Ascending bool
	Limit     int // 1..200; 0 means 50
	Offset    int
}

// CaseSort is the order of a case search.
type CaseSort string

// The orders of a case search.
const (
	SortCreated     CaseSort = "created"      // CreatedAt (the default, also for "")
	SortNumber      CaseSort = "number"       // Number, ignoring case and accents
	SortTitle       CaseSort = "title"        // Title, ignoring case and accents
	SortLastSession CaseSort = "last_session" // LastSessionAt; cases without sessions last
)

// Valid reports whether s is a known order ("" is the default).
func (s CaseSort) Valid() bool {
	switch s {
	case "", SortCreated, SortNumber, SortTitle, SortLastSession:
		return true
	}
	return false
}

// CaseSummary is what a list of cases shows of each case's sessions.
type CaseSummary struct {
	CaseID   string
	Sessions int // how many sessions the case has
	// LastSessionAt is the latest start among the case's sessions: the
	// time a session started, or, for one that has not, its scheduled
	// start. Nil when the case has no session.
	LastSessionAt *time.Time
	// Presiders are the accounts that take part in the case's sessions as
	// mediator, notary or judge, each once per role, by name then id.
	Presiders []Presider
}

// Presider is an account presiding over a session.
type Presider struct {
	AccountID string
	Name      string
	Role      Role // the role it presides in
}

// Recording states.
const (
	RecordingActive  = "recording" // media is being recorded
	RecordingSealing = "sealing"   // the session ended; segments upload, then the manifest is signed
	RecordingSealed  = "sealed"    // the manifest is signed and stored
	RecordingFailed  = "failed"    // sealing failed; see Failure
)

// Recording is the recording of one session.
type Recording struct {
	SessionID   string
	State       string
	StartedAt   time.Time
	EndedAt     *time.Time // the session's end: sealing starts
	SealedAt    *time.Time
	ManifestKey string // object key of manifest.json once sealed
	ManifestSHA []byte // SHA-256 of manifest.json
	ChainHead   string // hex
	KeyID       string // signing key
	Failure     string // why sealing failed, for the clerk
	LegalHold   bool
	RetainUntil time.Time
	// GapCount is the number of gaps the sealed manifest lists; nil before
	// sealing, and for recordings sealed before it was kept.
	GapCount *int
}

// RecordingNode is one node's part in recording a session. The node
// hosting a recorded session's room records it; when that node stops
// without a word (killed, cut off) another node takes the recording over,
// and the first node's part becomes pending until what its spool held is
// stored.
type RecordingNode struct {
	SessionID string
	Node      string
	State     string    // NodeRecording, NodePending or NodeDone
	Since     time.Time // when it entered State
}

// The states of a node's part in a recording.
const (
	// NodeRecording: the node records the session now, or did when it
	// stopped without a word. At most one node of a session is in it.
	NodeRecording = "recording"
	// NodePending: the node no longer records the session, and media of
	// it may still wait in that node's spool.
	NodePending = "pending"
	// NodeDone: everything the node recorded of the session is stored.
	NodeDone = "done"
)

// Segment is one stored media file of one participant of a recorded
// session.
type Segment struct {
	SessionID     string
	ParticipantID string
	// Stream is "" for the participant's camera and microphone, "screen"
	// for their screen share; Index is one sequence across both.
	Stream string
	// Room is the private room the segment was recorded in ("" for the
	// joint room): its media is sealed to the session's mediator.
	Room          string
	Index         int
	Key           string // object key
	ContentType   string
	Bytes         int64
	SHA256        []byte
	WallStart     time.Time
	WallEnd       time.Time
	MediaStart    time.Duration
	MediaEnd      time.Duration
	Codecs        []string
	Width, Height int
	Gaps          string // JSON array of gaps, as the recorder reported them
	Speaking      string // JSON array of speaking intervals, as the recorder reported them; "" for none
	Recovered     bool   // closed by crash recovery
	UploadedAt    time.Time
	RetainUntil   time.Time
}

// SigningKey is a node's public key for manifests.
type SigningKey struct {
	ID        string // "ed25519:<16 hex>"
	Node      string
	PublicPEM string
	CreatedAt time.Time
}
