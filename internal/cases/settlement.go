package cases

import "time"

// Settlement is a mediation settlement agreement drafted, signed and
// finalized in a session: its text versions, the signatures collected on
// them, and the signed PDF it ends as.
type Settlement struct {
	ID        string
	SessionID string
	CaseID    string
	OrgID     string
	Template  string // the built-in template it started from
	Language  string // zh, en or it
	CreatedBy string // participant id of the mediator
	CreatedAt time.Time
	// SharedVersion is the version everyone sees and signs; 0 before the
	// mediator shares one.
	SharedVersion int
	Versions      []SettlementVersion   // ascending
	Signatures    []SettlementSignature // of every version, by version then time
	Final         *SettlementFinal      // nil until finalized
}

// Version returns version v, or nil.
func (s *Settlement) Version(v int) *SettlementVersion {
	for i := range s.Versions {
		if s.Versions[i].Version == v {
			return &s.Versions[i]
		}
	}
	return nil
}

// SignaturesOf returns the signatures of version v, in the order given.
func (s *Settlement) SignaturesOf(v int) []SettlementSignature {
	var out []SettlementSignature
	for _, g := range s.Signatures {
		if g.Version == v {
			out = append(out, g)
		}
	}
	return out
}

// SettlementVersion is one saved text of a settlement.
type SettlementVersion struct {
	SettlementID string
	Version      int    // 1, 2, …
	Text         string // canonical (settlement.Canonical)
	SHA256       []byte // of Text's UTF-8 bytes
	CreatedAt    time.Time
	SharedAt     *time.Time // when it was shared, if it was
}

// SettlementSignature is one signer's signature of one version: typed
// name, drawn strokes, and the spoken confirmation the mediator marked.
type SettlementSignature struct {
	SettlementID  string
	Version       int
	ParticipantID string
	Role          Role
	TypedName     string
	// NameMatches: the typed name matches the participant's name; when
	// it does not, NameConfirmedBy is the mediator who accepted it.
	NameMatches     bool
	NameConfirmedBy string
	Strokes         string // JSON: {"w":…,"h":…,"strokes":[[x,y,x,y,…],…]}
	SignedAt        time.Time
	ConfirmedAt     *time.Time // the spoken confirmation, marked by ConfirmedBy
	ConfirmedBy     string
}

// SettlementFinal is the signed PDF a settlement ends as, stored
// write-once.
type SettlementFinal struct {
	Key       string // object key of the PDF
	Bytes     int64
	SHA256    []byte
	At        time.Time
	By        string // participant id of the mediator who finalized it
	Timestamp string // object key of an RFC 3161 token over SHA256, or ""
}
