package test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store/postgres"
)

// TestClusterRecordingFailover: a recorded call runs on one of two nodes;
// that node is killed (SIGKILL). Within 10 s the participants are in the
// room again through the other node and media flows; the recording goes
// on there under the same session in new segments. The killed node
// restarts and stores what its spool held (its segment numbers were taken
// meanwhile: it stores under the next free ones). Once the session is
// sealed the bundle verifies, holds the media of both nodes, and the
// manifest shows the gap, the failure and the recovery.
func TestClusterRecordingFailover(t *testing.T) {
	t.Parallel() // separate processes, database, key space and bucket; mostly waiting (lease TTLs, an outage)
	media := realClip(t)
	c := newServeCluster(t, "")
	c.extra = []string{"--segment-duration", "2s", "--seal-grace", "4s"}
	c.startNodes(2)
	sid, invites := c.newSession(2, true)
	p1 := c.enterWith(c.nodes[0], sid, invites[0], media)
	p2 := c.enterWith(c.nodes[1], sid, invites[1], media)
	host := c.inOneRoom(p1, p2)
	other := c.nodes[0]
	if host == other {
		other = c.nodes[1]
	}
	flowing(t, p1, 30, p2)
	time.Sleep(5 * time.Second) // a few segments stored, one open in the spool

	killedAt := time.Now()
	if err := host.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-host.done
	p1.close()
	p2.close()
	t.Logf("killed %s, the host of the recorded room", host.id)

	// The room's lease and the dead node's registration expire; the
	// participants come back through the other node.
	waitFor(t, 10*time.Second, "the killed node's lease and registration to expire", func() bool {
		return c.holder(sid) != host.id && c.rdb.Exists(context.Background(), c.prefix+"node:"+host.id).Val() == 0
	})
	q1 := c.enterWith(other, sid, invites[0], media)
	q2 := c.enterWith(other, sid, invites[1], media)
	flowing(t, q1, 30, q2)
	rejoinedAt := time.Now()
	back := rejoinedAt.Sub(killedAt)
	t.Logf("in the room again on %s with media both ways %s after the kill", other.id, back.Round(time.Millisecond))
	if back > 10*time.Second {
		t.Errorf("the participants were back in the room with media %s after the kill, want within 10s", back.Round(time.Millisecond))
	}
	if q1.self != p1.self || q2.self != p2.self {
		t.Fatalf("the participants came back as %s and %s, were %s and %s", q1.self, q2.self, p1.self, p2.self)
	}
	time.Sleep(5 * time.Second) // segments recorded on the new host

	// The killed node comes back and stores what its spool held.
	if err := c.run(host, false); err != nil {
		t.Fatalf("restarting %s: %v", host.id, err)
	}
	st := c.store()
	waitFor(t, 30*time.Second, host.id+"'s part of the recording to be stored after its restart", func() bool {
		parts, err := st.RecordingNodes(context.Background(), sid)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if p.Node == host.id && p.State == cases.NodeDone {
				return true
			}
		}
		return false
	})
	q1.leave(t)
	q2.leave(t)

	clerk := c.staff(other, "clerk")
	waitSealed(t, clerk, sid, 90*time.Second)
	out := t.TempDir()
	path := downloadBundle(t, clerk, sid, out)
	if msg, err := exec.Command(c.bin, "verify", path).CombinedOutput(); err != nil || !strings.Contains(string(msg), "INTACT") {
		t.Fatalf("kuayang verify: %v\n%s", err, msg)
	}
	ext := filepath.Join(out, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	checkMedia(t, ext, m)
	checkKillGaps(t, m, killedAt, rejoinedAt, p1.self, p2.self)
	if m.Node != other.id {
		t.Errorf("sealed by %q, want %s (the node hosting the room at the end)", m.Node, other.id)
	}
	checkFailoverEvents(t, m, host.id)
	for _, id := range []string{p1.self, p2.self} {
		var before, after int
		for _, s := range m.Segments {
			switch {
			case s.ParticipantID != id:
			case s.WallEnd.Before(killedAt):
				before++
			case s.WallStart.After(killedAt):
				after++
			}
		}
		if before < 2 || after < 2 {
			t.Errorf("participant %s: %d segments before the kill and %d after, want both at least 2", id, before, after)
		}
	}
}

// checkFailoverEvents: the manifest says that node stopped while recording
// and that it stored what its spool held when it came back.
func checkFailoverEvents(t *testing.T, m *evidence.Manifest, node string) {
	t.Helper()
	var failed, recovered bool
	for _, e := range m.Events {
		var d struct {
			Node     string `json:"node"`
			Reason   string `json:"reason"`
			Segments int    `json:"segments"`
		}
		_ = json.Unmarshal([]byte(e.Detail), &d)
		switch {
		case e.Kind == evidence.EventRecordingFailure && d.Node == node && d.Reason == "node stopped":
			failed = true
		case e.Kind == evidence.EventRecordingRecovered && d.Node == node:
			recovered = true
			if d.Segments < 1 {
				t.Errorf("the recovery event says %d segments came from %s's spool, want at least one: %s", d.Segments, node, e.Detail)
			}
		}
	}
	if !failed || !recovered {
		t.Errorf("events lack %s's failure (%t) or recovery (%t): %+v", node, failed, recovered, m.Events)
	}
}

// TestClusterRecordingTakenUpAfterItsNodeDied: the participants of a
// recorded call leave, and the node that recorded it is killed during the
// grace period, before it sealed, and never comes back. Another node
// takes the recording up (its recorder is no longer registered), waits
// --failover-wait for the dead node's spool, and seals without it; the
// bundle verifies and says which node stopped and that what its spool
// held is missing.
func TestClusterRecordingTakenUpAfterItsNodeDied(t *testing.T) {
	t.Parallel() // separate processes, database, key space and bucket; mostly waiting (lease TTLs, an outage)
	testRecordingTakenUp(t, false)
}

// TestClusterRecordingNodeBackWithoutItsDisk: as above, but the killed
// node comes back at once under its id with an empty data directory (a
// new disk): sealing does not wait for a spool that no longer exists, and
// the manifest says what was lost.
func TestClusterRecordingNodeBackWithoutItsDisk(t *testing.T) {
	t.Parallel() // separate processes, database, key space and bucket; mostly waiting (lease TTLs, an outage)
	testRecordingTakenUp(t, true)
}

func testRecordingTakenUp(t *testing.T, newDisk bool) {
	c := newServeCluster(t, "")
	wait := "5s"
	if newDisk {
		wait = "10m" // sealing must not need it
	}
	c.extra = []string{"--segment-duration", "2s", "--seal-grace", "4s", "--failover-wait", wait}
	c.startNodes(2)
	sid, invites := c.newSession(2, true)
	media := realClip(t)
	p1 := c.enterWith(c.nodes[0], sid, invites[0], media)
	p2 := c.enterWith(c.nodes[1], sid, invites[1], media)
	host := c.inOneRoom(p1, p2)
	other := c.nodes[0]
	if host == other {
		other = c.nodes[1]
	}
	flowing(t, p1, 30, p2)
	time.Sleep(3 * time.Second)
	p1.leave(t)
	p2.leave(t)
	waitFor(t, 10*time.Second, "both leaves in the audit log", func() bool {
		es, err := c.store().AuditEntries(context.Background(), audit.Filter{SessionID: sid, Actions: []string{"session.leave"}})
		return err == nil && len(es) == 2
	})
	if err := host.cmd.Process.Kill(); err != nil { // within the grace period
		t.Fatal(err)
	}
	<-host.done
	killedAt := time.Now()
	reason := "did not come back"
	if newDisk {
		reason = "came back without its spool"
		if err := os.RemoveAll(host.dataDir); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "the recording to be taken over", func() bool {
			parts, _ := c.store().RecordingNodes(context.Background(), sid)
			for _, p := range parts {
				if p.Node == other.id && p.State == cases.NodeRecording {
					return true
				}
			}
			return false
		})
		if err := c.run(host, false); err != nil {
			t.Fatalf("restarting %s: %v", host.id, err)
		}
	}
	clerk := c.staff(other, "clerk")
	waitSealed(t, clerk, sid, 60*time.Second)
	t.Logf("sealed by the other node %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	path := downloadBundle(t, clerk, sid, t.TempDir())
	if msg, err := exec.Command(c.bin, "verify", path).CombinedOutput(); err != nil || !strings.Contains(string(msg), "INTACT") {
		t.Fatalf("kuayang verify: %v\n%s", err, msg)
	}
	ext := filepath.Join(t.TempDir(), "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	checkMedia(t, ext, m)
	if m.Node != other.id {
		t.Errorf("sealed by %q, want %s", m.Node, other.id)
	}
	var stopped, missing bool
	for _, e := range m.Events {
		if e.Kind != evidence.EventRecordingFailure || !strings.Contains(e.Detail, `"node":"`+host.id+`"`) {
			continue
		}
		stopped = stopped || strings.Contains(e.Detail, `"reason":"node stopped"`)
		missing = missing || strings.Contains(e.Detail, reason)
	}
	for _, g := range m.Gaps {
		if g.Reason != evidence.GapNodeFailure {
			t.Errorf("gap %s..%s of %s is %q: the media lost with %s's spool is a node failure", g.From.Format("15:04:05.000"),
				g.To.Format("15:04:05.000"), g.ParticipantID, g.Reason, host.id)
		}
	}
	if !stopped || !missing {
		t.Errorf("the events do not say that %s stopped (%t) and that what its spool held is missing (%t, %q): %+v",
			host.id, stopped, missing, reason, m.Events)
	}
}

// store opens the cluster's database (once per test) for checks the API
// does not show.
func (c *serveCluster) store() *postgres.DB {
	if c.db == nil {
		db, err := postgres.Open(context.Background(), c.pg)
		if err != nil {
			c.t.Fatal(err)
		}
		c.t.Cleanup(func() { db.Close() })
		c.db = db
	}
	return c.db
}
