package evidence

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Format is the manifest format this package writes and reads.
const Format = "kuayang-manifest/1"

// Event kinds.
const (
	EventRecordingStart   = "recording.start"
	EventRecordingStop    = "recording.stop"
	EventRecordingPause   = "recording.pause"
	EventRecordingResume  = "recording.resume"
	EventRecordingFailure = "recording.failure"
	EventSessionEnd       = "session.end"
	// EventRecordingRecovered: a node that stopped recording the session
	// (it failed, or another node took the room over) stored what its
	// spool still held of it.
	EventRecordingRecovered = "recording.recovered"
)

// Gap reasons: why media is missing while a participant was present.
const (
	GapLoss          = "loss"           // packets lost beyond repair
	GapDisconnect    = "disconnect"     // the participant's connection dropped
	GapNodeFailure   = "node_failure"   // the recording node failed
	GapUploadFailure = "upload_failure" // a segment was recorded but never stored
	GapPrivateRoom   = "private_room"   // in a private room (caucus) that is not recorded
	GapPaused        = "paused"         // the host paused the recording (the reason is in the events)
)

// Time is a moment in a manifest. It is encoded in UTC with exactly six
// fractional digits ("2026-11-27T08:00:00.123456Z", the layout of the audit
// log's hash), so that an encoded manifest decodes and encodes to the same
// bytes. The zero Time encodes as null; optional times are omitted when
// zero.
type Time struct{ time.Time }

// timeLayout is the one form a Time takes in JSON.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// At converts t to a manifest Time: UTC, truncated to the microsecond.
func At(t time.Time) Time {
	if t.IsZero() {
		return Time{}
	}
	return Time{t.UTC().Truncate(time.Microsecond)}
}

// AtPtr is At for an optional time: the zero Time for nil.
func AtPtr(t *time.Time) Time {
	if t == nil {
		return Time{}
	}
	return At(*t)
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	u := t.UTC()
	if y := u.Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("evidence: time %v outside years 1 to 9999", u)
	}
	return []byte(`"` + u.Format(timeLayout) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler. It accepts only the form
// MarshalJSON writes.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	s, ok := strings.CutPrefix(string(b), `"`)
	if ok {
		s, ok = strings.CutSuffix(s, `"`)
	}
	if !ok {
		return fmt.Errorf("evidence: time %s is not a string", b)
	}
	u, err := time.Parse(timeLayout, s)
	if err != nil || u.Format(timeLayout) != s {
		return fmt.Errorf("evidence: time %q is not in the form %s", s, timeLayout)
	}
	*t = Time{u}
	return nil
}

// Manifest describes a sealed recording. The node signs its canonical
// encoding (Encode); see the package documentation.
type Manifest struct {
	Format       string        `json:"format"`   // Format
	Software     string        `json:"software"` // "kuayang <version>"
	Node         string        `json:"node"`     // the sealing node's id
	KeyID        string        `json:"key_id"`   // the signing key's id (KeyID)
	SealedAt     Time          `json:"sealed_at"`
	Org          Org           `json:"organization"`
	Case         Case          `json:"case"`
	Session      Session       `json:"session"`
	Participants []Participant `json:"participants"` // by ID
	Segments     []Segment     `json:"segments"`     // in chain order: see Chain
	Gaps         []Gap         `json:"gaps"`         // by time
	Events       []Event       `json:"events"`       // by time
	// Documents are the files presented or produced in the session (a
	// document under notarization as shown, a signed settlement), by time
	// then id. Omitted when empty, so manifests sealed before they existed
	// encode and verify as signed.
	Documents []Document `json:"documents,omitempty"`
	Audit     AuditRef   `json:"audit"`
	ChainHead string     `json:"chain_head"` // hex; see Chain
}

// Org is the organization that held the session.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Case is the case the session belongs to.
type Case struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	Title  string `json:"title"`
	Kind   string `json:"kind"`
}

// Session is the recorded session.
type Session struct {
	ID             string `json:"id"`
	Title          string `json:"title"`
	TimeZone       string `json:"time_zone"` // IANA, e.g. Asia/Shanghai
	ScheduledStart Time   `json:"scheduled_start,omitzero"`
	StartedAt      Time   `json:"started_at,omitzero"`
	EndedAt        Time   `json:"ended_at,omitzero"`
	Record         bool   `json:"record"`
}

// Participant is one person's place in the session.
type Participant struct {
	ID        string     `json:"id"`
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Language  string     `json:"language"`
	ConsentAt Time       `json:"consent_at,omitzero"` // consent to the procedure and recording
	Identity  *Identity  `json:"identity,omitempty"`
	Presence  []Presence `json:"presence"` // by JoinedAt
}

// Identity is how a participant's identity was checked. The fields after
// VerifiedAt are omitted when empty, so that manifests sealed before they
// existed still decode and verify.
type Identity struct {
	Method     string `json:"method"` // "manual", or the face-verification provider consulted
	Result     string `json:"result"` // verified or rejected: the presider's decision
	VerifiedBy string `json:"verified_by"`
	VerifiedAt Time   `json:"verified_at,omitzero"`
	Reason     string `json:"reason,omitempty"`
	// DocumentType is passport or id_card.
	DocumentType string `json:"document_type,omitempty"`
	// DocumentNumber is masked (last 3 characters shown) unless the
	// organization keeps raw numbers.
	DocumentNumber string `json:"document_number,omitempty"`
	Nationality    string `json:"nationality,omitempty"`
	// ProviderResult, ProviderScore and ProviderReference are the
	// provider's advice (match, no_match, pending, error).
	ProviderResult    string   `json:"provider_result,omitempty"`
	ProviderScore     *float64 `json:"provider_score,omitempty"`
	ProviderReference string   `json:"provider_reference,omitempty"`
	// Images are the SHA-256 (hex) of the images the presider saw, in
	// upload order: the images are kept apart, encrypted, for a limited
	// time; their hashes stay in the manifest.
	Images []IdentityImage `json:"images,omitempty"`
}

// IdentityImage is the hash of one identity image.
type IdentityImage struct {
	Kind   string `json:"kind"` // document_front, document_back or face
	Prompt string `json:"prompt,omitempty"`
	SHA256 string `json:"sha256"`
}

// Presence is one stretch of time a participant was connected.
type Presence struct {
	JoinedAt Time   `json:"joined_at"`
	LeftAt   Time   `json:"left_at,omitzero"` // zero if never seen leaving
	IP       string `json:"ip"`
}

// Streams of a participant's media besides their camera and microphone.
const (
	// StreamScreen is a participant's screen share (a document shown to
	// everyone), recorded as segments of its own.
	StreamScreen = "screen"
)

// Segment is one stored media file: one participant, about 30 seconds.
type Segment struct {
	ParticipantID string `json:"participant_id"`
	// Stream is which of the participant's media the segment holds: ""
	// (omitted) for their camera and microphone, StreamScreen for their
	// screen share. Omitted when empty, so manifests sealed before
	// screen shares were recorded encode, chain and verify as signed.
	Stream string `json:"stream,omitempty"`
	// Room is the private room (caucus) the participant was in while the
	// segment was recorded, "" (omitted) for the joint room: what is said
	// in a recorded private room is sealed to the session's mediator,
	// and a bundle exported for anyone else leaves the segment's media
	// out (its entry, hash and chain stay). Omitted when empty, so
	// manifests sealed before it existed encode, chain and verify as
	// signed.
	Room string `json:"room,omitempty"`
	// Index numbers a participant's segments 0, 1, 2, … in one sequence
	// across their streams.
	Index       int      `json:"index"`
	Key         string   `json:"key"` // object key; media/<key> in a bundle
	Bytes       int64    `json:"bytes"`
	SHA256      string   `json:"sha256"` // hex
	WallStart   Time     `json:"wall_start"`
	WallEnd     Time     `json:"wall_end"`
	MediaStart  float64  `json:"media_start"` // seconds from the first media of the participant's stream
	MediaEnd    float64  `json:"media_end"`
	Codecs      []string `json:"codecs"`
	Width       int      `json:"width"`
	Height      int      `json:"height"`
	ContentType string   `json:"content_type"`
	// Speaking lists when the participant spoke within the segment, by
	// time, inside WallStart to WallEnd and not overlapping: from the
	// audio level their device measured and sent with the audio (RFC
	// 6464). It is omitted when empty, so manifests sealed before it
	// existed encode, chain and verify as they were signed.
	Speaking []Interval `json:"speaking,omitempty"`
	Chain    string     `json:"chain"` // hex; see Chain
}

// Interval is a stretch of time.
type Interval struct {
	From Time `json:"from"`
	To   Time `json:"to"`
}

// Gap is a stretch of time a participant was present but their media is
// missing.
type Gap struct {
	ParticipantID string `json:"participant_id"`
	// Stream is the stream the media is missing from: "" (omitted) for
	// the camera and microphone, StreamScreen for packets lost inside a
	// screen share's segment. A screen share that stops is no gap.
	Stream string `json:"stream,omitempty"`
	From   Time   `json:"from"`
	To     Time   `json:"to"`
	Reason string `json:"reason"` // Gap… constants
}

// Event is something that happened to the recording.
type Event struct {
	Time   Time   `json:"time"`
	Kind   string `json:"kind"` // Event… constants
	Detail string `json:"detail"`
}

// Document kinds.
const (
	// DocumentNotarized is a document under notarization, as the notary
	// uploaded it and showed its SHA-256 to everyone in the session.
	DocumentNotarized = "notarized"
	// DocumentSigned is the document presented for signing; Detail says
	// whether it matches the one shown.
	DocumentSigned = "signed"
	// DocumentSettlement is a settlement agreement signed in the session,
	// as the PDF the server made and signed.
	DocumentSettlement = "settlement"
	// DocumentJournal is a notary's journal entry on the session.
	DocumentJournal = "journal"
)

// Document is a file presented or produced in a session. In a bundle it
// is documents/<Name>; its object is Key in the store.
type Document struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"` // Document… constants
	Name        string `json:"name"` // file name, unique in the manifest
	Key         string `json:"key"`  // object key
	ContentType string `json:"content_type"`
	Bytes       int64  `json:"bytes"`
	SHA256      string `json:"sha256"`       // hex
	At          Time   `json:"at"`           // when it was shown or made
	By          string `json:"by,omitempty"` // participant or account id
	// Detail says more in a line, e.g. that a document presented for
	// signing differs from the one shown.
	Detail string `json:"detail,omitempty"`
	// Timestamp is the object key of an RFC 3161 timestamp token over
	// SHA256, when one was obtained; in a bundle documents/<Name>.tsr.
	Timestamp string `json:"timestamp,omitempty"`
}

// AuditRef ties the manifest to the audit log: the extract shipped in a
// bundle (audit.jsonl) and the state of the whole log at sealing. Fill it
// with NewAuditRef.
type AuditRef struct {
	Entries  int    `json:"entries"`   // entries in the extract
	LastSeq  int64  `json:"last_seq"`  // the whole log's last entry at sealing
	LastHash string `json:"last_hash"` // its hash, hex; "" for an empty log
	SHA256   string `json:"sha256"`    // of the extract as encoded by EncodeAudit
}

// Encode puts m in canonical form and returns the bytes to sign and store
// as manifest.json. It sets Format if empty, normalizes every time to UTC
// microseconds, sorts participants by id, presence by time, segments by
// wall-clock start then participant then index, gaps and events by time;
// computes the segment chain (Chain) and ChainHead; checks that m is
// complete and consistent; and encodes it as JSON indented by two spaces,
// without HTML escaping, with a final newline.
//
// Encoding a decoded manifest gives the same bytes.
func (m *Manifest) Encode() ([]byte, error) {
	if m.Format == "" {
		m.Format = Format
	}
	m.normalize()
	head, err := Chain(m.Segments)
	if err != nil {
		return nil, err
	}
	m.ChainHead = head
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m.marshal()
}

// marshal encodes m as it is.
func (m *Manifest) marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("evidence: encode manifest: %w", err)
	}
	return b.Bytes(), nil
}

// DecodeManifest decodes manifest.json strictly: no unknown fields, no
// trailing data, times in their one form. It does not check the content;
// Verify does.
func DecodeManifest(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("evidence: decode manifest: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("evidence: decode manifest: data after the manifest")
	}
	return &m, nil
}

// normalize converts times and sorts; it leaves the chain alone.
func (m *Manifest) normalize() {
	norm := func(t *Time) { *t = At(t.Time) }
	norm(&m.SealedAt)
	norm(&m.Session.ScheduledStart)
	norm(&m.Session.StartedAt)
	norm(&m.Session.EndedAt)
	m.Participants = nonNil(m.Participants)
	for i := range m.Participants {
		p := &m.Participants[i]
		norm(&p.ConsentAt)
		if p.Identity != nil {
			norm(&p.Identity.VerifiedAt)
		}
		p.Presence = nonNil(p.Presence)
		for j := range p.Presence {
			norm(&p.Presence[j].JoinedAt)
			norm(&p.Presence[j].LeftAt)
		}
		slices.SortStableFunc(p.Presence, func(a, b Presence) int {
			return cmp.Or(a.JoinedAt.Compare(b.JoinedAt.Time), a.LeftAt.Compare(b.LeftAt.Time), cmp.Compare(a.IP, b.IP))
		})
	}
	slices.SortStableFunc(m.Participants, func(a, b Participant) int { return cmp.Compare(a.ID, b.ID) })
	m.Segments = nonNil(m.Segments)
	for i := range m.Segments {
		s := &m.Segments[i]
		norm(&s.WallStart)
		norm(&s.WallEnd)
		s.Codecs = nonNil(s.Codecs)
		for j := range s.Speaking {
			norm(&s.Speaking[j].From)
			norm(&s.Speaking[j].To)
		}
		slices.SortStableFunc(s.Speaking, func(a, b Interval) int {
			return cmp.Or(a.From.Compare(b.From.Time), a.To.Compare(b.To.Time))
		})
	}
	slices.SortStableFunc(m.Segments, compareSegments)
	m.Gaps = nonNil(m.Gaps)
	for i := range m.Gaps {
		norm(&m.Gaps[i].From)
		norm(&m.Gaps[i].To)
	}
	slices.SortStableFunc(m.Gaps, func(a, b Gap) int {
		return cmp.Or(a.From.Compare(b.From.Time), cmp.Compare(a.ParticipantID, b.ParticipantID),
			a.To.Compare(b.To.Time), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Stream, b.Stream))
	})
	m.Events = nonNil(m.Events)
	for i := range m.Events {
		norm(&m.Events[i].Time)
	}
	slices.SortStableFunc(m.Events, func(a, b Event) int {
		return cmp.Or(a.Time.Compare(b.Time.Time), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Detail, b.Detail))
	})
	for i := range m.Documents {
		norm(&m.Documents[i].At)
	}
	slices.SortStableFunc(m.Documents, func(a, b Document) int {
		return cmp.Or(a.At.Compare(b.At.Time), cmp.Compare(a.ID, b.ID))
	})
	if len(m.Documents) == 0 {
		m.Documents = nil
	}
}

// compareSegments orders segments in chain order.
func compareSegments(a, b Segment) int {
	return cmp.Or(a.WallStart.Compare(b.WallStart.Time), cmp.Compare(a.ParticipantID, b.ParticipantID), cmp.Compare(a.Index, b.Index))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// validate checks that m is complete and consistent. It does not check
// the chain (CheckChain) or the order of the segments.
func (m *Manifest) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("evidence: invalid manifest: "+format, a...)
	}
	switch {
	case m.Format != Format:
		return bad("format %q, want %q", m.Format, Format)
	case m.KeyID == "":
		return bad("no key_id")
	case m.Node == "":
		return bad("no node")
	case m.SealedAt.IsZero():
		return bad("no sealed_at")
	case m.Session.ID == "":
		return bad("no session id")
	case !isHex(m.ChainHead):
		return bad("chain_head %q is not a SHA-256 in hex", m.ChainHead)
	}
	parts := map[string]bool{}
	for i, p := range m.Participants {
		if p.ID == "" {
			return bad("participant %d has no id", i)
		}
		if parts[p.ID] {
			return bad("participant %s is listed twice", p.ID)
		}
		parts[p.ID] = true
		for _, pr := range p.Presence {
			if pr.JoinedAt.IsZero() || (!pr.LeftAt.IsZero() && pr.LeftAt.Before(pr.JoinedAt.Time)) {
				return bad("participant %s: presence from %v to %v", p.ID, pr.JoinedAt, pr.LeftAt)
			}
		}
	}
	keys := map[string]bool{}
	type pidIndex struct {
		pid   string
		index int
	}
	indexes := map[pidIndex]bool{}
	for i, s := range m.Segments {
		at := fmt.Sprintf("segment entry %d (%s)", i, s.Key)
		switch {
		case !parts[s.ParticipantID]:
			return bad("%s: participant %q is not listed", at, s.ParticipantID)
		case !knownStream(s.Stream):
			return bad("%s: unknown stream %q", at, s.Stream)
		case s.Room != "" && !roomRE.MatchString(s.Room):
			return bad("%s: room %q is not a private room's id", at, s.Room)
		case s.Index < 0:
			return bad("%s: negative index", at)
		case indexes[pidIndex{s.ParticipantID, s.Index}]:
			return bad("%s: participant %s has two segments with index %d", at, s.ParticipantID, s.Index)
		case checkKey(s.Key) != nil:
			return bad("%s: %v", at, checkKey(s.Key))
		case keys[s.Key]:
			return bad("%s: key listed twice", at)
		case s.Bytes < 0:
			return bad("%s: negative size", at)
		case !isHex(s.SHA256):
			return bad("%s: sha256 %q is not a SHA-256 in hex", at, s.SHA256)
		case s.WallStart.IsZero() || s.WallEnd.IsZero() || s.WallEnd.Before(s.WallStart.Time):
			return bad("%s: wall clock from %v to %v", at, s.WallStart, s.WallEnd)
		case !finite(s.MediaStart) || !finite(s.MediaEnd) || s.MediaStart < 0 || s.MediaEnd < s.MediaStart:
			return bad("%s: media time from %v to %v", at, s.MediaStart, s.MediaEnd)
		case s.Width < 0 || s.Height < 0:
			return bad("%s: negative dimensions", at)
		}
		if err := checkSpeaking(s); err != nil {
			return bad("%s: %v", at, err)
		}
		keys[s.Key] = true
		indexes[pidIndex{s.ParticipantID, s.Index}] = true
	}
	for _, g := range m.Gaps {
		switch {
		case !parts[g.ParticipantID]:
			return bad("gap at %v: participant %q is not listed", g.From, g.ParticipantID)
		case !knownStream(g.Stream):
			return bad("gap of participant %s at %v: unknown stream %q", g.ParticipantID, g.From, g.Stream)
		case g.From.IsZero() || g.To.IsZero() || g.To.Before(g.From.Time):
			return bad("gap of participant %s from %v to %v", g.ParticipantID, g.From, g.To)
		case g.Reason == "":
			return bad("gap of participant %s at %v has no reason", g.ParticipantID, g.From)
		}
	}
	for _, e := range m.Events {
		if e.Time.IsZero() || e.Kind == "" {
			return bad("event %q at %v: no time or kind", e.Kind, e.Time)
		}
	}
	if err := checkDocuments(m.Documents); err != nil {
		return bad("%v", err)
	}
	a := m.Audit
	switch {
	case a.Entries < 0 || a.LastSeq < 0:
		return bad("audit: negative count")
	case a.LastHash != "" && !isHex(a.LastHash), a.LastHash == "" && a.LastSeq != 0:
		return bad("audit: last_hash %q is not a SHA-256 in hex", a.LastHash)
	case !isHex(a.SHA256):
		return bad("audit: sha256 %q is not a SHA-256 in hex (see NewAuditRef)", a.SHA256)
	}
	return nil
}

// docNameRE is what a document's file name may be: no path, nothing a
// file system or a zip reader could take for one.
var docNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// checkDocuments checks the documents of a manifest.
func checkDocuments(docs []Document) error {
	ids, names, keys := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, d := range docs {
		at := fmt.Sprintf("document %d (%s)", i, d.Name)
		switch {
		case d.ID == "" || ids[d.ID]:
			return fmt.Errorf("%s: no id, or an id listed twice", at)
		case d.Kind == "":
			return fmt.Errorf("%s: no kind", at)
		case !docNameRE.MatchString(d.Name) || strings.HasSuffix(d.Name, ".tsr") || names[d.Name]:
			return fmt.Errorf("%s: the name is not a plain file name, or is listed twice", at)
		case checkKey(d.Key) != nil:
			return fmt.Errorf("%s: %v", at, checkKey(d.Key))
		case keys[d.Key]:
			return fmt.Errorf("%s: key listed twice", at)
		case d.Timestamp != "" && checkKey(d.Timestamp) != nil:
			return fmt.Errorf("%s: timestamp: %v", at, checkKey(d.Timestamp))
		case d.Bytes < 0:
			return fmt.Errorf("%s: negative size", at)
		case !isHex(d.SHA256):
			return fmt.Errorf("%s: sha256 %q is not a SHA-256 in hex", at, d.SHA256)
		case d.At.IsZero():
			return fmt.Errorf("%s: no time", at)
		}
		ids[d.ID], names[d.Name], keys[d.Key] = true, true, true
	}
	return nil
}

// roomRE matches a private room's id (signaling names them private-<n>).
var roomRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// knownStream reports whether s names a stream this format knows.
func knownStream(s string) bool { return s == "" || s == StreamScreen }

// checkSpeaking checks that a segment's speaking intervals lie within its
// wall-clock time, in order, without overlapping.
func checkSpeaking(s Segment) error {
	var prev Interval
	for i, iv := range s.Speaking {
		switch {
		case iv.From.IsZero() || iv.To.IsZero() || !iv.To.After(iv.From.Time):
			return fmt.Errorf("speaking interval %d from %v to %v", i, iv.From, iv.To)
		case iv.From.Before(s.WallStart.Time) || iv.To.After(s.WallEnd.Time):
			return fmt.Errorf("speaking interval %d from %v to %v is outside the segment (%v to %v)", i, iv.From, iv.To, s.WallStart, s.WallEnd)
		case i > 0 && iv.From.Before(prev.To.Time):
			return fmt.Errorf("speaking interval %d from %v overlaps the one before, or is out of order", i, iv.From)
		}
		prev = iv
	}
	return nil
}

// checkOrder reports the first segment entry out of chain order.
func checkOrder(segs []Segment) *Problem {
	for i := 1; i < len(segs); i++ {
		if compareSegments(segs[i-1], segs[i]) >= 0 {
			return &Problem{BadManifest, fmt.Sprintf("segment entry %d (%s) is out of order: segments must be listed by start time, then participant, then index", i, segs[i].Key)}
		}
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// isHex reports whether s is a SHA-256 in lower-case hex.
func isHex(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// checkKey checks that an object key is safe as a path under media/: the
// rules of the object store (relative slash-separated printable UTF-8, no
// empty segment, no segment starting with a dot, no backslash).
func checkKey(key string) error {
	if key == "" || len(key) > 512 || !utf8.ValidString(key) || !fs.ValidPath(key) {
		return fmt.Errorf("key %q is not a valid object key", key)
	}
	for _, r := range key {
		if !unicode.IsPrint(r) || r == '\\' {
			return fmt.Errorf("key %q has a non-printable character or backslash", key)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg[0] == '.' {
			return fmt.Errorf("key %q has an empty segment or one starting with a dot", key)
		}
	}
	return nil
}
