package test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestNetCheck: the pre-join page's network check. With the join token of
// its invite, a client's data channel to the node opens over the media
// port and its messages come back; without a valid token, or with an
// offer that is not one, the node says so with a stable code.
func TestNetCheck(t *testing.T) {
	n := startNode(t)
	var a joinAnswer
	if status, raw := postJSON(t, n.URL()+"/api/v1/join", map[string]string{"invite": n.invite(t, 1)}, &a); status != http.StatusOK {
		t.Fatalf("join: %d %s", status, raw)
	}
	pc, err := newAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	dc, err := pc.CreateDataChannel("netcheck", nil)
	if err != nil {
		t.Fatal(err)
	}
	echo := make(chan string, 1)
	dc.OnMessage(func(m webrtc.DataChannelMessage) { echo <- string(m.Data) })
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })
	offer, _ := pc.CreateOffer(nil)
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered

	for _, c := range []struct {
		token, sdp string
		status     int
		code       string
	}{
		{"forged", pc.LocalDescription().SDP, http.StatusUnauthorized, "token_invalid"},
		{a.JoinToken, "not an offer", http.StatusBadRequest, "bad_sdp"},
		{a.JoinToken, "", http.StatusBadRequest, "bad_sdp"},
	} {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		status, raw := postJSON(t, n.URL()+"/api/v1/netcheck", map[string]string{"token": c.token, "sdp": c.sdp}, nil)
		if err := json.Unmarshal(raw, &e); err != nil || status != c.status || e.Error.Code != c.code {
			t.Errorf("token %.8q sdp %.12q: %d %s, want %d %s", c.token, c.sdp, status, raw, c.status, c.code)
		}
	}

	var ans struct {
		SDP string `json:"sdp"`
	}
	if status, raw := postJSON(t, n.URL()+"/api/v1/netcheck", map[string]string{"token": a.JoinToken, "sdp": pc.LocalDescription().SDP}, &ans); status != http.StatusOK {
		t.Fatalf("netcheck: %d %s", status, raw)
	}
	if !bytes.Contains([]byte(ans.SDP), []byte("127.0.0.1")) {
		t.Fatalf("the answer offers no loopback candidate:\n%s", ans.SDP)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("the network check's channel did not open")
	}
	b, _ := json.Marshal(map[string]any{"seq": 1, "at": time.Now().UnixMilli()})
	_ = dc.Send(b)
	select {
	case got := <-echo:
		if got != string(b) {
			t.Fatalf("echo %q, want %q", got, b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo")
	}
}
