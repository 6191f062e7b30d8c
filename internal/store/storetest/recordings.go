package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func testOrgRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	def := newOrg("Beijing Court") // 0 and "": the defaults, applied by callers
	set := newOrg("Milano Notary Office")
	set.RetentionDays, set.RetentionMode = 365, "GOVERNANCE"
	for _, o := range []*cases.Org{def, set} {
		must(t, "CreateOrg", s.CreateOrg(ctx, o))
	}
	for _, o := range []*cases.Org{def, set} {
		got, err := s.Org(ctx, o.ID)
		must(t, "Org", err)
		checkOrg(t, got, o)
		got, err = s.OrgByName(ctx, o.Name)
		must(t, "OrgByName", err)
		checkOrg(t, got, o)
	}
	list, err := s.Orgs(ctx)
	must(t, "Orgs", err)
	if len(list) != 2 {
		t.Fatalf("Orgs returned %d, want 2", len(list))
	}
	checkOrg(t, list[0], def)
	checkOrg(t, list[1], set)
}

func testEndSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	must(t, "MarkSessionLive", s.MarkSessionLive(ctx, f.session.ID, at(24*time.Hour)))
	must(t, "EndSession", s.EndSession(ctx, f.session.ID, at(25*time.Hour)))
	must(t, "EndSession again", s.EndSession(ctx, f.session.ID, at(27*time.Hour)))
	got, err := s.Session(ctx, f.session.ID)
	must(t, "Session", err)
	want := *f.session
	want.State = "ended"
	want.StartedAt = ptr(at(24 * time.Hour))
	want.EndedAt = ptr(at(25 * time.Hour))
	checkSession(t, got, &want)

	// Ending a session that never went live.
	other := newSession(f.kase, at(time.Minute))
	must(t, "CreateSession", s.CreateSession(ctx, other))
	must(t, "EndSession(never live)", s.EndSession(ctx, other.ID, at(30*time.Hour)))
	got, err = s.Session(ctx, other.ID)
	must(t, "Session", err)
	want = *other
	want.State, want.EndedAt = "ended", ptr(at(30*time.Hour))
	checkSession(t, got, &want)

	wantErr(t, "EndSession(unknown)", s.EndSession(ctx, store.NewID(), t0), store.ErrNotFound)
}

func checkRecording(t *testing.T, got, want *cases.Recording) {
	t.Helper()
	eq(t, "Recording.SessionID", got.SessionID, want.SessionID)
	eq(t, "Recording.State", got.State, want.State)
	eqTime(t, "Recording.StartedAt", got.StartedAt, want.StartedAt)
	eqNullTime(t, "Recording.EndedAt", got.EndedAt, want.EndedAt)
	eqNullTime(t, "Recording.SealedAt", got.SealedAt, want.SealedAt)
	eq(t, "Recording.ManifestKey", got.ManifestKey, want.ManifestKey)
	if !bytes.Equal(got.ManifestSHA, want.ManifestSHA) || (len(want.ManifestSHA) == 0) != (got.ManifestSHA == nil) {
		t.Errorf("Recording.ManifestSHA = %#v, want %x (nil if empty)", got.ManifestSHA, want.ManifestSHA)
	}
	eq(t, "Recording.ChainHead", got.ChainHead, want.ChainHead)
	eq(t, "Recording.KeyID", got.KeyID, want.KeyID)
	eq(t, "Recording.Failure", got.Failure, want.Failure)
	eq(t, "Recording.LegalHold", got.LegalHold, want.LegalHold)
	eqTime(t, "Recording.RetainUntil", got.RetainUntil, want.RetainUntil)
	if (got.GapCount == nil) != (want.GapCount == nil) || (got.GapCount != nil && *got.GapCount != *want.GapCount) {
		t.Errorf("Recording.GapCount = %v, want %v", deref(got.GapCount), deref(want.GapCount))
	}
}

// deref shows an optional count.
func deref(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

// hash32 returns 32 bytes derived from seed, among them 0x00 and 0xff.
func hash32(seed byte) []byte {
	h := make([]byte, 32)
	for i := range h {
		h[i] = seed ^ byte(i*37)
	}
	h[3], h[30] = 0x00, 0xff
	return h
}

func testRecordings(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	_, err := s.Recording(ctx, f.session.ID)
	wantErr(t, "Recording(before put)", err, store.ErrNotFound)

	r := &cases.Recording{SessionID: f.session.ID, State: cases.RecordingActive, StartedAt: at(24 * time.Hour)}
	must(t, "PutRecording(new)", s.PutRecording(ctx, r))
	got, err := s.Recording(ctx, r.SessionID)
	must(t, "Recording(new)", err)
	checkRecording(t, got, r)

	sealed := &cases.Recording{
		SessionID: f.session.ID, State: cases.RecordingSealed, StartedAt: at(24*time.Hour + time.Microsecond),
		EndedAt: ptr(at(25 * time.Hour)), SealedAt: ptr(at(26 * time.Hour)),
		ManifestKey: "recordings/" + f.session.ID + "/manifest.json", ManifestSHA: hash32(7),
		ChainHead: strings.Repeat("ab", 32), KeyID: "ed25519:0123456789abcdef",
		LegalHold: true, RetainUntil: at(3650 * 24 * time.Hour), GapCount: new(2),
	}
	must(t, "PutRecording(sealed)", s.PutRecording(ctx, sealed))
	got, err = s.Recording(ctx, r.SessionID)
	must(t, "Recording(sealed)", err)
	checkRecording(t, got, sealed)

	// Every field is replaced, set ones cleared too.
	failed := &cases.Recording{
		SessionID: f.session.ID, State: cases.RecordingFailed, StartedAt: at(23 * time.Hour),
		EndedAt: ptr(at(25 * time.Hour)), Failure: evil,
	}
	must(t, "PutRecording(failed)", s.PutRecording(ctx, failed))
	got, err = s.Recording(ctx, r.SessionID)
	must(t, "Recording(failed)", err)
	checkRecording(t, got, failed)

	_, err = s.Recording(ctx, store.NewID())
	wantErr(t, "Recording(unknown)", err, store.ErrNotFound)
	orphan := &cases.Recording{SessionID: store.NewID(), State: cases.RecordingActive, StartedAt: t0}
	err = s.PutRecording(ctx, orphan)
	if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutRecording(unknown session) = %v, want a plain error", err)
	}
	_, err = s.Recording(ctx, orphan.SessionID)
	wantErr(t, "Recording(rejected)", err, store.ErrNotFound)
}

func testRecordingsInState(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	list, err := s.RecordingsInState(ctx, cases.RecordingSealing)
	must(t, "RecordingsInState(none)", err)
	eq(t, "len(RecordingsInState(none))", len(list), 0)

	// Sealing recordings started out of order, two at the same instant,
	// the greater session id first; others in other states.
	starts := []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour, 2 * time.Hour, time.Hour + time.Microsecond}
	lo, hi := twoIDs()
	ids := map[int]string{2: hi, 3: lo}
	var want []*cases.Recording
	for i, d := range starts {
		sess := newSession(f.kase, at(time.Duration(i)*time.Second))
		if id, ok := ids[i]; ok {
			sess.ID = id
		}
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		r := &cases.Recording{SessionID: sess.ID, State: cases.RecordingSealing, StartedAt: at(d),
			EndedAt: ptr(at(d + time.Hour)), RetainUntil: at(d + 24*time.Hour)}
		must(t, "PutRecording", s.PutRecording(ctx, r))
		want = append(want, r)
	}
	for _, state := range []string{cases.RecordingActive, cases.RecordingSealed} {
		sess := newSession(f.kase, t0)
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		r := &cases.Recording{SessionID: sess.ID, State: state, StartedAt: t0}
		must(t, "PutRecording", s.PutRecording(ctx, r))
	}
	slices.SortFunc(want, func(a, b *cases.Recording) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.SessionID, b.SessionID)
	})
	list, err = s.RecordingsInState(ctx, cases.RecordingSealing)
	must(t, "RecordingsInState", err)
	if len(list) != len(want) {
		t.Fatalf("RecordingsInState returned %d, want %d", len(list), len(want))
	}
	for i, r := range want {
		checkRecording(t, list[i], r)
	}
	list, err = s.RecordingsInState(ctx, cases.RecordingSealed)
	must(t, "RecordingsInState(sealed)", err)
	eq(t, "len(RecordingsInState(sealed))", len(list), 1)
}

func checkSegment(t *testing.T, got, want *cases.Segment) {
	t.Helper()
	name := fmt.Sprintf("Segment %s/%d", want.ParticipantID, want.Index)
	eq(t, name+".SessionID", got.SessionID, want.SessionID)
	eq(t, name+".ParticipantID", got.ParticipantID, want.ParticipantID)
	eq(t, name+".Index", got.Index, want.Index)
	eq(t, name+".Key", got.Key, want.Key)
	eq(t, name+".ContentType", got.ContentType, want.ContentType)
	eq(t, name+".Bytes", got.Bytes, want.Bytes)
	if !bytes.Equal(got.SHA256, want.SHA256) {
		t.Errorf("%s.SHA256 = %x, want %x", name, got.SHA256, want.SHA256)
	}
	eqTime(t, name+".WallStart", got.WallStart, want.WallStart)
	eqTime(t, name+".WallEnd", got.WallEnd, want.WallEnd)
	eq(t, name+".MediaStart", got.MediaStart, want.MediaStart)
	eq(t, name+".MediaEnd", got.MediaEnd, want.MediaEnd)
	// No codecs, nil or empty, read back as nil.
	wantCodecs := want.Codecs
	if len(wantCodecs) == 0 {
		wantCodecs = nil
	}
	if !slices.Equal(got.Codecs, wantCodecs) || (got.Codecs == nil) != (wantCodecs == nil) {
		t.Errorf("%s.Codecs = %#v, want %#v", name, got.Codecs, wantCodecs)
	}
	eq(t, name+".Width", got.Width, want.Width)
	eq(t, name+".Height", got.Height, want.Height)
	eq(t, name+".Gaps", got.Gaps, want.Gaps)
	eq(t, name+".Speaking", got.Speaking, want.Speaking)
	eq(t, name+".Stream", got.Stream, want.Stream)
	eq(t, name+".Room", got.Room, want.Room)
	eq(t, name+".Recovered", got.Recovered, want.Recovered)
	eqTime(t, name+".UploadedAt", got.UploadedAt, want.UploadedAt)
	eqTime(t, name+".RetainUntil", got.RetainUntil, want.RetainUntil)
}

// newSegment returns a segment of the participant with every field set.
func newSegment(sessionID, participantID string, index int, wallStart time.Time) *cases.Segment {
	media := wallStart.Sub(t0)
	return &cases.Segment{
		SessionID: sessionID, ParticipantID: participantID, Index: index,
		Key:         fmt.Sprintf("recordings/%s/%s/%06d.webm", sessionID, participantID, index),
		ContentType: `video/webm; codecs="vp8, opus"`, Bytes: 5<<30 + int64(index),
		SHA256:    hash32(byte(index)),
		WallStart: wallStart, WallEnd: wallStart.Add(10 * time.Second),
		MediaStart: media, MediaEnd: media + 10*time.Second - time.Microsecond,
		Codecs: []string{"vp8", "opus"}, Width: 1280, Height: 720,
		Gaps:      `[{"from_us":1500000,"to_us":2250000,"reason":"network"}]`,
		Speaking:  `[{"from":"2026-01-02T03:04:05.123456789Z","to":"2026-01-02T03:04:07Z"}]`,
		Recovered: index%2 == 1, UploadedAt: wallStart.Add(15 * time.Second),
		RetainUntil: wallStart.Add(3650 * 24 * time.Hour),
	}
}

// twoIDs returns two new ids, a < b.
func twoIDs() (a, b string) {
	a, b = store.NewID(), store.NewID()
	if b < a {
		a, b = b, a
	}
	return a, b
}

func testSegments(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	lo, hi := twoIDs()
	for _, id := range []string{lo, hi} {
		p := newParticipant(f.session, "P "+id, t0)
		p.ID = id
		must(t, "CreateParticipant", s.CreateParticipant(ctx, p))
	}
	list, err := s.Segments(ctx, f.session.ID)
	must(t, "Segments(none)", err)
	eq(t, "len(Segments(none))", len(list), 0)

	w := func(d time.Duration) time.Time { return at(time.Hour + d) }
	// want is in the order Segments must return: wall start, then
	// participant id (byte order), then index (numeric order).
	want := []*cases.Segment{
		newSegment(f.session.ID, lo, 0, w(0)),
		newSegment(f.session.ID, hi, 0, w(0)),
		newSegment(f.session.ID, hi, 1, w(time.Microsecond)),
		newSegment(f.session.ID, lo, 2, w(10*time.Second)),
		newSegment(f.session.ID, lo, 10, w(10*time.Second)),
		newSegment(f.session.ID, hi, 2, w(10*time.Second)),
		newSegment(f.session.ID, lo, 1, w(20*time.Second)),
	}
	// Edge values: no codecs (nil and empty), no gaps, no speaking, no
	// retention, a media offset past an hour.
	want[1].Codecs, want[1].Gaps, want[1].Speaking, want[1].RetainUntil = nil, "", "", time.Time{}
	want[2].Codecs, want[2].Width, want[2].Height = []string{}, 0, 0
	want[3].Codecs = []string{"avc1.42E01E", "mp4a.40.2", "a,b"}
	want[6].MediaStart, want[6].MediaEnd = 90*time.Minute+123456*time.Microsecond, 3*time.Hour
	want[6].Bytes = 0
	// A screen share's segment, numbered in the participant's sequence.
	want[4].Stream, want[4].Key = "screen", fmt.Sprintf("recordings/%s/%s/screen/%06d.webm", f.session.ID, lo, 10)
	// Segments sealed to a private room: camera and screen share.
	want[3].Room = "private-1"
	want[4].Room = "private-1"
	// Add them out of order, with a segment of another session between.
	otherSess := newSession(f.kase, t0)
	must(t, "CreateSession", s.CreateSession(ctx, otherSess))
	other := newSegment(otherSess.ID, lo, 0, at(0))
	for _, i := range []int{6, 4, 1, 5, 0, 2, 3} {
		must(t, "AddSegment", s.AddSegment(ctx, want[i]))
		if i == 5 {
			must(t, "AddSegment(other session)", s.AddSegment(ctx, other))
		}
	}
	list, err = s.Segments(ctx, f.session.ID)
	must(t, "Segments", err)
	if len(list) != len(want) {
		t.Fatalf("Segments returned %d, want %d", len(list), len(want))
	}
	for i, seg := range want {
		checkSegment(t, list[i], seg)
	}
	list, err = s.Segments(ctx, otherSess.ID)
	must(t, "Segments(other session)", err)
	if len(list) != 1 {
		t.Fatalf("Segments(other session) returned %d, want 1", len(list))
	}
	checkSegment(t, list[0], other)
	list, err = s.Segments(ctx, store.NewID())
	must(t, "Segments(unknown session)", err)
	eq(t, "len(Segments(unknown session))", len(list), 0)
}

func testSegmentConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	seg := newSegment(f.session.ID, f.participant.ID, 3, at(time.Hour))
	must(t, "AddSegment", s.AddSegment(ctx, seg))

	sameIndex := newSegment(f.session.ID, f.participant.ID, 3, at(2*time.Hour))
	sameIndex.Key += ".again"
	wantErr(t, "AddSegment(same index)", s.AddSegment(ctx, sameIndex), store.ErrConflict)
	sameKey := newSegment(f.session.ID, f.participant.ID, 4, at(2*time.Hour))
	sameKey.Key = seg.Key
	wantErr(t, "AddSegment(same key)", s.AddSegment(ctx, sameKey), store.ErrConflict)

	// The same index of another participant, or of another session, is
	// not a conflict.
	p := newParticipant(f.session, "Wang Wu", t0)
	must(t, "CreateParticipant", s.CreateParticipant(ctx, p))
	must(t, "AddSegment(other participant)",
		s.AddSegment(ctx, newSegment(f.session.ID, p.ID, 3, at(2*time.Hour))))
	otherSess := newSession(f.kase, t0)
	must(t, "CreateSession", s.CreateSession(ctx, otherSess))
	must(t, "AddSegment(other session)",
		s.AddSegment(ctx, newSegment(otherSess.ID, f.participant.ID, 3, at(time.Hour))))

	orphan := newSegment(store.NewID(), f.participant.ID, 0, t0)
	err := s.AddSegment(ctx, orphan)
	if err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("AddSegment(unknown session) = %v, want a plain error", err)
	}

	list, err := s.Segments(ctx, f.session.ID)
	must(t, "Segments", err)
	if len(list) != 2 {
		t.Fatalf("Segments returned %d, want 2", len(list))
	}
	checkSegment(t, list[0], seg)
}

func checkSigningKey(t *testing.T, got, want *cases.SigningKey) {
	t.Helper()
	eq(t, "SigningKey.ID", got.ID, want.ID)
	eq(t, "SigningKey.Node", got.Node, want.Node)
	eq(t, "SigningKey.PublicPEM", got.PublicPEM, want.PublicPEM)
	eqTime(t, "SigningKey.CreatedAt", got.CreatedAt, want.CreatedAt)
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	list, err := s.SigningKeys(ctx)
	must(t, "SigningKeys(none)", err)
	eq(t, "len(SigningKeys(none))", len(list), 0)

	key := func(id, node string, created time.Time) *cases.SigningKey {
		return &cases.SigningKey{ID: "ed25519:" + id, Node: node, CreatedAt: created,
			PublicPEM: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA" + id + "\n-----END PUBLIC KEY-----\n"}
	}
	// In the order SigningKeys must return: created, then id.
	want := []*cases.SigningKey{
		key("00000000000000ff", "node-b", at(time.Hour)),
		key("aaaaaaaaaaaaaaaa", "node-a", at(time.Hour)),
		key("0000000000000000", "node-a", at(2*time.Hour)),
	}
	for _, i := range []int{2, 1, 0} {
		must(t, "PutSigningKey", s.PutSigningKey(ctx, want[i]))
	}
	// Again, and again with other values: a no-op.
	must(t, "PutSigningKey(again)", s.PutSigningKey(ctx, want[1]))
	changed := key("aaaaaaaaaaaaaaaa", "impostor", t0)
	changed.PublicPEM = "not the key"
	must(t, "PutSigningKey(same id, other values)", s.PutSigningKey(ctx, changed))

	list, err = s.SigningKeys(ctx)
	must(t, "SigningKeys", err)
	if len(list) != len(want) {
		t.Fatalf("SigningKeys returned %d, want %d", len(list), len(want))
	}
	for i, k := range want {
		checkSigningKey(t, list[i], k)
	}
}
