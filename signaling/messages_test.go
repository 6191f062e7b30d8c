package signaling

import (
	"errors"
	"strings"
	"testing"

	"github.com/kuayang/kuayang/sfu"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantType string
		wantCode string
		wantRef  string
	}{
		{"join", `{"type":"join","version":1,"token":"t","consent":true}`, "join", "", ""},
		{"join extra field ignored", `{"type":"join","version":1,"token":"t","future":[1,2]}`, "join", "", ""},
		{"join without token", `{"type":"join","version":1}`, "", CodeBadMessage, "join"},
		{"join version as string", `{"type":"join","version":"1","token":"t"}`, "", CodeBadMessage, "join"},
		{"publish", `{"type":"publish","sdp":"v=0"}`, "publish", "", ""},
		{"publish empty sdp", `{"type":"publish","sdp":""}`, "", CodeBadMessage, "publish"},
		{"publish with a screen", `{"type":"publish","sdp":"v=0","screen":"2"}`, "publish", "", ""},
		{"publish screen not a string", `{"type":"publish","sdp":"v=0","screen":2}`, "", CodeBadMessage, "publish"},
		{"publish screen with a space", `{"type":"publish","sdp":"v=0","screen":"2 3"}`, "", CodeBadMessage, "publish"},
		{"publish screen too long", `{"type":"publish","sdp":"v=0","screen":"` + strings.Repeat("1", maxMid+1) + `"}`, "", CodeBadMessage, "publish"},
		{"publish huge sdp", `{"type":"publish","sdp":"` + strings.Repeat("a", maxSDP+1) + `"}`, "", CodeBadMessage, "publish"},
		{"answer", `{"type":"answer","sdp":"v=0"}`, "answer", "", ""},
		{"answer sdp number", `{"type":"answer","sdp":5}`, "", CodeBadMessage, "answer"},
		{"candidate", `{"type":"candidate","pc":"publish","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0"}}`, "candidate", "", ""},
		{"candidate bad pc", `{"type":"candidate","pc":"sideways","candidate":{"candidate":""}}`, "", CodeBadMessage, "candidate"},
		{"candidate missing", `{"type":"candidate","pc":"subscribe"}`, "", CodeBadMessage, "candidate"},
		{"state", `{"type":"state","audio":false}`, "state", "", ""},
		{"state empty", `{"type":"state"}`, "", CodeBadMessage, "state"},
		{"leave", `{"type":"leave"}`, "leave", "", ""},
		{"leading space", `  {"type":"leave"}`, "leave", "", ""},
		{"not json", `hello`, "", CodeBadJSON, ""},
		{"empty", ``, "", CodeBadJSON, ""},
		{"array", `[{"type":"join"}]`, "", CodeBadJSON, ""},
		{"truncated", `{"type":"join","tok`, "", CodeBadJSON, ""},
		{"null", `null`, "", CodeBadJSON, ""},
		{"no type", `{"token":"x"}`, "", CodeBadMessage, ""},
		{"type not string", `{"type":7}`, "", CodeBadJSON, ""},
		{"unknown type", `{"type":"teleport"}`, "", CodeUnknownType, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.in))
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if m.Type() != tt.wantType {
					t.Fatalf("type %q, want %q", m.Type(), tt.wantType)
				}
				return
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Decode error = %v (message %v), want *Error %s", err, m, tt.wantCode)
			}
			if perr.Code != tt.wantCode || perr.Ref != tt.wantRef {
				t.Fatalf("error %s ref %q, want %s ref %q (%s)", perr.Code, perr.Ref, tt.wantCode, tt.wantRef, perr.Message)
			}
			if perr.Message == "" {
				t.Fatal("error without a message")
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	if m, err := Decode([]byte(`{"type":"publish","sdp":"v=0","screen":"video-2"}`)); err != nil || m.(Publish).Screen != "video-2" || m.(Publish).SDP != "v=0" {
		t.Fatalf("publish with a screen: %+v %v", m, err)
	}
	if m, err := Decode([]byte(`{"type":"publish","sdp":"v=0"}`)); err != nil || m.(Publish).Screen != "" {
		t.Fatalf("publish without a screen: %+v %v", m, err)
	}
	m, err := Decode([]byte(`{"type":"candidate","pc":"subscribe","candidate":{"candidate":"c","sdpMid":"1","sdpMLineIndex":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := m.(Candidate)
	if c.PC != sfu.Subscribe || c.Candidate.Candidate != "c" || *c.Candidate.SDPMid != "1" || *c.Candidate.SDPMLineIndex != 2 {
		t.Fatalf("decoded %+v", c)
	}
	m, err = Decode([]byte(`{"type":"join","version":1,"token":"abc","consent":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if j := m.(Join); j.Version != 1 || j.Token != "abc" || !j.Consent {
		t.Fatalf("decoded %+v", j)
	}
}

func TestFatalCodes(t *testing.T) {
	for _, code := range []string{CodeTokenInvalid, CodeTokenExpired, CodeTokenUsed, CodeUnsupportedVersion, CodeJoinTimeout} {
		if !(&Error{Code: code}).Fatal() {
			t.Errorf("%s should end the connection", code)
		}
	}
	for _, code := range []string{CodeBadJSON, CodeBadMessage, CodeUnknownType, CodeBadSDP, CodeNotJoined, CodeConsentRequired} {
		if (&Error{Code: code}).Fatal() {
			t.Errorf("%s should not end the connection", code)
		}
	}
}

// FuzzDecode checks that no input panics the decoder and that every input
// either decodes or yields a protocol error with a known code.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"join","version":1,"token":"t","consent":true}`,
		`{"type":"publish","sdp":"v=0\r\n"}`,
		`{"type":"candidate","pc":"publish","candidate":{"candidate":"x","sdpMLineIndex":0}}`,
		`{"type":"state","audio":true,"video":false}`,
		`{"type":"leave"}`, `{}`, `[]`, `{"type":null}`, "\x00",
	} {
		f.Add([]byte(s))
	}
	known := map[string]bool{CodeBadJSON: true, CodeBadMessage: true, CodeUnknownType: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err == nil {
			if m == nil || decoders[m.Type()] == nil {
				t.Fatalf("decoded %v without a known type", m)
			}
			return
		}
		var perr *Error
		if !errors.As(err, &perr) || !known[perr.Code] {
			t.Fatalf("error %v has no known code", err)
		}
	})
}
