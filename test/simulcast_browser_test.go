package test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/evidence"
)

// Simulcast from the browser (docs/protocol.md): Chromium publishes its
// camera as three encodings, the node receives all three, the other page
// decodes it, a switch of cameras keeps them, and the sealed recording of
// the party's video has no hole. Like the other browser tests, in a
// network namespace of its own.

func TestSimulcastBrowser(t *testing.T) {
	runBrowserTest(t, "TestSimulcastBrowser", simulcastBrowser)
}

// encodingStats is one outbound video encoding of a page's publish
// connection.
type encodingStats struct {
	RID    string  `json:"rid"`
	Frames float64 `json:"frames"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Bytes  float64 `json:"bytes"`
	Limit  string  `json:"limit"`
}

const encodingsJS = `(async () => {
  const pc = window.kuayang.client.publishPC, out = [];
  if (pc) (await pc.getStats()).forEach((r) => {
    if (r.type === 'outbound-rtp' && r.kind === 'video') out.push({rid: r.rid || '', frames: r.framesEncoded || 0,
      width: r.frameWidth || 0, height: r.frameHeight || 0, bytes: r.bytesSent || 0, limit: r.qualityLimitationReason || ''});
  });
  return JSON.stringify(out);
})()`

// encodings is what a page's camera sends, by RID.
func encodings(tab staffTab) map[string]encodingStats {
	tab.t.Helper()
	var list []encodingStats
	if err := json.Unmarshal([]byte(tab.eval("outbound video", encodingsJS)), &list); err != nil {
		tab.t.Fatalf("outbound video: %v", err)
	}
	out := map[string]encodingStats{}
	for _, e := range list {
		out[e.RID] = e
	}
	return out
}

// goodNetworkJS tells the page's browser, from before its scripts run,
// that its uplink takes 1.5 Mbit/s at least (x-google-min-bitrate in the
// server's answer): loopback does, but on a machine busy with other tests
// the browser's delay-based estimate can stay below what the top layer
// needs, and the browser would rightly send two.
const goodNetworkJS = `(() => {
  const set = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (d, ...rest) {
    if (d && d.type === 'answer' && typeof d.sdp === 'string') {
      const sdp = d.sdp.replace(/a=rtpmap:(\d+) VP8\/90000\r\n/g, (line, pt) =>
        d.sdp.includes('a=fmtp:' + pt + ' ') ? line : line + 'a=fmtp:' + pt + ' x-google-min-bitrate=1500\r\n');
      d = {type: d.type, sdp};
    }
    return set.call(this, d, ...rest);
  };
})();`

func simulcastBrowser(t *testing.T) {
	n := startNode(t, func(c *config.Config) { c.SealGrace = time.Second })
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Chen Wei", Role: "party"}
	sessionID := recordedSession(t, n, "Mediation across the ocean", []*invitee{mediator, party})
	// Logged in before the call: a login's password hash takes a lot of
	// CPU from the browsers' encoders.
	mediatorAPI := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	tabs := caucusTabs(t, "simulcast", 2)
	for i, tab := range tabs {
		ctx, cancel := context.WithTimeout(tab.ctx, 10*time.Second)
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: goodNetworkJS})
		cancel()
		if err != nil {
			t.Fatalf("tab %d: adding the network script: %v", i, err)
		}
	}
	mt, pt := tabs[0], tabs[1]
	defer func() {
		if t.Failed() {
			t.Logf("the party's encodings: %+v", encodings(pt))
			// Packets the kernel dropped for want of buffer (the
			// namespace's own counters): a machine too busy to read them.
			if b, err := os.ReadFile("/proc/net/snmp"); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if strings.HasPrefix(line, "Udp: ") {
						t.Logf("%s", line)
					}
				}
			}
		}
	}()

	// The party alone (the recorder receives): the page sends the camera
	// as the three encodings, each with frames rising, and the node
	// receives three layers.
	joinRecorded(pt, party)
	joined := time.Now()
	var first map[string]encodingStats
	waitFor(t, 15*time.Second, "three encodings sending", func() bool {
		first = encodings(pt)
		return len(first) == 3 && first["q"].Frames > 0 && first["h"].Frames > 0 && first["f"].Frames > 0
	})
	metrics := n.URL() + "/metrics"
	waitFor(t, 10*time.Second, "the node receiving three layers", func() bool {
		return scrape(t, metrics, nil)["kuayang_simulcast_layers"] == 3
	})

	// The mediator decodes the party's video.
	joinRecorded(mt, mediator)
	decodingFrom(t, mt, "the mediator", party)

	// The mediator switches cameras (as the device picker does): the
	// encodings stay, and go on sending.
	switched := mt.eval("switching cameras", `(async () => {
	  const c = window.kuayang.client, old = c.localStream.getVideoTracks()[0];
	  const s = await navigator.mediaDevices.getUserMedia({video: {width: {ideal: 1280}, height: {ideal: 720}}});
	  await c.replaceTrack('video', s.getVideoTracks()[0]);
	  old.stop();
	  const sender = c.publishPC.getSenders().find((x) => x.track && x.track.kind === 'video');
	  return sender.getParameters().encodings.map((e) => e.rid).join(',');
	})()`)
	if switched != "q,h,f" {
		t.Errorf("encodings after switching cameras: %q, want q,h,f", switched)
	}
	switchedAt := encodings(mt)
	fromAt, from := time.Now(), encodings(pt)

	// Media for about 8 seconds in all.
	time.Sleep(time.Until(joined.Add(8 * time.Second)))
	last, mediatorLast := encodings(pt), encodings(mt)
	toAt := time.Now()
	for _, rid := range []string{"q", "h", "f"} {
		e := last[rid]
		t.Logf("encoding %s: %.0fx%.0f, %.0f frames, %.0f bytes, limited by %q", rid, e.Width, e.Height, e.Frames, e.Bytes, e.Limit)
		if e.Frames <= first[rid].Frames+10 {
			t.Errorf("encoding %s: %.0f frames, then %.0f", rid, first[rid].Frames, e.Frames)
		}
		if m := mediatorLast[rid]; m.Frames <= switchedAt[rid].Frames+10 {
			t.Errorf("the mediator's encoding %s after switching cameras: %.0f frames, then %.0f", rid, switchedAt[rid].Frames, m.Frames)
		}
	}
	if !(last["q"].Width < last["h"].Width && last["h"].Width < last["f"].Width) {
		t.Errorf("encoding widths q %.0f, h %.0f, f %.0f: want three sizes", last["q"].Width, last["h"].Width, last["f"].Width)
	}
	if m := scrape(t, metrics, nil); m["kuayang_simulcast_layers"] != 6 {
		t.Errorf("the node receives %v layers of the two cameras, want 6", m["kuayang_simulcast_layers"])
	}

	if status, out := mediatorAPI.do("POST", "/api/v1/sessions/"+sessionID+"/end", map[string]any{}); status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("ending the session: %d %v", status, out)
	}

	// The sealed recording verifies, and the party's video has no hole:
	// the manifest lists no gap of theirs, and of the frames their
	// browser sent on the top layer in a stretch of the call, the
	// recording misses no more than the manifest's shortest gap (a
	// quarter of a second) would hold. (A busy machine's encoder skips
	// frames: they are missing on both sides.)
	rec := waitSealed(t, clerk, sessionID, 30*time.Second)
	defer func() {
		if t.Failed() {
			b, _ := json.Marshal(rec)
			t.Logf("the recording: %s", b)
		}
	}()
	dir := t.TempDir()
	path := downloadBundle(t, clerk, sessionID, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	for _, g := range m.Gaps {
		t.Logf("gap %s %v to %v: %s", g.ParticipantID[:8], g.From.Format(time.StampMilli), g.To.Format(time.StampMilli), g.Reason)
		if g.ParticipantID == party.ID {
			t.Errorf("a gap in the party's media: %v to %v (%v), %s", g.From.Format(time.StampMilli), g.To.Format(time.StampMilli), g.To.Sub(g.From.Time), g.Reason)
		}
	}
	var video float64
	recorded := 0
	for _, sg := range m.Segments {
		file := filepath.Join(ext, "media", filepath.FromSlash(sg.Key))
		d := probe(t, file)
		if sg.ParticipantID != party.ID {
			continue
		}
		frames := videoFrameTimes(t, file)
		if len(frames) == 0 {
			t.Errorf("segment %d of the party has no video", sg.Index)
			continue
		}
		hole, at := 0.0, 0.0
		for i, f := range frames {
			if i > 0 && f-frames[i-1] > hole {
				hole, at = f-frames[i-1], frames[i-1]
			}
			if wall := sg.WallStart.Add(time.Duration(f * float64(time.Second))); !wall.Before(fromAt) && wall.Before(toAt) {
				recorded++
			}
		}
		video += frames[len(frames)-1] - frames[0]
		t.Logf("segment %d: %dx%d, %.2fs, video %.3fs to %.3fs in %d frames, longest interval %.3fs at %.3fs",
			sg.Index, sg.Width, sg.Height, d, frames[0], frames[len(frames)-1], len(frames), hole, at)
	}
	if video < 6 {
		t.Errorf("%.2fs of the party's video recorded, want most of the call", video)
	}
	sent := last["f"].Frames - from["f"].Frames
	span := toAt.Sub(fromAt)
	t.Logf("from %v to %v (%v) the party's browser sent %.0f frames on the top layer; %d are recorded", fromAt.Format(time.StampMilli), toAt.Format(time.StampMilli), span.Round(time.Millisecond), sent, recorded)
	if missing, allowed := sent-float64(recorded), sent*float64(250*time.Millisecond)/float64(span); missing > allowed {
		t.Errorf("%.0f frames of %.0f sent are not recorded: more than a quarter of a second of them (%.1f)", missing, sent, allowed)
	}
}

// videoFrameTimes lists the times in seconds of the video frames of a
// recorded file, in order.
func videoFrameTimes(t *testing.T, path string) []float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
		"-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var info struct {
		Packets []struct {
			PTS string `json:"pts_time"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	var times []float64
	for _, p := range info.Packets {
		if v, err := strconv.ParseFloat(p.PTS, 64); err == nil {
			times = append(times, v)
		}
	}
	sort.Float64s(times)
	return times
}
