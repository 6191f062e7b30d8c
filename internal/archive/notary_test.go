package archive

import (
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
)

// The notary's steps and documents are events of the manifest, with their
// detail; other entries of the session are not.
func TestEventsCarryNotarySteps(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	extract := []*audit.Entry{
		{Time: t0, Action: "notary.step", Detail: `{"step":"identity_confirmed","note":"passport"}`},
		{Time: t0.Add(time.Second), Action: "chat.message", Detail: `{"text":"hi"}`},
		{Time: t0.Add(2 * time.Second), Action: "document.shown", Detail: `{"id":"d1"}`},
		{Time: t0.Add(3 * time.Second), Action: "document.mismatch", Detail: `{"id":"d2"}`},
		{Time: t0.Add(4 * time.Second), Action: "document.viewed", Detail: `{"id":"d1"}`},
	}
	evs := events(extract)
	if len(evs) != 3 || evs[0].Kind != "notary.step" || evs[0].Detail != extract[0].Detail || !evs[0].Time.Equal(t0) ||
		evs[1].Kind != "document.shown" || evs[2].Kind != "document.mismatch" {
		t.Fatalf("events %+v", evs)
	}
}
