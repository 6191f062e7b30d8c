package signaling

import "fmt"

// Stable error codes sent to clients (docs/protocol.md lists them).
const (
	CodeBadJSON            = "bad_json"
	CodeBadMessage         = "bad_message"
	CodeUnknownType        = "unknown_type"
	CodeUnsupportedVersion = "unsupported_version"
	CodeNotJoined          = "not_joined"
	CodeAlreadyJoined      = "already_joined"
	CodeTokenInvalid       = "token_invalid"
	CodeTokenExpired       = "token_expired"
	CodeTokenUsed          = "token_used"
	CodeConsentRequired    = "consent_required"
	CodeSessionEnded       = "session_ended"
	CodeBadSDP             = "bad_sdp"
	CodeBadCandidate       = "bad_candidate"
	CodeTooLarge           = "too_large"
	CodeJoinTimeout        = "join_timeout"
	CodeInternal           = "internal"
	// CodeRecordingUnavailable: a recorded session whose recording cannot
	// start is not joined (not fatal; the client may try again).
	CodeRecordingUnavailable = "recording_unavailable"
	// CodeCoordinationUnavailable: the node cannot tell which node hosts
	// the room (Redis does not answer); not fatal, try again.
	CodeCoordinationUnavailable = "coordination_unavailable"
	// CodeNotHost: a host-only message from someone who does not preside.
	CodeNotHost = "not_host"
	// CodeNotAdmitted: a message other than leave from the waiting room.
	CodeNotAdmitted = "not_admitted"
	// CodeNoSuchParticipant: a host action names nobody it can act on.
	CodeNoSuchParticipant = "no_such_participant"
	// CodeRateLimited: chat messages too fast.
	CodeRateLimited = "rate_limited"
	// CodeResumeFailed: the signaling session to resume is not kept here
	// (its place expired, the participant joined again elsewhere, the
	// room moved to another node, the session ended): join again.
	CodeResumeFailed = "resume_failed"
)

// RedirectRoomElsewhere is the code of a redirect message: the session's
// room is hosted by another node.
const RedirectRoomElsewhere = "room_elsewhere"

// fatal codes end the connection after the error is sent.
var fatal = map[string]bool{
	CodeUnsupportedVersion: true,
	CodeTokenInvalid:       true,
	CodeTokenExpired:       true,
	CodeTokenUsed:          true,
	CodeSessionEnded:       true,
	CodeTooLarge:           true,
	CodeJoinTimeout:        true,
	CodeResumeFailed:       true,
}

// Error is a protocol error as the client sees it.
type Error struct {
	Code    string
	Ref     string // type of the offending message, if known
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Fatal reports whether the connection ends after this error.
func (e *Error) Fatal() bool { return fatal[e.Code] }

func errorf(code, ref, format string, args ...any) *Error {
	return &Error{Code: code, Ref: ref, Message: fmt.Sprintf(format, args...)}
}
