package sfu

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them (or an
// error of pion/webrtc) with %w, so callers test them with errors.Is.
var (
	// ErrDuplicate is returned by Join when the participant id is already
	// in the room.
	ErrDuplicate = errors.New("sfu: participant already in room")
	// ErrClosed is returned by Join after Close.
	ErrClosed = errors.New("sfu: closed")
	// ErrLeft is returned by a Participant's methods after Leave.
	ErrLeft = errors.New("sfu: participant has left")
	// ErrBadSDP wraps the reason a session description was refused.
	ErrBadSDP = errors.New("sfu: bad session description")
	// ErrNoOffer is returned by Answer when no subscribe offer is
	// outstanding.
	ErrNoOffer = errors.New("sfu: no subscribe offer outstanding")
	// ErrBadCandidate wraps the reason an ICE candidate was refused.
	ErrBadCandidate = errors.New("sfu: bad ICE candidate")
	// ErrConnectionFailed is the error given to Handler.Failed.
	ErrConnectionFailed = errors.New("sfu: connection failed")
)
