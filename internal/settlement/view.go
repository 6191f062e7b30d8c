package settlement

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// View is a settlement as everyone in the session sees it: the shared
// version and who has signed it. It travels as is in the signaling
// messages (docs/protocol.md, "settlement").
type View struct {
	ID       string    `json:"id"`
	Version  int       `json:"version"`
	Text     string    `json:"text"`
	SHA256   string    `json:"sha256"` // of Text, canonical
	Language string    `json:"language"`
	SharedAt time.Time `json:"shared_at"`
	Signers  []Signer  `json:"signers"`
	// Ready: every signer has signed and confirmed; the mediator may
	// finalize.
	Ready bool `json:"ready"`
	// Cleared is how many signatures the change that made this view left
	// behind (they were made on another version).
	Cleared int        `json:"cleared,omitempty"`
	Final   *FinalView `json:"final,omitempty"`
}

// Signer is one person who must sign, and where they are.
type Signer struct {
	ParticipantID string     `json:"participant_id"`
	Name          string     `json:"name"`
	Role          string     `json:"role"`
	Signed        bool       `json:"signed"`
	SignedAt      *time.Time `json:"signed_at,omitempty"`
	TypedName     string     `json:"typed_name,omitempty"`
	NameMatches   bool       `json:"name_matches"`
	NameConfirmed bool       `json:"name_confirmed"` // the mediator accepted a typed name that differs
	Confirmed     bool       `json:"confirmed"`      // spoken confirmation marked
	ConfirmedAt   *time.Time `json:"confirmed_at,omitempty"`

	drawing string // stored strokes, for the PDF
}

// NameAccepted: the typed name matches, or the mediator accepted it.
func (g Signer) NameAccepted() bool { return g.NameMatches || g.NameConfirmed }

// FinalView is the signed PDF.
type FinalView struct {
	SHA256 string    `json:"sha256"`
	Bytes  int64     `json:"bytes"`
	At     time.Time `json:"at"`
}

func (s *Service) reload(ctx context.Context, id string) (*View, error) {
	st, err := s.Records.Settlement(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, st)
}

// view is st as everyone sees it.
func (s *Service) view(ctx context.Context, st *cases.Settlement) (*View, error) {
	v := &View{ID: st.ID, Version: st.SharedVersion, Language: st.Language, Signers: []Signer{}}
	if sv := st.Version(st.SharedVersion); sv != nil {
		v.Text, v.SHA256 = sv.Text, hex.EncodeToString(sv.SHA256)
		if sv.SharedAt != nil {
			v.SharedAt = *sv.SharedAt
		}
	}
	signers, err := s.signers(ctx, st)
	if err != nil {
		return nil, err
	}
	v.Signers = signers
	v.Ready = len(signers) > 0
	for _, g := range signers {
		if !g.Signed || !g.Confirmed || !g.NameAccepted() {
			v.Ready = false
		}
	}
	if f := st.Final; f != nil {
		v.Final = &FinalView{SHA256: hex.EncodeToString(f.SHA256), Bytes: f.Bytes, At: f.At}
	}
	return v, nil
}

// signers are the parties of the session, in the order they were added,
// then the mediator who drafted the settlement, each with their signature
// of the shared version, if any.
func (s *Service) signers(ctx context.Context, st *cases.Settlement) ([]Signer, error) {
	parts, err := s.Records.ParticipantsOfSession(ctx, st.SessionID)
	if err != nil {
		return nil, err
	}
	var out []Signer
	var mediator *cases.Participant
	for _, p := range parts {
		switch {
		case p.Role == cases.RoleParty:
			out = append(out, Signer{ParticipantID: p.ID, Name: p.DisplayName, Role: string(p.Role)})
		case p.ID == st.CreatedBy:
			mediator = p
		}
	}
	if mediator != nil {
		out = append(out, Signer{ParticipantID: mediator.ID, Name: mediator.DisplayName, Role: string(mediator.Role)})
	}
	for _, g := range st.SignaturesOf(st.SharedVersion) {
		if x := findSigner(out, g.ParticipantID); x != nil {
			at := g.SignedAt
			x.Signed, x.SignedAt, x.TypedName, x.NameMatches, x.NameConfirmed = true, &at, g.TypedName, g.NameMatches, g.NameConfirmedBy != ""
			x.Confirmed, x.ConfirmedAt, x.drawing = g.ConfirmedAt != nil, g.ConfirmedAt, g.Strokes
		}
	}
	return out, nil
}

func findSigner(list []Signer, pid string) *Signer {
	for i := range list {
		if list[i].ParticipantID == pid {
			return &list[i]
		}
	}
	return nil
}
