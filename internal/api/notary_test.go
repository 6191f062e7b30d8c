package api

import (
	"testing"

	"github.com/kuayang/kuayang/internal/evidence"
)

// The notary's events are labelled on the timeline with the step and its
// note, or the document and its SHA-256.
func TestNotaryEventLabel(t *testing.T) {
	for _, tc := range []struct {
		ev   evidence.Event
		want string
	}{
		{evidence.Event{Kind: "notary.step", Detail: `{"step":"free_will","note":"repeated in Italian"}`}, "free_will: repeated in Italian"},
		{evidence.Event{Kind: "notary.step", Detail: `{"step":"signing"}`}, "signing"},
		{evidence.Event{Kind: "document.mismatch", Detail: `{"name":"procura.pdf","sha256":"ab12"}`}, "procura.pdf (SHA-256 ab12)"},
		{evidence.Event{Kind: "recording.start"}, "Recording started"},
		{evidence.Event{Kind: "notary.step", Detail: `not json`}, "notary.step"},
	} {
		if got := eventLabel(tc.ev); got != tc.want {
			t.Errorf("eventLabel(%s %s) = %q, want %q", tc.ev.Kind, tc.ev.Detail, got, tc.want)
		}
	}
}
