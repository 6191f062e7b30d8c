package recorder

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Segment describes one closed segment file: the metadata the uploader and
// the session manifest need. It is also the sidecar written next to the
// file.
type Segment struct {
	SessionID     string `json:"session_id"`
	ParticipantID string `json:"participant_id"`
	// Stream is which of the participant's media the segment holds: ""
	// for their camera and microphone, StreamScreen for their screen
	// share.
	Stream string `json:"stream,omitempty"`
	// Room is the private room the participant was in while the segment
	// was recorded, "" for the joint room: what is said in a recorded
	// private room is sealed to the session's mediator. A participant's
	// segments are cut where they enter and leave a private room.
	Room string `json:"room,omitempty"`
	// Index numbers a participant's segments 0, 1, 2, ... for the whole
	// session, across leaving and joining again, in one sequence across
	// their streams (so that a participant's index says which segment
	// it is, whatever its stream).
	Index int `json:"index"`
	// Path is the closed file in the spool.
	Path string `json:"path"`
	// Key is the object key: sessions/<sid>/<pid>/<index, 6 digits>.<ext>
	// for the camera, sessions/<sid>/<pid>/screen/<index>.<ext> for the
	// screen share.
	Key         string `json:"key"`
	ContentType string `json:"content_type"` // video/webm or video/x-matroska
	Bytes       int64  `json:"bytes"`
	SHA256      []byte `json:"sha256"` // of the whole file as closed
	// WallStart is the wall-clock time of the file's time 0; WallEnd that
	// of its end. All participants share the clock.
	WallStart time.Time `json:"wall_start"`
	WallEnd   time.Time `json:"wall_end"`
	// MediaStart and MediaEnd are measured from the participant's first
	// media in the session.
	MediaStart time.Duration `json:"media_start_ns"`
	MediaEnd   time.Duration `json:"media_end_ns"`
	Codecs     []string      `json:"codecs"`
	Width      int           `json:"width,omitempty"`
	Height     int           `json:"height,omitempty"`
	Gaps       []Gap         `json:"gaps,omitempty"`
	// Speaking lists when the participant spoke, in time order, within
	// WallStart and WallEnd: from the audio level the sender measured
	// (see speaking.go), not from the recorded audio.
	Speaking []Interval `json:"speaking,omitempty"`
	// Recovered marks a segment closed by Recover after a crash: its end
	// was lost and its gaps are unknown.
	Recovered bool `json:"recovered,omitempty"`
}

// StreamScreen is the stream of a participant's screen share: its
// segments are a recording of their own, beside the camera's.
const StreamScreen = "screen"

// Gap is a stretch of a segment where media is missing.
type Gap struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Reason  string    `json:"reason"`
	Packets int       `json:"packets,omitempty"`
}

// Gap reasons.
const (
	// GapPacketLoss: packets lost before the SFU and never recovered.
	GapPacketLoss = "packet_loss"
	// GapNoKeyframe: video could not start or resume for want of a
	// keyframe.
	GapNoKeyframe = "no_keyframe"
	// GapQueueOverflow: the recorder fell behind and the SFU dropped
	// packets.
	GapQueueOverflow = "queue_overflow"
	// GapDisconnect: a track ended while the segment went on.
	GapDisconnect = "disconnect"
	// GapWriteError: the spool could not be written.
	GapWriteError = "write_error"
)

// Spool file name suffixes.
const (
	partSuffix    = ".part"      // a media file being written
	openSuffix    = ".open.json" // metadata of a segment being written
	sidecarSuffix = ".json"      // metadata of a closed segment
	damagedSuffix = ".damaged"   // a segment recovery could not read, kept aside
)

// format is a container: WebM, or Matroska for codecs WebM lacks.
type format struct {
	ext, contentType, docType string
}

var (
	formatWebM = format{".webm", "video/webm", "webm"}
	formatMKV  = format{".mkv", "video/x-matroska", "matroska"}
)

// safeNameRE matches ids usable as they are in paths and keys.
var safeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// safeName makes an id safe as a path element and object key part: other
// ids are hex-encoded behind "x-".
func safeName(id string) string {
	if safeNameRE.MatchString(id) && !strings.Contains(id, "..") && !strings.HasPrefix(id, "x-") {
		return id
	}
	return "x-" + hex.EncodeToString([]byte(id))
}

// segmentBase is the spool path of segment index of a participant's
// stream, without extension: a stream other than the camera's ("") is a
// directory inside the participant's.
func segmentBase(spool, session, participant, stream string, index int) string {
	return filepath.Join(spool, safeName(session), safeName(participant), stream, fmt.Sprintf("%06d", index))
}

// segmentKey is the object key of a segment, laid out as segmentBase.
func segmentKey(session, participant, stream string, index int, f format) string {
	if stream != "" {
		stream += "/"
	}
	return fmt.Sprintf("sessions/%s/%s/%s%06d%s", safeName(session), safeName(participant), stream, index, f.ext)
}

// Renumbered is s under another index: the same file, stored under the
// key of that index. The uploader renumbers a segment whose index another
// node used meanwhile (it took the recording over while this node was
// down, and numbered on from what was stored).
func (s Segment) Renumbered(index int) Segment {
	s.Index = index
	s.Key = fmt.Sprintf("%s/%06d%s", path.Dir(s.Key), index, path.Ext(s.Key))
	return s
}

// writeJSON writes v to path durably: a temporary file, synced, renamed.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("recorder: encode %s: %w", filepath.Base(path), err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("recorder: write %s: %w", filepath.Base(path), err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("recorder: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// readSegment reads a sidecar or open-metadata file.
func readSegment(path string) (Segment, error) {
	var s Segment
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("recorder: read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("recorder: decode %s: %w", path, err)
	}
	return s, nil
}

// nextSpoolIndex returns one more than the highest segment index in the
// spool directory dir (0 when there is none).
func nextSpoolIndex(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	next := 0
	for _, e := range entries {
		name, _, _ := strings.Cut(e.Name(), ".")
		if i, err := strconv.Atoi(name); err == nil && i >= next {
			next = i + 1
		}
	}
	return next
}

// addGap appends g to gaps, merging it into the last gap of the same
// reason when they touch (within a second).
func addGap(gaps []Gap, g Gap) []Gap {
	for i := len(gaps) - 1; i >= 0; i-- {
		last := &gaps[i]
		if last.Reason != g.Reason {
			continue
		}
		if !g.From.After(last.To.Add(time.Second)) {
			if g.To.After(last.To) {
				last.To = g.To
			}
			last.Packets += g.Packets
			return gaps
		}
		break
	}
	return append(gaps, g)
}
