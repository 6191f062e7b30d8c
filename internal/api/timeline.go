package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
)

// Sources of a timeline.
const (
	fromManifest = "manifest" // the signed manifest of a sealed recording
	fromRecords  = "records"  // the records and the audit log
)

// timelineView is the answer of GET /api/v1/sessions/{id}/timeline: one
// lane per participant, and the marks of the session.
type timelineView struct {
	SessionID string     `json:"session_id"`
	TimeZone  string     `json:"time_zone"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Source    string     `json:"source"`
	Lanes     []laneView `json:"lanes"`
	Marks     []markView `json:"marks"`
}

// laneView is one participant's presence, recorded segments, gaps and
// when they spoke (from the segments' speaking intervals, joined where a
// segment boundary cut one).
type laneView struct {
	ParticipantID string        `json:"participant_id"`
	Name          string        `json:"name"`
	Role          string        `json:"role"`
	Presence      []spanView    `json:"presence"`
	Segments      []segmentSpan `json:"segments"`
	// Screen are the segments of the participant's screen share: a
	// stream of its own, not part of Segments' coverage.
	Screen   []segmentSpan `json:"screen"`
	Gaps     []gapSpan     `json:"gaps"`
	Speaking []spanView    `json:"speaking"`
}

type spanView struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

type segmentSpan struct {
	Index int       `json:"index"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	// Sealed marks a segment recorded in the private room Room: sealed
	// to the mediator, playable by the session's presider only.
	Sealed bool   `json:"sealed,omitempty"`
	Room   string `json:"room,omitempty"`
}

type gapSpan struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
	Stream string    `json:"stream,omitempty"` // "screen": inside a screen share's segment
}

// markView is a moment of the session: a consent, a join or leave, a
// recording event. ParticipantID is empty for the session's own.
type markView struct {
	Time          time.Time `json:"time"`
	Kind          string    `json:"kind"`
	Label         string    `json:"label"`
	ParticipantID string    `json:"participant_id,omitempty"`
}

// timeline answers GET /api/v1/sessions/{id}/timeline: built from the
// signed manifest once the recording is sealed, else from the records and
// the audit log. Audited as recording.timeline.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	m, source, err := s.timelineManifest(r.Context(), ss)
	if err != nil {
		return err
	}
	end := m.Session.EndedAt.Time
	if end.IsZero() {
		end = s.now().UTC() // still going on
	}
	v := buildTimeline(m, source, end)
	e := p.entry("recording.timeline")
	e.CaseID, e.SessionID, e.Detail = ss.CaseID, ss.ID, detail(map[string]any{"source": source})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, v)
	return nil
}

// timelineManifest is the manifest a timeline is drawn from, and its
// source: the stored one of a sealed recording, else a draft from the
// records, whose open presence stays open unless the session ended.
func (s *Server) timelineManifest(ctx context.Context, ss *cases.Session) (*evidence.Manifest, string, error) {
	rec, err := s.Store.Recording(ctx, ss.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	if err == nil && rec.State == cases.RecordingSealed {
		m, _, err := s.storedManifest(ctx, rec)
		return m, fromManifest, err
	}
	var until time.Time
	if ss.EndedAt != nil {
		until = *ss.EndedAt
	}
	m, err := s.Recordings.Draft(ctx, ss.ID, until)
	return m, fromRecords, err
}

// buildTimeline draws m; presence still open ends at end.
func buildTimeline(m *evidence.Manifest, source string, end time.Time) *timelineView {
	v := &timelineView{SessionID: m.Session.ID, TimeZone: m.Session.TimeZone, Source: source,
		Lanes: []laneView{}, Marks: []markView{}}
	for _, pt := range m.Participants {
		lane, marks := participantLane(m, pt, end)
		v.Lanes = append(v.Lanes, lane)
		v.Marks = append(v.Marks, marks...)
	}
	for _, ev := range m.Events {
		v.Marks = append(v.Marks, markView{Time: ev.Time.Time, Kind: ev.Kind, Label: eventLabel(ev)})
	}
	slices.SortStableFunc(v.Marks, func(a, b markView) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ParticipantID, b.ParticipantID))
	})
	v.Start, v.End = timelineSpan(m, v, end)
	return v
}

// participantLane is the lane of pt and its marks: consent, joins and
// leaves.
func participantLane(m *evidence.Manifest, pt evidence.Participant, end time.Time) (laneView, []markView) {
	lane := laneView{ParticipantID: pt.ID, Name: pt.Name, Role: pt.Role, Presence: []spanView{},
		Segments: []segmentSpan{}, Screen: []segmentSpan{}, Gaps: []gapSpan{}, Speaking: []spanView{}}
	var marks []markView
	mark := func(t evidence.Time, kind, label string) {
		marks = append(marks, markView{Time: t.Time, Kind: kind, Label: pt.Name + " " + label, ParticipantID: pt.ID})
	}
	if !pt.ConsentAt.IsZero() {
		mark(pt.ConsentAt, "consent", "consented to the online procedure and the recording")
	}
	for _, pr := range pt.Presence {
		to := pr.LeftAt.Time
		mark(pr.JoinedAt, "join", "joined")
		if to.IsZero() {
			to = end
		} else {
			mark(pr.LeftAt, "leave", "left")
		}
		lane.Presence = append(lane.Presence, spanView{From: pr.JoinedAt.Time, To: to})
	}
	for _, sg := range m.Segments {
		span := segmentSpan{Index: sg.Index, From: sg.WallStart.Time, To: sg.WallEnd.Time, Sealed: sg.Room != "", Room: sg.Room}
		if sg.ParticipantID == pt.ID && sg.Stream != "" {
			lane.Screen = append(lane.Screen, span)
		} else if sg.ParticipantID == pt.ID {
			lane.Segments = append(lane.Segments, span)
			for _, iv := range sg.Speaking {
				lane.Speaking = append(lane.Speaking, spanView{From: iv.From.Time, To: iv.To.Time})
			}
		}
	}
	lane.Speaking = joinSpans(lane.Speaking)
	for _, g := range m.Gaps {
		if g.ParticipantID == pt.ID {
			lane.Gaps = append(lane.Gaps, gapSpan{From: g.From.Time, To: g.To.Time, Reason: g.Reason, Stream: g.Stream})
		}
	}
	return lane, marks
}

// joinSpans sorts spans and joins those that touch or overlap: speech
// that went on across a segment boundary is one span.
func joinSpans(spans []spanView) []spanView {
	slices.SortStableFunc(spans, func(a, b spanView) int { return cmp.Or(a.From.Compare(b.From), a.To.Compare(b.To)) })
	out := spans[:0]
	for _, sp := range spans {
		if n := len(out); n > 0 && !sp.From.After(out[n-1].To) {
			if sp.To.After(out[n-1].To) {
				out[n-1].To = sp.To
			}
			continue
		}
		out = append(out, sp)
	}
	return out
}

// eventLabels are the labels of the recording's events.
var eventLabels = map[string]string{
	evidence.EventRecordingStart:   "Recording started",
	evidence.EventRecordingStop:    "Recording stopped",
	evidence.EventRecordingPause:   "Recording paused",
	evidence.EventRecordingResume:  "Recording resumed",
	evidence.EventRecordingFailure: "Recording failed",
	evidence.EventSessionEnd:       "Session ended",
	"settlement.shared":            "Settlement shared",
	"settlement.signed":            "Settlement signed",
	"settlement.confirmed":         "Settlement confirmed aloud",
	"settlement.finalized":         "Settlement finalized",
}

func eventLabel(ev evidence.Event) string {
	if l, ok := eventLabels[ev.Kind]; ok {
		return l
	}
	if l, ok := notaryEventLabel(ev); ok {
		return l
	}
	return ev.Kind
}

// timelineSpan is the stretch a timeline covers: from the session's start
// (or its first mark or segment, if earlier; the scheduled start if
// nothing happened) to end (or its last mark or segment, if later).
func timelineSpan(m *evidence.Manifest, v *timelineView, end time.Time) (time.Time, time.Time) {
	start := m.Session.StartedAt.Time
	if start.IsZero() {
		start = m.Session.ScheduledStart.Time
		if len(v.Marks) > 0 || len(m.Segments) > 0 {
			start = end
		}
	}
	widen := func(from, to time.Time) {
		if from.Before(start) {
			start = from
		}
		if to.After(end) {
			end = to
		}
	}
	for _, mk := range v.Marks {
		widen(mk.Time, mk.Time)
	}
	for _, sg := range m.Segments {
		widen(sg.WallStart.Time, sg.WallEnd.Time)
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}
