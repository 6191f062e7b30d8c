package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/sfu"
)

// Version is the protocol version this server speaks.
const Version = 1

// Message is a decoded client-to-server message.
type Message interface {
	// Type is the wire name of the message.
	Type() string
}

// Join enters a session.
type Join struct {
	Version int    `json:"version"`
	Token   string `json:"token"`
	Consent bool   `json:"consent"`
}

// Publish carries the offer of the publish connection.
type Publish struct {
	SDP string `json:"sdp"`
}

// Answer carries the answer to the server's subscribe offer.
type Answer struct {
	SDP string `json:"sdp"`
}

// Candidate is a trickled ICE candidate.
type Candidate struct {
	PC        sfu.Direction            `json:"pc"`
	Candidate *webrtc.ICECandidateInit `json:"candidate"`
}

// State announces the sender's microphone and camera state.
type State struct {
	Audio *bool `json:"audio"`
	Video *bool `json:"video"`
}

// Leave leaves the session.
type Leave struct{}

// Type implements Message.
func (Join) Type() string { return "join" }

// Type implements Message.
func (Publish) Type() string { return "publish" }

// Type implements Message.
func (Answer) Type() string { return "answer" }

// Type implements Message.
func (Candidate) Type() string { return "candidate" }

// Type implements Message.
func (State) Type() string { return "state" }

// Type implements Message.
func (Leave) Type() string { return "leave" }

// maxSDP bounds an SDP blob; real ones are a few KiB.
const maxSDP = 48 << 10

// decoders maps each type to its decoder: one small function per message.
var decoders = map[string]func([]byte) (Message, error){
	"join":      decodeJoin,
	"publish":   decodePublish,
	"answer":    decodeAnswer,
	"candidate": decodeCandidate,
	"state":     decodeState,
	"leave":     func([]byte) (Message, error) { return Leave{}, nil },
}

// Decode parses one frame. Errors are *Error with code bad_json,
// bad_message or unknown_type, and Ref set when the type is known.
func Decode(data []byte) (Message, error) {
	var env struct {
		Type *string `json:"type"`
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' || json.Unmarshal(data, &env) != nil {
		return nil, errorf(CodeBadJSON, "", "the frame is not a JSON object")
	}
	if env.Type == nil {
		return nil, errorf(CodeBadMessage, "", "the message has no type")
	}
	dec, ok := decoders[*env.Type]
	if !ok {
		return nil, errorf(CodeUnknownType, "", "unknown message type %.40q", *env.Type)
	}
	m, err := dec(data)
	if err != nil {
		return nil, errorf(CodeBadMessage, *env.Type, "%s: %v", *env.Type, err)
	}
	return m, nil
}

func decodeJoin(data []byte) (Message, error) {
	var m Join
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Token == "" {
		return nil, fmt.Errorf("token is required")
	}
	return m, nil
}

func decodeSDP(data []byte) (string, error) {
	var m struct {
		SDP string `json:"sdp"`
	}
	if err := unmarshal(data, &m); err != nil {
		return "", err
	}
	if m.SDP == "" {
		return "", fmt.Errorf("sdp is required")
	}
	if len(m.SDP) > maxSDP {
		return "", fmt.Errorf("sdp is longer than %d bytes", maxSDP)
	}
	return m.SDP, nil
}

func decodePublish(data []byte) (Message, error) {
	sdp, err := decodeSDP(data)
	return Publish{SDP: sdp}, err
}

func decodeAnswer(data []byte) (Message, error) {
	sdp, err := decodeSDP(data)
	return Answer{SDP: sdp}, err
}

func decodeCandidate(data []byte) (Message, error) {
	var m Candidate
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.PC != sfu.Publish && m.PC != sfu.Subscribe {
		return nil, fmt.Errorf(`pc must be "publish" or "subscribe"`)
	}
	if m.Candidate == nil {
		return nil, fmt.Errorf("candidate is required")
	}
	return m, nil
}

func decodeState(data []byte) (Message, error) {
	var m State
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Audio == nil && m.Video == nil {
		return nil, fmt.Errorf("audio or video is required")
	}
	return m, nil
}

// unmarshal decodes into v and words type errors for a person to read.
func unmarshal(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %s must be %s", te.Field, te.Type)
	}
	return err
}

// Outgoing messages. Each is encoded with its type by encode.

// ParticipantInfo describes a participant to the others.
type ParticipantInfo struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Audio bool   `json:"audio"`
	Video bool   `json:"video"`
}

// SessionInfo describes the session in `joined`.
type SessionInfo struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Record bool   `json:"record"`
}

type joinedMsg struct {
	Type         string            `json:"type"`
	Self         ParticipantInfo   `json:"self"`
	Session      SessionInfo       `json:"session"`
	Participants []ParticipantInfo `json:"participants"`
}

type sdpMsg struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

type candidateMsg struct {
	Type      string                  `json:"type"`
	PC        sfu.Direction           `json:"pc"`
	Candidate webrtc.ICECandidateInit `json:"candidate"`
}

type participantMsg struct {
	Type        string          `json:"type"`
	Participant ParticipantInfo `json:"participant"`
}

type leftMsg struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type errorMsg struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
}

// redirectMsg sends the client to the node that hosts its room; the
// server closes the connection after it.
type redirectMsg struct {
	Type  string `json:"type"`
	Code  string `json:"code"`
	URL   string `json:"url"`    // the node's public URL: POST <url>/api/v1/join there
	WSURL string `json:"ws_url"` // its websocket
}

type byeMsg struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}
