package settlement

import "fmt"

// Stable codes of the errors a signer or the mediator gets (the
// signaling protocol sends them as they are; docs/protocol.md).
const (
	CodeNotMediation      = "not_mediation"        // settlements are for mediation cases
	CodeNoSettlement      = "no_settlement"        // nothing drafted or shared yet
	CodeSettlementChanged = "settlement_changed"   // the hash signed is not the shared version's
	CodeNotSigner         = "not_signer"           // only the parties and the mediator sign
	CodeNotReady          = "settlement_not_ready" // signatures or confirmations are missing
	CodeFinal             = "settlement_final"     // the settlement is finalized: no more changes
	CodeBadText           = "bad_text"             // empty, too long or not UTF-8
	CodeBadSignature      = "bad_signature"        // the drawing or the typed name is malformed
	CodeSignatureTooLarge = "signature_too_large"  // too many strokes or points
	CodeUnknownTemplate   = "unknown_template"
	CodeNoSuchVersion     = "no_such_version"
	CodeNoSuchSigner      = "no_such_signer"
)

// Error is a refusal with a stable code, for the person who asked.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "settlement: " + e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
