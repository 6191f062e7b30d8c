package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// seedRecorded creates a fixture and the recording of its session, as the
// callers of the recording node methods do before them.
func seedRecorded(t *testing.T, s store.Store) *fixture {
	t.Helper()
	f := seed(t, s, "Court")
	r := &cases.Recording{SessionID: f.session.ID, State: cases.RecordingActive, StartedAt: at(24 * time.Hour)}
	must(t, "PutRecording", s.PutRecording(t.Context(), r))
	return f
}

// part is a node's part as RecordingNodes must return it.
type part struct {
	node, state string
	since       time.Time
}

// checkRecordingNodes checks the parts of the session, in order.
func checkRecordingNodes(t *testing.T, s store.Store, what, sessionID string, want ...part) {
	t.Helper()
	got, err := s.RecordingNodes(t.Context(), sessionID)
	must(t, what+": RecordingNodes", err)
	if len(got) != len(want) {
		var nodes []string
		for _, n := range got {
			nodes = append(nodes, n.Node+"="+n.State)
		}
		t.Fatalf("%s: RecordingNodes returned %d %v, want %d", what, len(got), nodes, len(want))
	}
	for i, w := range want {
		name := fmt.Sprintf("%s: RecordingNodes[%d]", what, i)
		eq(t, name+".SessionID", got[i].SessionID, sessionID)
		eq(t, name+".Node", got[i].Node, w.node)
		eq(t, name+".State", got[i].State, w.state)
		eqTime(t, name+".Since", got[i].Since, w.since)
	}
}

func testClaimRecording(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seedRecorded(t, s)
	sid := f.session.ID
	checkRecordingNodes(t, s, "none", sid)

	displaced, err := s.ClaimRecording(ctx, sid, "node-a", at(time.Hour))
	must(t, "ClaimRecording(a)", err)
	if displaced != nil {
		t.Errorf("ClaimRecording(a) displaced %#v, want nil", displaced)
	}
	checkRecordingNodes(t, s, "claimed by a", sid, part{"node-a", cases.NodeRecording, at(time.Hour)})

	displaced, err = s.ClaimRecording(ctx, sid, "node-b", at(2*time.Hour))
	must(t, "ClaimRecording(b)", err)
	if !slices.Equal(displaced, []string{"node-a"}) {
		t.Errorf("ClaimRecording(b) displaced %q, want [node-a]", displaced)
	}
	checkRecordingNodes(t, s, "claimed by b", sid,
		part{"node-a", cases.NodePending, at(2 * time.Hour)},
		part{"node-b", cases.NodeRecording, at(2 * time.Hour)})

	// Claiming again displaces nobody; pending and done parts stay.
	must(t, "SetRecordingNode(a, done)", s.SetRecordingNode(ctx, sid, "node-a", cases.NodeDone, at(3*time.Hour)))
	displaced, err = s.ClaimRecording(ctx, sid, "node-b", at(4*time.Hour))
	must(t, "ClaimRecording(b again)", err)
	if displaced != nil {
		t.Errorf("ClaimRecording(b again) displaced %#v, want nil", displaced)
	}
	displaced, err = s.ClaimRecording(ctx, sid, "node-c", at(5*time.Hour))
	must(t, "ClaimRecording(c)", err)
	if !slices.Equal(displaced, []string{"node-b"}) {
		t.Errorf("ClaimRecording(c) displaced %q, want [node-b]", displaced)
	}
	// A pending node claiming back displaces the recorder.
	displaced, err = s.ClaimRecording(ctx, sid, "node-b", at(6*time.Hour))
	must(t, "ClaimRecording(b back)", err)
	if !slices.Equal(displaced, []string{"node-c"}) {
		t.Errorf("ClaimRecording(b back) displaced %q, want [node-c]", displaced)
	}
	checkRecordingNodes(t, s, "claimed back by b", sid,
		part{"node-a", cases.NodeDone, at(3 * time.Hour)},
		part{"node-b", cases.NodeRecording, at(6 * time.Hour)},
		part{"node-c", cases.NodePending, at(6 * time.Hour)})

	// Another session is apart.
	other := newSession(f.kase, t0)
	must(t, "CreateSession", s.CreateSession(ctx, other))
	displaced, err = s.ClaimRecording(ctx, other.ID, "node-a", at(7*time.Hour))
	must(t, "ClaimRecording(other session)", err)
	if displaced != nil {
		t.Errorf("ClaimRecording(other session) displaced %#v, want nil", displaced)
	}
	checkRecordingNodes(t, s, "other session", other.ID, part{"node-a", cases.NodeRecording, at(7 * time.Hour)})
	checkRecordingNodes(t, s, "first session after other", sid,
		part{"node-a", cases.NodeDone, at(3 * time.Hour)},
		part{"node-b", cases.NodeRecording, at(6 * time.Hour)},
		part{"node-c", cases.NodePending, at(6 * time.Hour)})

	_, err = s.ClaimRecording(ctx, store.NewID(), "node-a", t0)
	wantErr(t, "ClaimRecording(unknown session)", err, store.ErrNotFound)
}

func testAdoptRecording(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seedRecorded(t, s)
	sid := f.session.ID

	// From nobody, when nobody records.
	must(t, `AdoptRecording("" -> a)`, s.AdoptRecording(ctx, sid, "", "node-a", at(time.Hour)))
	checkRecordingNodes(t, s, "adopted by a", sid, part{"node-a", cases.NodeRecording, at(time.Hour)})

	// From nobody, or from a stale recorder, when someone records.
	wantErr(t, `AdoptRecording("" -> b)`, s.AdoptRecording(ctx, sid, "", "node-b", at(2*time.Hour)), store.ErrConflict)
	wantErr(t, "AdoptRecording(x -> b)", s.AdoptRecording(ctx, sid, "node-x", "node-b", at(2*time.Hour)), store.ErrConflict)
	checkRecordingNodes(t, s, "after conflicts", sid, part{"node-a", cases.NodeRecording, at(time.Hour)})

	// From the recorder.
	must(t, "AdoptRecording(a -> b)", s.AdoptRecording(ctx, sid, "node-a", "node-b", at(3*time.Hour)))
	checkRecordingNodes(t, s, "adopted by b", sid,
		part{"node-a", cases.NodePending, at(3 * time.Hour)},
		part{"node-b", cases.NodeRecording, at(3 * time.Hour)})
	wantErr(t, "AdoptRecording(a -> c, stale)", s.AdoptRecording(ctx, sid, "node-a", "node-c", at(4*time.Hour)), store.ErrConflict)
	wantErr(t, "AdoptRecording(a -> a, stale)", s.AdoptRecording(ctx, sid, "node-a", "node-a", at(4*time.Hour)), store.ErrConflict)

	// By the recorder itself: it stays the recorder, since moves.
	must(t, "AdoptRecording(b -> b)", s.AdoptRecording(ctx, sid, "node-b", "node-b", at(5*time.Hour)))
	checkRecordingNodes(t, s, "adopted by b again", sid,
		part{"node-a", cases.NodePending, at(3 * time.Hour)},
		part{"node-b", cases.NodeRecording, at(5 * time.Hour)})

	// A pending node adopting back from the recorder.
	must(t, "AdoptRecording(b -> a)", s.AdoptRecording(ctx, sid, "node-b", "node-a", at(6*time.Hour)))
	checkRecordingNodes(t, s, "adopted back by a", sid,
		part{"node-a", cases.NodeRecording, at(6 * time.Hour)},
		part{"node-b", cases.NodePending, at(6 * time.Hour)})

	// Once the recorder's part is no longer recording, nobody records.
	must(t, "SetRecordingNode(a, pending)", s.SetRecordingNode(ctx, sid, "node-a", cases.NodePending, at(7*time.Hour)))
	wantErr(t, "AdoptRecording(a -> c, not recording)", s.AdoptRecording(ctx, sid, "node-a", "node-c", at(8*time.Hour)), store.ErrConflict)
	must(t, `AdoptRecording("" -> c)`, s.AdoptRecording(ctx, sid, "", "node-c", at(8*time.Hour)))
	checkRecordingNodes(t, s, "adopted by c from nobody", sid,
		part{"node-b", cases.NodePending, at(6 * time.Hour)},
		part{"node-a", cases.NodePending, at(7 * time.Hour)},
		part{"node-c", cases.NodeRecording, at(8 * time.Hour)})

	err := s.AdoptRecording(ctx, store.NewID(), "", "node-a", t0)
	wantErr(t, "AdoptRecording(unknown session)", err, store.ErrNotFound)
	err = s.AdoptRecording(ctx, store.NewID(), "node-a", "node-b", t0)
	wantErr(t, "AdoptRecording(unknown session, from a)", err, store.ErrNotFound)
}

func testSetRecordingNode(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seedRecorded(t, s)
	sid := f.session.ID

	// Created when absent, then changed.
	must(t, "SetRecordingNode(a, pending)", s.SetRecordingNode(ctx, sid, "node-a", cases.NodePending, at(time.Hour)))
	checkRecordingNodes(t, s, "a pending", sid, part{"node-a", cases.NodePending, at(time.Hour)})
	must(t, "SetRecordingNode(a, done)", s.SetRecordingNode(ctx, sid, "node-a", cases.NodeDone, at(2*time.Hour)))
	checkRecordingNodes(t, s, "a done", sid, part{"node-a", cases.NodeDone, at(2 * time.Hour)})

	// A second recorder would break "at most one".
	must(t, "SetRecordingNode(b, recording)", s.SetRecordingNode(ctx, sid, "node-b", cases.NodeRecording, at(3*time.Hour)))
	wantErr(t, "SetRecordingNode(c, recording)",
		s.SetRecordingNode(ctx, sid, "node-c", cases.NodeRecording, at(4*time.Hour)), store.ErrConflict)
	must(t, "SetRecordingNode(b, done)", s.SetRecordingNode(ctx, sid, "node-b", cases.NodeDone, at(5*time.Hour)))
	checkRecordingNodes(t, s, "b done", sid,
		part{"node-a", cases.NodeDone, at(2 * time.Hour)},
		part{"node-b", cases.NodeDone, at(5 * time.Hour)})

	for _, bad := range []struct{ what, sid, node, state string }{
		{"unknown state", sid, "node-a", "paused"},
		{"empty node", sid, "", cases.NodeDone},
		{"unknown session", store.NewID(), "node-a", cases.NodeDone},
	} {
		err := s.SetRecordingNode(ctx, bad.sid, bad.node, bad.state, at(6*time.Hour))
		if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetRecordingNode(%s) = %v, want a plain error", bad.what, err)
		}
	}
	checkRecordingNodes(t, s, "after rejected", sid,
		part{"node-a", cases.NodeDone, at(2 * time.Hour)},
		part{"node-b", cases.NodeDone, at(5 * time.Hour)})
}

func testRecordingNodesOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seedRecorded(t, s)
	sid := f.session.ID
	list, err := s.RecordingNodes(ctx, store.NewID())
	must(t, "RecordingNodes(unknown session)", err)
	eq(t, "len(RecordingNodes(unknown session))", len(list), 0)

	// In the order RecordingNodes must return: since, then node in byte
	// order (upper case first); written out of order, with a part of
	// another session between.
	want := []part{
		{"node-b", cases.NodeDone, at(time.Hour)},
		{"Node-z", cases.NodePending, at(time.Hour + time.Microsecond)},
		{"node-a", cases.NodePending, at(time.Hour + time.Microsecond)},
		{"node-a2", cases.NodeRecording, at(time.Hour + time.Microsecond)},
		{"node-0", cases.NodeDone, at(2 * time.Hour)},
	}
	other := newSession(f.kase, t0)
	must(t, "CreateSession", s.CreateSession(ctx, other))
	for _, i := range []int{4, 2, 0, 3, 1} {
		p := want[i]
		must(t, "SetRecordingNode", s.SetRecordingNode(ctx, sid, p.node, p.state, p.since))
		if i == 0 {
			must(t, "SetRecordingNode(other session)",
				s.SetRecordingNode(ctx, other.ID, "node-a", cases.NodeRecording, t0))
		}
	}
	checkRecordingNodes(t, s, "ordered", sid, want...)
	checkRecordingNodes(t, s, "other session", other.ID, part{"node-a", cases.NodeRecording, t0})
}

// testAdoptConcurrent has nodes adopt a session at once, from its recorder
// and, on another session, from nobody (no part yet): one of them wins.
func testAdoptConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seedRecorded(t, s)
	fresh := newSession(f.kase, t0)
	must(t, "CreateSession", s.CreateSession(ctx, fresh))
	_, err := s.ClaimRecording(ctx, f.session.ID, "node-x", at(time.Hour))
	must(t, "ClaimRecording(x)", err)

	for _, c := range []struct{ sid, from string }{{f.session.ID, "node-x"}, {fresh.ID, ""}} {
		const n = 8
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
		)
		for i := range n {
			node := fmt.Sprintf("node-%d", i)
			wg.Go(func() {
				err := s.AdoptRecording(ctx, c.sid, c.from, node, at(2*time.Hour+time.Duration(i)*time.Second))
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, node)
					mu.Unlock()
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("AdoptRecording(%q -> %s): %v, want nil or ErrConflict", c.from, node, err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("AdoptRecording from %q: %d succeeded %v, want 1", c.from, len(winners), winners)
		}
		list, err := s.RecordingNodes(ctx, c.sid)
		must(t, "RecordingNodes", err)
		var recording, pending []string
		for _, p := range list {
			switch p.State {
			case cases.NodeRecording:
				recording = append(recording, p.Node)
			case cases.NodePending:
				pending = append(pending, p.Node)
			}
		}
		if !slices.Equal(recording, winners) {
			t.Errorf("from %q: recording %v, want the winner %v", c.from, recording, winners)
		}
		var wantPending []string
		if c.from != "" {
			wantPending = []string{c.from}
		}
		if !slices.Equal(pending, wantPending) {
			t.Errorf("from %q: pending %v, want %v", c.from, pending, wantPending)
		}
		eq(t, fmt.Sprintf("from %q: len(RecordingNodes)", c.from), len(list), 1+len(wantPending))
	}
}
