package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/settlement"
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

// Resume takes up, on a new websocket, the signaling session of a client
// whose connection dropped (docs/protocol.md, "Reconnecting"): Token is
// the resume token of its last joined or resumed.
type Resume struct {
	Version int    `json:"version"`
	Token   string `json:"token"`
}

// IceRestart asks for an ICE restart of the subscribe connection (the
// client restarts the publish connection itself).
type IceRestart struct{}

// Publish carries the offer of the publish connection.
type Publish struct {
	SDP string `json:"sdp"`
	// Screen is the mid of the offer's screen-share video track; ""
	// when the sender shares no screen.
	Screen string `json:"screen"`
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

// Chat is a chat message to everyone in the call.
type Chat struct {
	Text string `json:"text"`
}

// Hand raises or lowers the sender's hand.
type Hand struct {
	Raised bool `json:"raised"`
}

// Admit lets a waiting participant (or all) into the call (host).
type Admit struct {
	ID  string `json:"id"`
	All bool   `json:"all"`
}

// Reject turns a waiting participant away (host).
type Reject struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// Notice is a host's message to a waiting participant.
type Notice struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Lock locks or unlocks the room (host).
type Lock struct {
	Locked bool `json:"locked"`
}

// Mute turns off a participant's microphone or camera (host).
type Mute struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // audio or video
}

// Remove removes a participant from the call (host).
type Remove struct {
	ID string `json:"id"`
}

// EndSession ends the session for everyone (host). InPerson says the act
// cannot be completed remotely: the parties must come in person; Reason
// says why.
type EndSession struct {
	InPerson bool   `json:"in_person"`
	Reason   string `json:"reason"`
}

// RecordingPause pauses the recording for everyone, with the reason (host).
type RecordingPause struct {
	Reason string `json:"reason"`
}

// RecordingResume resumes the recording (host).
type RecordingResume struct{}

// RequestView asks a participant to show the whole room with their
// camera (host).
type RequestView struct {
	ID string `json:"id"`
}

// Type implements Message.
func (RecordingPause) Type() string { return "recording_pause" }

// Type implements Message.
func (RecordingResume) Type() string { return "recording_resume" }

// Type implements Message.
func (RequestView) Type() string { return "request_view" }

// CaucusOpen opens a private room with some participants (host); the host
// goes in with them.
type CaucusOpen struct {
	Members []string `json:"members"`
	Record  bool     `json:"record"`
}

// CaucusJoin moves the host to a private room, or to the joint room ("").
type CaucusJoin struct {
	Room string `json:"room"`
}

// CaucusClose brings everyone in a private room (or in all) back to the
// joint room (host).
type CaucusClose struct {
	Room string `json:"room"`
	All  bool   `json:"all"`
}

// Type implements Message.
func (CaucusOpen) Type() string { return "caucus_open" }

// Type implements Message.
func (CaucusJoin) Type() string { return "caucus_join" }

// Type implements Message.
func (CaucusClose) Type() string { return "caucus_close" }

// Type implements Message.
func (Join) Type() string { return "join" }

// Type implements Message.
func (Chat) Type() string { return "chat" }

// Type implements Message.
func (Hand) Type() string { return "hand" }

// Type implements Message.
func (Admit) Type() string { return "admit" }

// Type implements Message.
func (Reject) Type() string { return "reject" }

// Type implements Message.
func (Notice) Type() string { return "notice" }

// Type implements Message.
func (Lock) Type() string { return "lock" }

// Type implements Message.
func (Mute) Type() string { return "mute" }

// Type implements Message.
func (Remove) Type() string { return "remove" }

// Type implements Message.
func (EndSession) Type() string { return "end_session" }

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

// Type implements Message.
func (Resume) Type() string { return "resume" }

// Type implements Message.
func (IceRestart) Type() string { return "ice_restart" }

// maxSDP bounds an SDP blob; real ones are a few KiB.
const maxSDP = 48 << 10

// decoders maps each type to its decoder: one small function per message.
var decoders = map[string]func([]byte) (Message, error){
	"join":             decodeJoin,
	"resume":           decodeResume,
	"ice_restart":      func([]byte) (Message, error) { return IceRestart{}, nil },
	"publish":          decodePublish,
	"answer":           decodeAnswer,
	"candidate":        decodeCandidate,
	"state":            decodeState,
	"leave":            func([]byte) (Message, error) { return Leave{}, nil },
	"chat":             decodeChat,
	"hand":             decodeInto[Hand],
	"admit":            decodeAdmit,
	"reject":           decodeReject,
	"notice":           decodeNotice,
	"lock":             decodeInto[Lock],
	"mute":             decodeMute,
	"remove":           decodeRemove,
	"end_session":      decodeEndSession,
	"recording_pause":  decodeRecordingPause,
	"recording_resume": func([]byte) (Message, error) { return RecordingResume{}, nil },
	"request_view":     decodeRequestView,
	"caucus_open":      decodeCaucusOpen,
	"caucus_join":      decodeInto[CaucusJoin],
	"caucus_close":     decodeCaucusClose,
	// settlement.go
	"settlement_template": decodeSettlementTemplate,
	"settlement_draft":    decodeSettlementDraft,
	"settlement_share":    decodeSettlementShare,
	"settlement_sign":     decodeSettlementSign,
	"settlement_confirm":  decodeSettlementConfirm,
	"settlement_finalize": decodeSettlementFinalize,
	"script_step":         decodeScriptStep,
	"document_show":       decodeDocumentID[DocumentShow],
	"document_sign":       decodeDocumentID[DocumentSign],
}

func decodeEndSession(data []byte) (Message, error) {
	var m EndSession
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, checkText("reason", m.Reason, maxNotice, true)
}

func decodeRecordingPause(data []byte) (Message, error) {
	var m RecordingPause
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, checkText("reason", m.Reason, maxNotice, false)
}

func decodeRequestView(data []byte) (Message, error) {
	var m RequestView
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.ID == "" {
		return nil, fmt.Errorf("id is required")
	}
	return m, nil
}

func decodeCaucusOpen(data []byte) (Message, error) {
	var m CaucusOpen
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if len(m.Members) == 0 || len(m.Members) > 16 {
		return nil, fmt.Errorf("members must list 1 to 16 participants")
	}
	return m, nil
}

func decodeCaucusClose(data []byte) (Message, error) {
	var m CaucusClose
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if (m.Room == "") == !m.All {
		return nil, fmt.Errorf("room or all (but not both) is required")
	}
	return m, nil
}

// Limits of the texts people type.
const (
	maxChat   = 2000 // characters of a chat message
	maxNotice = 500  // characters of a host's notice or rejection message
)

// decodeInto decodes a message without further checks.
func decodeInto[M Message](data []byte) (Message, error) {
	var m M
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkText checks a typed text: required unless optional, at most max
// characters, valid UTF-8.
func checkText(field, text string, max int, optional bool) error {
	switch n := utf8.RuneCountInString(text); {
	case !utf8.ValidString(text):
		return fmt.Errorf("%s is not valid UTF-8", field)
	case strings.TrimSpace(text) == "" && !optional:
		return fmt.Errorf("%s is required", field)
	case n > max:
		return fmt.Errorf("%s is longer than %d characters", field, max)
	}
	return nil
}

func decodeChat(data []byte) (Message, error) {
	var m Chat
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, checkText("text", m.Text, maxChat, false)
}

func decodeAdmit(data []byte) (Message, error) {
	var m Admit
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if (m.ID == "") == !m.All {
		return nil, fmt.Errorf("id or all (but not both) is required")
	}
	return m, nil
}

func decodeReject(data []byte) (Message, error) {
	var m Reject
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.ID == "" {
		return nil, fmt.Errorf("id is required")
	}
	return m, checkText("message", m.Message, maxNotice, true)
}

func decodeNotice(data []byte) (Message, error) {
	var m Notice
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.ID == "" {
		return nil, fmt.Errorf("id is required")
	}
	return m, checkText("text", m.Text, maxNotice, false)
}

func decodeMute(data []byte) (Message, error) {
	var m Mute
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.ID == "" {
		return nil, fmt.Errorf("id is required")
	}
	if m.Kind != "audio" && m.Kind != "video" {
		return nil, fmt.Errorf(`kind must be "audio" or "video"`)
	}
	return m, nil
}

func decodeRemove(data []byte) (Message, error) {
	var m Remove
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.ID == "" {
		return nil, fmt.Errorf("id is required")
	}
	return m, nil
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

func decodeResume(data []byte) (Message, error) {
	var m Resume
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Token == "" {
		return nil, fmt.Errorf("token is required")
	}
	if len(m.Token) > 128 {
		return nil, fmt.Errorf("token is too long")
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
	return m.SDP, checkSDP(m.SDP)
}

// checkSDP checks the size of an SDP blob.
func checkSDP(sdp string) error {
	if sdp == "" {
		return fmt.Errorf("sdp is required")
	}
	if len(sdp) > maxSDP {
		return fmt.Errorf("sdp is longer than %d bytes", maxSDP)
	}
	return nil
}

// maxMid bounds a media id; browsers number them 0, 1, 2, …
const maxMid = 32

func decodePublish(data []byte) (Message, error) {
	var m Publish
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if err := checkSDP(m.SDP); err != nil {
		return nil, err
	}
	if len(m.Screen) > maxMid || strings.ContainsFunc(m.Screen, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return nil, fmt.Errorf("screen must be the mid of a track of the offer (at most %d printable ASCII characters, no spaces)", maxMid)
	}
	return m, nil
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
	Hand  bool   `json:"hand"`
	Host  bool   `json:"host"`
	// Screen is true while the participant shares their screen.
	Screen bool `json:"screen"`
	// Room is the private room the participant is in, "" for the joint
	// room.
	Room string `json:"room"`
	// InterpretsFor is the party an interpreter interprets for.
	InterpretsFor string `json:"interprets_for,omitempty"`
	// Reconnecting: the participant's connection dropped a moment ago
	// and the server keeps their place while they come back.
	Reconnecting bool `json:"reconnecting,omitempty"`
	// Reason is why a participant waits (in `lobby` only).
	Reason string `json:"reason,omitempty"`
}

// SessionInfo describes the session in `joined`.
type SessionInfo struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Record      bool   `json:"record"`
	WaitingRoom bool   `json:"waiting_room"`
}

// RoomInfo is the room's state that hosts change.
type RoomInfo struct {
	Locked bool `json:"locked"`
}

type joinedMsg struct {
	Type         string            `json:"type"`
	Self         ParticipantInfo   `json:"self"`
	Session      SessionInfo       `json:"session"`
	Participants []ParticipantInfo `json:"participants"`
	Admitted     bool              `json:"admitted"`
	Room         RoomInfo          `json:"room"`
	Chat         []ChatMsg         `json:"chat"`
	Rooms        []PrivateRoom     `json:"rooms"`
	// Recording says whether the recording is paused now (and why).
	Recording RecordingState `json:"recording"`
	// Resume lets the client take this signaling session up again on a
	// new websocket after a drop (resume); nil when the server keeps no
	// place for dropped clients.
	Resume *ResumeInfo `json:"resume,omitempty"`
	// Call is the participant's call token for the HTTP routes of the
	// call page (docs/api.md, "Call routes"); nil when the server hands
	// none out.
	Call *CallInfo `json:"call,omitempty"`
	// Settlement is the settlement agreement shared in the session, if
	// any (settlement.go).
	Settlement *settlement.View `json:"settlement,omitempty"`
	// Script and Documents are the notary's script and the documents
	// presented, in a session of a notarization case (notary.go).
	Script    *ScriptState   `json:"script,omitempty"`
	Documents []DocumentInfo `json:"documents,omitempty"`
}

// CallInfo is a call token and when it expires. Every joined and resumed
// carries a fresh one.
type CallInfo struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ResumeInfo is what a client needs to resume: a secret token, single use
// (each resumed carries the next), and how long the server keeps the
// place of a client whose connection dropped.
type ResumeInfo struct {
	Token  string `json:"token"`
	Window int    `json:"window"` // seconds
}

// RecordingState is whether a recorded session's recording is paused.
type RecordingState struct {
	Paused bool   `json:"paused"`
	Reason string `json:"reason,omitempty"`
}

// Waiting reasons (docs/protocol.md).
const (
	WaitWaitingRoom = "waiting_room" // the session has a waiting room: a host admits
	WaitLocked      = "locked"       // the room is locked: a host admits
	WaitHostAbsent  = "host_absent"  // no host in the call: back in when one returns
	WaitRemoved     = "removed"      // a host removed them: a host admits
)

type waitingMsg struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

type admittedMsg struct {
	Type         string            `json:"type"`
	Participants []ParticipantInfo `json:"participants"`
	Chat         []ChatMsg         `json:"chat"`
	Rooms        []PrivateRoom     `json:"rooms"`
	Recording    RecordingState    `json:"recording"`
	Settlement   *settlement.View  `json:"settlement,omitempty"`
	Script       *ScriptState      `json:"script,omitempty"`
	Documents    []DocumentInfo    `json:"documents,omitempty"`
}

type lobbyMsg struct {
	Type    string            `json:"type"`
	Waiting []ParticipantInfo `json:"waiting"`
}

type roomMsg struct {
	Type   string `json:"type"`
	Locked bool   `json:"locked"`
}

type noticeMsg struct {
	Type string          `json:"type"`
	From ParticipantInfo `json:"from"`
	Text string          `json:"text"`
}

// PrivateRoom describes a private room (caucus) to everyone.
type PrivateRoom struct {
	ID      string   `json:"id"`
	Record  bool     `json:"record"`
	Members []string `json:"members"`
}

type roomsMsg struct {
	Type  string        `json:"type"`
	Rooms []PrivateRoom `json:"rooms"`
}

// recordingMsg tells everyone whether the recording is paused, and why.
type recordingMsg struct {
	Type   string `json:"type"`
	Paused bool   `json:"paused"`
	Reason string `json:"reason,omitempty"`
	By     string `json:"by"`
}

type viewRequestedMsg struct {
	Type string `json:"type"`
	By   string `json:"by"`
}

type mutedMsg struct {
	Type string `json:"type"`
	Kind string `json:"kind"`
	By   string `json:"by"`
}

// ChatMsg is one chat message as clients see it.
type ChatMsg struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	From string    `json:"from"`
	Name string    `json:"name"`
	Role string    `json:"role"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
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
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
}
