// Package notary is the notary's desk in a notarization session: the
// script of steps the law expects, in order; the document under
// notarization, shown to everyone with its SHA-256, and the version
// presented for signing, compared with it; and the notary's journal,
// written after the session, immutable, each entry hashed and
// timestamped where a timestamp authority is configured.
package notary

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
)

// The steps of a remote notarization, in the order the notary follows
// them on screen.
const (
	StepIdentity = "identity_confirmed" // the notary confirmed the party's identity
	StepAct      = "act_stated"         // the act (e.g. a power of attorney) was stated
	StepDocument = "document_shown"     // the document under notarization was shown, with its hash
	StepFreeWill = "free_will"          // the party declared they act of their own free will
	StepLocation = "location_stated"    // the party said where they are
	StepSigning  = "signing"            // the document was signed
	StepClosing  = "closing"            // the notary closed the act
)

// Steps are the steps in order.
var Steps = []string{StepIdentity, StepAct, StepDocument, StepFreeWill, StepLocation, StepSigning, StepClosing}

// StepAction is the audit action of a marked step; its detail is
// {"step": …, "note": …}.
const StepAction = "notary.step"

// Errors of marking a step.
var (
	ErrUnknownStep  = errors.New("notary: unknown step")
	ErrOutOfOrder   = errors.New("notary: a step before this one is not done")
	ErrNoteRequired = errors.New("notary: marking a step again needs a note saying why")
)

// Mark is one marking of a step: when, by whom (a participant id), with
// what note.
type Mark struct {
	Step string
	At   time.Time
	By   string
	Note string
}

// Done reports whether step is marked in marks.
func Done(marks []Mark, step string) bool {
	return slices.ContainsFunc(marks, func(m Mark) bool { return m.Step == step })
}

// Check reports whether step may be marked now: it is a step, every step
// before it is done, and marking it again says why (a repeated
// declaration).
func Check(marks []Mark, step, note string) error {
	i := slices.Index(Steps, step)
	if i < 0 {
		return ErrUnknownStep
	}
	if Done(marks, step) {
		if strings.TrimSpace(note) == "" {
			return ErrNoteRequired
		}
		return nil
	}
	for _, s := range Steps[:i] {
		if !Done(marks, s) {
			return ErrOutOfOrder
		}
	}
	return nil
}

// Current is the first step not done yet, "" when all are.
func Current(marks []Mark) string {
	for _, s := range Steps {
		if !Done(marks, s) {
			return s
		}
	}
	return ""
}

// StepDetail is the detail of a step's audit entry.
type StepDetail struct {
	Step string `json:"step"`
	Note string `json:"note,omitempty"`
}

// Detail encodes the audit detail of a mark.
func Detail(step, note string) string {
	b, _ := json.Marshal(StepDetail{Step: step, Note: note})
	return string(b)
}

// MarksOf reads the marks from a session's audit entries, in order.
func MarksOf(entries []*audit.Entry) []Mark {
	var out []Mark
	for _, e := range entries {
		if e.Action != StepAction {
			continue
		}
		var d StepDetail
		if json.Unmarshal([]byte(e.Detail), &d) != nil || !slices.Contains(Steps, d.Step) {
			continue
		}
		out = append(out, Mark{Step: d.Step, At: e.Time.UTC(), By: e.ActorID, Note: d.Note})
	}
	return out
}
