package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/recorder"
)

// ManifestKey and SignatureKey are where a sealed session's manifest and
// its signature are stored.
func ManifestKey(sessionID string) string  { return "sessions/" + sessionID + "/manifest.json" }
func SignatureKey(sessionID string) string { return "sessions/" + sessionID + "/manifest.sig" }

// minGap is the shortest hole in a participant's media that the manifest
// lists as a gap. A recorder's consecutive segments meet exactly; holes
// come from media that did not flow, and a quarter second of it is a
// dozen audio frames: worth saying.
const minGap = 250 * time.Millisecond

// buildManifest assembles the manifest of a session from the records.
func (a *Archive) buildManifest(ctx context.Context, sessionID string, endedAt time.Time) (*evidence.Manifest, []*audit.Entry, error) {
	extract, last, err := a.auditOf(ctx, sessionID)
	if err != nil {
		return nil, nil, err
	}
	m, err := draft(ctx, a.cfg.Store, sessionID, extract, endedAt)
	if err != nil {
		return nil, nil, err
	}
	m.Software, m.Node, m.SealedAt = "kuayang "+a.cfg.Version, a.cfg.Node, evidence.At(a.now())
	if a.cfg.Documents != nil {
		if m.Documents, err = a.cfg.Documents(ctx, sessionID); err != nil {
			return nil, nil, fmt.Errorf("archive: documents of session %s: %w", sessionID, err)
		}
	}
	gaps := cutGaps(holes(m), func(string) [][2]time.Time { return pausedSpans(extract, endedAt) }, evidence.GapPaused)
	private := privateSpans(extract, endedAt)
	gaps = cutGaps(gaps, func(pid string) [][2]time.Time { return private[pid] }, evidence.GapPrivateRoom)
	sealed := sealedSwitches(extract)
	gaps = coverGaps(gaps, func(pid string) [][2]time.Time { return sealed[pid] })
	m.Gaps = append(m.Gaps, gaps...)
	if m.Audit, err = evidence.NewAuditRef(extract, last); err != nil {
		return nil, nil, err
	}
	return m, extract, nil
}

// Draft assembles what the records say of a session that is not sealed
// (yet): organization, case, session, participants with their consent
// and presence (from the session's join and leave entries), the stored
// segments, the gaps the recorder reported and the recording's events.
// It is not signed and lacks what sealing adds: node, key, seal time, the
// audit reference, and the holes found by comparing presence with the
// segments (media still spooled would show as holes). Presence still open
// ends at until, or stays open (LeftAt zero) when until is zero.
func Draft(ctx context.Context, st store.Store, sessionID string, until time.Time) (*evidence.Manifest, error) {
	extract, err := entries(ctx, st, audit.Filter{SessionID: sessionID})
	if err != nil {
		return nil, err
	}
	return draft(ctx, st, sessionID, extract, until)
}

// draft is Draft on the session's audit entries.
func draft(ctx context.Context, st store.Store, sessionID string, extract []*audit.Entry, until time.Time) (*evidence.Manifest, error) {
	sess, err := st.Session(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	c, err := st.Case(ctx, sess.CaseID)
	if err != nil {
		return nil, err
	}
	org, err := st.Org(ctx, sess.OrgID)
	if err != nil {
		return nil, err
	}
	m := &evidence.Manifest{
		Org:  evidence.Org{ID: org.ID, Name: org.Name},
		Case: evidence.Case{ID: c.ID, Number: c.Number, Title: c.Title, Kind: string(c.Kind)},
		Session: evidence.Session{ID: sess.ID, Title: sess.Title, TimeZone: sess.TimeZone,
			ScheduledStart: evidence.At(sess.ScheduledStart), StartedAt: evidence.AtPtr(sess.StartedAt),
			EndedAt: evidence.At(until), Record: sess.Record},
	}
	if m.Participants, err = participants(ctx, st, sessionID, extract, until); err != nil {
		return nil, err
	}
	if err := segments(ctx, st, m); err != nil {
		return nil, err
	}
	m.Events = events(extract)
	return m, nil
}

// auditOf returns the session's audit entries and the last entry of the
// whole log, reading the log only from the session's last entry on. The
// log is append-only in sequence order, so the entries up to the head it
// returns are the extract: none of the session's can come in between.
func (a *Archive) auditOf(ctx context.Context, sessionID string) ([]*audit.Entry, *audit.Entry, error) {
	extract, err := entries(ctx, a.cfg.Store, audit.Filter{SessionID: sessionID})
	if err != nil {
		return nil, nil, err
	}
	f := audit.Filter{Limit: 10000}
	if len(extract) > 0 {
		f.AfterSeq = extract[len(extract)-1].Seq - 1
	}
	var last *audit.Entry
	for {
		page, err := a.cfg.Store.AuditEntries(ctx, f)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range page {
			// An entry of the session appended after the first read
			// is below the head read here: it belongs in the extract,
			// or the extract would not match the head it is sealed with.
			if e.SessionID == sessionID && (len(extract) == 0 || e.Seq > extract[len(extract)-1].Seq) {
				extract = append(extract, e)
			}
		}
		if len(page) > 0 {
			last = page[len(page)-1]
		}
		if len(page) < f.Limit {
			return extract, last, nil
		}
		f.AfterSeq = last.Seq
	}
}

// entries reads every entry matching f, page by page.
func entries(ctx context.Context, st store.Store, f audit.Filter) ([]*audit.Entry, error) {
	f.Limit = 10000
	var out []*audit.Entry
	for {
		page, err := st.AuditEntries(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < f.Limit {
			return out, nil
		}
		f.AfterSeq = page[len(page)-1].Seq
	}
}

// participants lists everyone invited, with presence rebuilt from the
// session's join and leave entries. A join that follows a join without a
// leave (the node stopped, or the connection was replaced) continues the
// same stretch of presence.
func participants(ctx context.Context, st store.Store, sessionID string, extract []*audit.Entry, endedAt time.Time) ([]evidence.Participant, error) {
	parts, err := st.ParticipantsOfSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var out []evidence.Participant
	for _, p := range parts {
		ep := evidence.Participant{ID: p.ID, Role: string(p.Role), Name: p.DisplayName, Language: p.Language,
			ConsentAt: evidence.AtPtr(p.ConsentAt), Presence: presence(extract, p.ID, endedAt)}
		out = append(out, ep)
	}
	return out, identities(ctx, st, sessionID, out)
}

func presence(extract []*audit.Entry, pid string, endedAt time.Time) []evidence.Presence {
	var out []evidence.Presence
	open := false
	for _, e := range extract {
		if e.ActorID != pid {
			continue
		}
		switch {
		case e.Action == "session.join" && !open:
			out = append(out, evidence.Presence{JoinedAt: evidence.At(e.Time), IP: e.IP})
			open = true
		case e.Action == "session.leave" && open:
			out[len(out)-1].LeftAt = evidence.At(e.Time)
			open = false
		}
	}
	if open {
		out[len(out)-1].LeftAt = evidence.At(endedAt)
	}
	return out
}

// segments adds the stored segments and the gaps the recorder reported.
func segments(ctx context.Context, st store.Store, m *evidence.Manifest) error {
	segs, err := st.Segments(ctx, m.Session.ID)
	if err != nil {
		return err
	}
	for _, s := range segs {
		m.Segments = append(m.Segments, evidence.Segment{ParticipantID: s.ParticipantID, Stream: s.Stream, Room: s.Room, Index: s.Index, Key: s.Key,
			Bytes: s.Bytes, SHA256: hex.EncodeToString(s.SHA256), WallStart: evidence.At(s.WallStart),
			WallEnd: evidence.At(s.WallEnd), MediaStart: s.MediaStart.Seconds(), MediaEnd: s.MediaEnd.Seconds(),
			Codecs: s.Codecs, Width: s.Width, Height: s.Height, ContentType: s.ContentType,
			Speaking: speaking(s)})
		m.Gaps = append(m.Gaps, recorderGaps(s)...)
	}
	return nil
}

// speaking turns the speaking intervals the recorder wrote for a segment
// into the manifest's: on its time grid (microseconds), clipped to the
// segment, in order, overlaps merged, so that a damaged record cannot
// keep a session from being sealed. Nil when there are none.
func speaking(s *cases.Segment) []evidence.Interval {
	if s.Speaking == "" {
		return nil
	}
	var ivs []recorder.Interval
	if err := json.Unmarshal([]byte(s.Speaking), &ivs); err != nil {
		return nil
	}
	start, end := evidence.At(s.WallStart), evidence.At(s.WallEnd)
	var clipped []evidence.Interval
	for _, iv := range ivs {
		from, to := evidence.At(iv.From), evidence.At(iv.To)
		if from.Before(start.Time) {
			from = start
		}
		if to.After(end.Time) {
			to = end
		}
		if to.After(from.Time) {
			clipped = append(clipped, evidence.Interval{From: from, To: to})
		}
	}
	slices.SortFunc(clipped, func(a, b evidence.Interval) int { return a.From.Compare(b.From.Time) })
	var out []evidence.Interval
	for _, iv := range clipped {
		if n := len(out); n > 0 && !iv.From.After(out[n-1].To.Time) {
			if iv.To.After(out[n-1].To.Time) {
				out[n-1].To = iv.To
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// recorderGaps turns the gaps the recorder wrote for a segment into
// manifest gaps.
func recorderGaps(s *cases.Segment) []evidence.Gap {
	if s.Gaps == "" {
		return nil
	}
	var gaps []recorder.Gap
	if err := json.Unmarshal([]byte(s.Gaps), &gaps); err != nil {
		return nil
	}
	var out []evidence.Gap
	for _, g := range gaps {
		if !g.To.After(g.From) {
			continue
		}
		out = append(out, evidence.Gap{ParticipantID: s.ParticipantID, Stream: s.Stream, From: evidence.At(g.From), To: evidence.At(g.To),
			Reason: gapReason(g.Reason)})
	}
	return out
}

func gapReason(r string) string {
	switch r {
	case "disconnect":
		return evidence.GapDisconnect
	case "upload_failure":
		return evidence.GapUploadFailure
	case "node_failure":
		return evidence.GapNodeFailure
	}
	return evidence.GapLoss
}

// holes finds stretches of presence not covered by any camera segment
// of that participant: media lost to a node failure, a dropped connection
// or an upload that never happened. They are listed, never silent. A
// screen share is shared for a while and stopped at will: its segments
// neither cover presence nor leave holes.
func holes(m *evidence.Manifest) []evidence.Gap {
	var out []evidence.Gap
	for _, p := range m.Participants {
		var spans [][2]time.Time
		for _, s := range m.Segments {
			if s.ParticipantID == p.ID && s.Stream == "" {
				spans = append(spans, [2]time.Time{s.WallStart.Time, s.WallEnd.Time})
			}
		}
		slices.SortFunc(spans, func(x, y [2]time.Time) int { return x[0].Compare(y[0]) })
		for _, pr := range p.Presence {
			for _, g := range uncovered(p.ID, pr, spans) {
				if failedDuring(m.Events, g) || lostWithNode(m.Events, g, spans) {
					g.Reason = evidence.GapNodeFailure
				}
				out = append(out, g)
			}
		}
	}
	return out
}

// privateSpans are the stretches each participant spent in a private
// room (caucus) that was not recorded, from the session's room.move
// entries; a stretch still open ends at end.
func privateSpans(extract []*audit.Entry, end time.Time) map[string][][2]time.Time {
	out := map[string][][2]time.Time{}
	open := map[string]time.Time{}
	for e, d := range roomMoves(extract) {
		if from, ok := open[d.Participant]; ok {
			// Back in a recorded room, media takes a moment (a keyframe)
			// to be recorded again, as after joining.
			out[d.Participant] = append(out[d.Participant], [2]time.Time{from, e.Time.Add(2 * time.Second)})
			delete(open, d.Participant)
		}
		if d.Room != "" && !d.Record {
			open[d.Participant] = e.Time
		}
	}
	for pid, from := range open {
		out[pid] = append(out[pid], [2]time.Time{from, end})
	}
	return out
}

// roomMove is the detail of a room.move entry: a participant went into a
// private room ("" the joint room), recorded or not.
type roomMove struct {
	Participant string `json:"participant"`
	Room        string `json:"room"`
	Record      bool   `json:"record"`
}

// roomMoves yields the well-formed room.move entries of extract, in order.
func roomMoves(extract []*audit.Entry) iter.Seq2[*audit.Entry, roomMove] {
	return func(yield func(*audit.Entry, roomMove) bool) {
		for _, e := range extract {
			var d roomMove
			if e.Action != "room.move" || json.Unmarshal([]byte(e.Detail), &d) != nil || d.Participant == "" {
				continue
			}
			if !yield(e, d) {
				return
			}
		}
	}
}

// sealedSwitches are, per participant, the moments they went into or out
// of a recorded private room (from the room.move entries), each with 2 s
// for media to be recorded again: their segments are cut there, and the
// next one starts at the next keyframe. The segments sealed to the room
// are recorded time like any other; the cut is no gap. The stretch starts
// half a second early: the recorder cuts just before the move is
// audited.
func sealedSwitches(extract []*audit.Entry) map[string][][2]time.Time {
	out := map[string][][2]time.Time{}
	sealedIn := map[string]bool{} // participants in a recorded private room
	for e, d := range roomMoves(extract) {
		into := d.Room != "" && d.Record
		if into || sealedIn[d.Participant] {
			out[d.Participant] = append(out[d.Participant], [2]time.Time{e.Time.Add(-time.Second / 2), e.Time.Add(2 * time.Second)})
		}
		sealedIn[d.Participant] = into
	}
	return out
}

// coverGaps drops the parts of the disconnect and node_failure gaps that
// lie in a participant's spans (spansOf): stretches where a hole is
// expected and is no gap.
func coverGaps(gaps []evidence.Gap, spansOf func(pid string) [][2]time.Time) []evidence.Gap {
	const covered = "\x00covered"
	var out []evidence.Gap
	for _, g := range cutGaps(gaps, spansOf, covered) {
		if g.Reason != covered {
			out = append(out, g)
		}
	}
	return out
}

// pausedSpans are the stretches in which a host had paused the
// recording, from the session's recording.pause and recording.resume
// entries (with 2 s for media to come back, as after joining); a pause
// still open ends at end.
func pausedSpans(extract []*audit.Entry, end time.Time) [][2]time.Time {
	var out [][2]time.Time
	var from time.Time
	for _, e := range extract {
		switch {
		case e.Action == evidence.EventRecordingPause && from.IsZero():
			from = e.Time
		case e.Action == evidence.EventRecordingResume && !from.IsZero():
			out = append(out, [2]time.Time{from, e.Time.Add(2 * time.Second)})
			from = time.Time{}
		}
	}
	if !from.IsZero() {
		out = append(out, [2]time.Time{from, end})
	}
	return out
}

// cutGaps cuts the gaps at stretches in which a participant's media was
// not to be recorded (spans gives them per participant): the part of a
// gap inside one gets reason (nobody failed: the media was not to be
// recorded), the rest keeps its own.
func cutGaps(gaps []evidence.Gap, spansOf func(pid string) [][2]time.Time, reason string) []evidence.Gap {
	var out []evidence.Gap
	for _, g := range gaps {
		spans := spansOf(g.ParticipantID)
		if len(spans) == 0 || g.Reason != evidence.GapDisconnect && g.Reason != evidence.GapNodeFailure {
			out = append(out, g)
			continue
		}
		cursor := g.From.Time
		for _, sp := range spans {
			from, to := maxTime(sp[0], cursor), minTime(sp[1], g.To.Time)
			if !to.After(from) {
				continue
			}
			if from.Sub(cursor) >= minGap {
				out = append(out, evidence.Gap{ParticipantID: g.ParticipantID, Stream: g.Stream, From: evidence.At(cursor), To: evidence.At(from), Reason: g.Reason})
			}
			out = append(out, evidence.Gap{ParticipantID: g.ParticipantID, Stream: g.Stream, From: evidence.At(from), To: evidence.At(to), Reason: reason})
			cursor = to
		}
		if g.To.Sub(cursor) >= minGap || cursor.Equal(g.From.Time) {
			out = append(out, evidence.Gap{ParticipantID: g.ParticipantID, Stream: g.Stream, From: evidence.At(cursor), To: g.To, Reason: g.Reason})
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// failureDetail is what a recording.failure event's detail says.
type failureDetail struct {
	Reason string `json:"reason"`
	Node   string `json:"node"`
}

// lostWithNode reports whether g is media that was lost with a node that
// stopped while recording and never came back with its spool: g begins
// before another node took the recording over from it, and none of the
// participant's media was stored between g's end and that moment.
func lostWithNode(events []evidence.Event, g evidence.Gap, spans [][2]time.Time) bool {
	gone := map[string]bool{}
	for _, e := range events {
		var d failureDetail
		if e.Kind == evidence.EventRecordingFailure && json.Unmarshal([]byte(e.Detail), &d) == nil &&
			(d.Reason == reasonNotBack || d.Reason == reasonSpoolLost) {
			gone[d.Node] = true
		}
	}
	for _, e := range events {
		var d failureDetail
		if e.Kind != evidence.EventRecordingFailure || json.Unmarshal([]byte(e.Detail), &d) != nil ||
			d.Reason != reasonNodeStopped || !gone[d.Node] || !g.From.Before(e.Time.Time) {
			continue
		}
		stored := false
		for _, sp := range spans {
			stored = stored || (!sp[0].Before(g.To.Time) && sp[0].Before(e.Time.Time))
		}
		if !stored {
			return true
		}
	}
	return false
}

// failedDuring reports whether the recording failed (the node restarted)
// during g.
func failedDuring(events []evidence.Event, g evidence.Gap) bool {
	for _, e := range events {
		if e.Kind == evidence.EventRecordingFailure && !e.Time.Before(g.From.Time) && !e.Time.After(g.To.Time) {
			return true
		}
	}
	return false
}

// uncovered returns the parts of one presence stretch that no span covers,
// ignoring the first two seconds after joining (media takes a moment to flow).
func uncovered(pid string, pr evidence.Presence, spans [][2]time.Time) []evidence.Gap {
	from, to := pr.JoinedAt.Add(2*time.Second), pr.LeftAt.Time
	var out []evidence.Gap
	cursor := from
	for _, sp := range spans {
		if !sp[1].After(cursor) || !sp[0].Before(to) {
			continue
		}
		if sp[0].Sub(cursor) >= minGap {
			out = append(out, evidence.Gap{ParticipantID: pid, From: evidence.At(cursor), To: evidence.At(sp[0]), Reason: evidence.GapDisconnect})
		}
		if sp[1].After(cursor) {
			cursor = sp[1]
		}
	}
	if len(spans) > 0 && to.Sub(cursor) >= 2*minGap && cursor.After(from) {
		out = append(out, evidence.Gap{ParticipantID: pid, From: evidence.At(cursor), To: evidence.At(to), Reason: evidence.GapDisconnect})
	}
	return out
}

// events lists the recording's own audit entries as manifest events.
func events(extract []*audit.Entry) []evidence.Event {
	var out []evidence.Event
	for _, e := range extract {
		switch e.Action {
		case evidence.EventRecordingStart, evidence.EventRecordingStop, evidence.EventRecordingPause,
			evidence.EventRecordingResume, evidence.EventRecordingFailure, evidence.EventSessionEnd,
			evidence.EventRecordingRecovered, "caucus.open", "caucus.close", "host.end",
			"settlement.shared", "settlement.signed", "settlement.confirmed", "settlement.finalized",
			"notary.step", "document.shown", "document.signing", "document.mismatch":
			out = append(out, evidence.Event{Time: evidence.At(e.Time), Kind: e.Action, Detail: e.Detail})
		}
	}
	return out
}

// storeManifest puts the signed manifest and its signature in the object
// store.
func (a *Archive) storeManifest(ctx context.Context, sessionID string, manifest, sig []byte, until time.Time, mode blob.Mode) error {
	for _, obj := range []struct {
		key  string
		body []byte
		ct   string
	}{
		{ManifestKey(sessionID), manifest, "application/json"},
		{SignatureKey(sessionID), sig, "text/plain"},
	} {
		sum := sha256.Sum256(obj.body)
		_, err := a.cfg.Blob.Put(ctx, obj.key, bytes.NewReader(obj.body), int64(len(obj.body)), sum[:],
			blob.PutOptions{ContentType: obj.ct, RetainUntil: until, Mode: mode})
		if err != nil {
			return fmt.Errorf("storing %s: %w", obj.key, err)
		}
	}
	return nil
}
