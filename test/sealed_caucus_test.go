package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/testpg"
)

// TestRecordedCaucusIsSealedToMediator: in a recorded mediation the
// mediator opens a recorded private room with one party for a few
// seconds. The sealed manifest lists both members' segments of that time
// with the room's id and no gap; the other party's carry none. The clerk
// and the admin may not play them (403 sealed_to_mediator, audited), the
// clerk's bundle leaves their media out and still verifies (kuayang
// verify and evidence.Verify: INTACT, the sealed segments withheld); the
// mediator, who presided, plays them and exports a bundle that holds
// them and verifies with nothing withheld.
func TestRecordedCaucusIsSealedToMediator(t *testing.T) {
	media := realClip(t)
	n := startNode(t, recordingConfig(testpg.URL(t), miniotest.Shared(t).URL("sealed-"+store.NewID()[:12])))
	med := connectTo(t, n.URL(), n.invite(t, 0), media)
	p1 := connectTo(t, n.URL(), n.invite(t, 1), media)
	p2 := connectTo(t, n.URL(), n.invite(t, 2), media)
	all := []*client{med, p1, p2}
	for _, c := range all {
		flowing(t, c, 30, others(c, all)...)
	}
	time.Sleep(2 * time.Second)

	opened := time.Now()
	med.send(map[string]any{"type": "caucus_open", "members": []string{p1.self}, "record": true})
	rooms := expectMsg(t, p2, "rooms")
	list, _ := rooms["rooms"].([]any)
	if len(list) != 1 {
		t.Fatalf("rooms %v", rooms)
	}
	room, _ := list[0].(map[string]any)["id"].(string)
	time.Sleep(4 * time.Second)
	med.send(map[string]any{"type": "caucus_close", "all": true})
	closed := time.Now()
	time.Sleep(3 * time.Second)
	for _, c := range all {
		c.leave(t)
	}

	accounts := demoAccounts(n)
	clerk := staffClient(t, n.URL(), accounts, "clerk")
	admin := staffClient(t, n.URL(), accounts, "admin")
	mediator := staffClient(t, n.URL(), accounts, "mediator")
	sid := n.demo.SessionID
	waitSealed(t, clerk, sid, 60*time.Second)

	// The mediator's bundle: everything, nothing withheld.
	medDir := t.TempDir()
	medBundle := downloadBundle(t, mediator, sid, medDir)
	rep, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(medBundle) })
	if err != nil {
		t.Fatalf("the mediator's bundle does not verify: %v", err)
	}
	if len(rep.Withheld) != 0 {
		t.Errorf("the mediator's bundle withholds %d segments", len(rep.Withheld))
	}
	ext := filepath.Join(medDir, "x")
	unzip(t, medBundle, ext)
	m := manifestOf(t, ext)

	// The manifest: the members' time in the room is in sealed segments,
	// without a gap; the other party's segments carry no room.
	var sealed []evidence.Segment
	for _, c := range all {
		var in time.Duration
		for _, s := range m.Segments {
			if s.ParticipantID != c.self || s.Stream != "" {
				continue
			}
			switch {
			case s.Room == "":
			case c == p2 || s.Room != room:
				t.Errorf("%s: segment %d in room %q", c.name, s.Index, s.Room)
			case s.WallStart.Before(opened.Add(-time.Second)) || s.WallEnd.After(closed.Add(time.Second)):
				t.Errorf("%s: sealed segment %d from %s to %s, the room was open from %s to %s", c.name, s.Index,
					s.WallStart.Format("15:04:05.000"), s.WallEnd.Format("15:04:05.000"), opened.Format("15:04:05.000"), closed.Format("15:04:05.000"))
			default:
				in += s.WallEnd.Sub(s.WallStart.Time)
				sealed = append(sealed, s)
			}
		}
		if c == p2 {
			continue
		}
		if want := closed.Sub(opened); in < want-1500*time.Millisecond {
			t.Errorf("%s: %s recorded in the private room, which was open %s", c.name, in, want)
		}
		for _, g := range m.Gaps {
			if g.ParticipantID == c.self && g.From.Before(closed.Add(time.Second)) && g.To.After(opened) {
				t.Errorf("%s: a %s gap from %s to %s around the recorded private room", c.name, g.Reason,
					g.From.Format("15:04:05.000"), g.To.Format("15:04:05.000"))
			}
		}
	}
	if len(sealed) == 0 {
		t.Fatal("no sealed segments")
	}
	t.Logf("%d segments sealed to %s, %d in all", len(sealed), room, len(m.Segments))
	var ordinary evidence.Segment
	for _, s := range m.Segments {
		if s.Room == "" && s.ParticipantID == p1.self {
			ordinary = s
		}
	}

	// Playback: refused to the clerk and the admin, served to the mediator.
	seg := sealed[0]
	segPath := fmt.Sprintf("/api/v1/sessions/%s/segments/%s/%d", sid, seg.ParticipantID, seg.Index)
	for _, who := range []struct {
		name string
		c    *apiClient
		code int
	}{{"clerk", clerk, http.StatusForbidden}, {"admin", admin, http.StatusForbidden}, {"mediator", mediator, http.StatusSeeOther}} {
		status, code := play(t, who.c, segPath)
		if status != who.code || (who.code == http.StatusForbidden && code != "sealed_to_mediator") {
			t.Errorf("%s playing a sealed segment: %d %q", who.name, status, code)
		}
	}
	if status, _ := play(t, clerk, fmt.Sprintf("/api/v1/sessions/%s/segments/%s/%d", sid, ordinary.ParticipantID, ordinary.Index)); status != http.StatusSeeOther {
		t.Errorf("clerk playing an ordinary segment: %d", status)
	}
	// The clerk's listing has no link to sealed media.
	_, rec := clerk.do("GET", "/api/v1/sessions/"+sid+"/recordings?play=1", nil)
	listed := 0
	for _, p := range rec["participants"].([]any) {
		for _, s := range p.(map[string]any)["segments"].([]any) {
			s := s.(map[string]any)
			if s["room"] == room {
				listed++
				if s["sealed"] != true || s["url"] != "" {
					t.Errorf("a sealed segment listed to the clerk: %v", s)
				}
			} else if s["url"] == "" {
				t.Errorf("an ordinary segment without a link: %v", s)
			}
		}
	}
	if listed < len(sealed) {
		t.Errorf("the clerk's listing shows %d sealed segments, the manifest %d", listed, len(sealed))
	}
	_, audit := clerk.do("GET", "/api/v1/audit?session_id="+sid+"&access=1", nil)
	refusals := 0
	for _, e := range audit["entries"].([]any) {
		e := e.(map[string]any)
		if e["action"] == "recording.play" && strings.Contains(fmt.Sprint(e["detail"]), `"refused":"sealed_to_mediator"`) {
			refusals++
		}
	}
	if refusals != 2 {
		t.Errorf("%d refusals audited, want 2 (the clerk's and the admin's)", refusals)
	}

	// The clerk's bundle: the sealed media left out, INTACT all the same.
	clerkDir := t.TempDir()
	clerkBundle := downloadBundle(t, clerk, sid, clerkDir)
	rep, err = verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(clerkBundle) })
	if err != nil {
		t.Fatalf("the clerk's bundle does not verify: %v", err)
	}
	withheld := 0
	for _, s := range m.Segments {
		if s.Room != "" {
			withheld++
		}
	}
	if len(rep.Withheld) != withheld {
		t.Errorf("%d segments withheld from the clerk's bundle, %d are sealed", len(rep.Withheld), withheld)
	}
	out, err := exec.Command(kuayangBinary(t), "verify", clerkBundle).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "INTACT") || !strings.Contains(string(out), "sealed to the mediator") ||
		!strings.Contains(string(out), evidence.MediaDir+seg.Key) {
		t.Errorf("kuayang verify of the clerk's bundle: %v\n%s", err, out)
	}

	// An ordinary segment taken out of the mediator's bundle is missing.
	if err := os.Remove(filepath.Join(ext, filepath.FromSlash(evidence.MediaDir+ordinary.Key))); err != nil {
		t.Fatal(err)
	}
	_, err = verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenDir(ext) })
	var p *evidence.Problem
	if !errors.As(err, &p) || p.Kind != evidence.MissingFile || !strings.Contains(p.Detail, ordinary.Key) {
		t.Errorf("an ordinary segment removed: %v", err)
	}
}

// play asks for a segment's media without following the redirect: the
// status and the error code.
func play(t *testing.T, c *apiClient, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, errCode(out)
}
