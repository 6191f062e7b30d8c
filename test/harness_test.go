// Package test holds the end-to-end tests: real nodes started in-process on
// loopback, driven by Go WebRTC clients and by headless Chromium.
package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/demo"
	"github.com/kuayang/kuayang/internal/node"
	"github.com/kuayang/kuayang/internal/nodetest"
)

// testNode is a node on loopback with the demo records.
type testNode struct {
	*node.Node
	demo *demo.Result
	dir  string
}

// startNode starts a node on random loopback ports, advertising 127.0.0.1
// only, with the demo session created; its log goes to the test's log.
func startNode(t *testing.T, mutate ...func(*config.Config)) *testNode {
	t.Helper()
	w := &testWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) }) // runs last: no t.Log after the test
	n, res := nodetest.Start(t, w, mutate...)
	return &testNode{Node: n, demo: res, dir: n.Config().DataDir}
}

// invite returns the invite token of the demo participant at index i
// (0 mediator, 1 and 2 parties).
func (n *testNode) invite(t *testing.T, i int) string {
	t.Helper()
	u := n.demo.JoinURLs[i].URL
	j := strings.LastIndex(u, "/join/")
	if j < 0 {
		t.Fatalf("join url %q", u)
	}
	return u[j+len("/join/"):]
}

// joinAnswer is the answer of POST /api/v1/join.
type joinAnswer struct {
	JoinToken string `json:"join_token"`
	WSURL     string `json:"ws_url"`
	Session   struct {
		ID     string `json:"id"`
		Record bool   `json:"record"`
	} `json:"session"`
	Participant struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Role string `json:"role"`
	} `json:"participant"`
}

// postJSON posts body and decodes the answer into out; it returns the
// status and the raw body.
func postJSON(t *testing.T, url string, body any, out any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("decoding %s: %v", raw, err)
		}
	}
	return resp.StatusCode, raw
}

// joinToken exchanges invite i for a join token.
func (n *testNode) joinToken(t *testing.T, i int) joinAnswer {
	t.Helper()
	var a joinAnswer
	status, raw := postJSON(t, n.URL()+"/api/v1/join", map[string]string{"invite": n.invite(t, i)}, &a)
	if status != http.StatusOK {
		t.Fatalf("join token: %d %s", status, raw)
	}
	return a
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testWriter sends log lines to t.Log, or to stderr when KUAYANG_TEST_LOG
// is set.
type testWriter struct {
	t    *testing.T
	done atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if w.done.Load() {
		return len(p), nil
	}
	if os.Getenv("KUAYANG_TEST_LOG") != "" {
		fmt.Fprint(os.Stderr, string(p))
		return len(p), nil
	}
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// decodeJSON decodes a response body.
func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
