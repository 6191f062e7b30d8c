package evidence

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEncodeStable(t *testing.T) {
	f := newFixture(t)
	m, err := DecodeManifest(f.manifest)
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, f.manifest) {
		t.Fatalf("encode, decode, encode differs:\n%s\n---\n%s", f.manifest, again)
	}
	if !bytes.HasSuffix(f.manifest, []byte("}\n")) || !bytes.HasPrefix(f.manifest, []byte("{\n  \"format\": \"kuayang-manifest/1\",\n")) {
		t.Fatalf("layout:\n%s", f.manifest)
	}
	for _, want := range []string{`"sealed_at": "2026-11-27T08:10:00.000000Z"`, `"title": "Power of attorney <Milan>"`,
		`"number": "(2026)浙温证字第12号"`, `"key_id": "` + f.key.ID + `"`, `"chain_head": "` + f.m.ChainHead + `"`} {
		if !bytes.Contains(f.manifest, []byte(want)) {
			t.Errorf("manifest lacks %s", want)
		}
	}
	// Sorted: participants by id, segments in chain order, events by time.
	if ids := []string{m.Participants[0].ID, m.Participants[1].ID, m.Participants[2].ID}; strings.Join(ids, ",") != "p1,p2,p3" {
		t.Errorf("participants %v", ids)
	}
	if m.Segments[0].Key != "sessions/s1/p1/000000.webm" || m.Segments[1].Key != "sessions/s1/p2/000000.webm" || m.Segments[3].Key != "sessions/s1/p1/000001.webm" {
		t.Errorf("segments %s %s %s", m.Segments[0].Key, m.Segments[1].Key, m.Segments[3].Key)
	}
	if m.Events[0].Kind != EventRecordingStart {
		t.Errorf("events %+v", m.Events)
	}
}

func TestEncodeNormalizesTimes(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	build := func(loc *time.Location, extraNanos int) []byte {
		at := func(d time.Duration) Time {
			return Time{t0.Add(d).In(loc).Add(time.Duration(extraNanos))}
		}
		m := &Manifest{Software: "s", Node: "n", KeyID: "ed25519:0000000000000000", SealedAt: at(time.Hour),
			Session:      Session{ID: "s1", StartedAt: at(0)},
			Participants: []Participant{{ID: "p1", Presence: []Presence{{JoinedAt: at(0)}}}},
			Segments: []Segment{
				{ParticipantID: "p1", Index: 1, Key: "k/1", SHA256: strings.Repeat("a", 64), WallStart: at(30 * time.Second), WallEnd: at(time.Minute)},
				// Starts 300 ns after segment 1: the same microsecond, so
				// the order is by participant then index, whatever the ns.
				{ParticipantID: "p1", Index: 0, Key: "k/0", SHA256: strings.Repeat("b", 64), WallStart: Time{at(30 * time.Second).Add(300)}, WallEnd: at(time.Minute)},
			},
			Events: []Event{{Time: at(0), Kind: EventRecordingStart}},
		}
		m.Audit.SHA256 = strings.Repeat("c", 64)
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	utc := build(time.UTC, 0)
	if other := build(shanghai, 500); !bytes.Equal(utc, other) {
		t.Fatalf("time zones or nanoseconds change the encoding:\n%s\n---\n%s", utc, other)
	}
	if !bytes.Contains(utc, []byte(`"started_at": "2026-11-27T08:00:00.000000Z"`)) || bytes.Contains(utc, []byte("ended_at")) {
		t.Fatalf("times:\n%s", utc)
	}
	m, err := DecodeManifest(utc)
	if err != nil {
		t.Fatal(err)
	}
	if m.Segments[0].Key != "k/0" || checkOrder(m.Segments) != nil {
		t.Fatalf("order %s", m.Segments[0].Key)
	}
	if bytes.Contains(utc, []byte(`"left_at"`)) || !bytes.Contains(utc, []byte(`"codecs": []`)) || !bytes.Contains(utc, []byte(`"gaps": []`)) {
		t.Fatalf("omitted or empty fields:\n%s", utc)
	}
}

func TestDecodeStrict(t *testing.T) {
	f := newFixture(t)
	for name, b := range map[string]string{
		"unknown field":  strings.Replace(string(f.manifest), `"node"`, `"nodes": "x", "node"`, 1),
		"trailing data":  string(f.manifest) + "{}",
		"time with zone": strings.Replace(string(f.manifest), `"2026-11-27T08:10:00.000000Z"`, `"2026-11-27T16:10:00.000000+08:00"`, 1),
		"time in ms":     strings.Replace(string(f.manifest), `"2026-11-27T08:10:00.000000Z"`, `"2026-11-27T08:10:00.000Z"`, 1),
		"time a number":  strings.Replace(string(f.manifest), `"2026-11-27T08:10:00.000000Z"`, `1`, 1),
	} {
		if _, err := DecodeManifest([]byte(b)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	for name, edit := range map[string]func(m *Manifest){
		"unknown participant": func(m *Manifest) { m.Segments[0].ParticipantID = "nobody" },
		"unsafe key":          func(m *Manifest) { m.Segments[0].Key = "../etc/passwd" },
		"dot key":             func(m *Manifest) { m.Segments[0].Key = "a/.hidden" },
		"duplicate key":       func(m *Manifest) { m.Segments[1].Key = m.Segments[0].Key },
		"duplicate index": func(m *Manifest) {
			for i := range m.Segments {
				if m.Segments[i].ParticipantID == "p1" {
					m.Segments[i].Index = 0
				}
			}
		},
		"bad sha256":        func(m *Manifest) { m.Segments[0].SHA256 = strings.ToUpper(m.Segments[0].SHA256) },
		"no key id":         func(m *Manifest) { m.KeyID = "" },
		"other format":      func(m *Manifest) { m.Format = "kuayang-manifest/2" },
		"no audit sha256":   func(m *Manifest) { m.Audit.SHA256 = "" },
		"gap backwards":     func(m *Manifest) { m.Gaps[0].To = m.Gaps[0].From; m.Gaps[0].From = At(m.Gaps[0].From.Add(time.Second)) },
		"duplicate person":  func(m *Manifest) { m.Participants[1].ID = m.Participants[0].ID },
		"media time NaN":    func(m *Manifest) { m.Segments[0].MediaEnd = 0 / zero() },
		"no sealing time":   func(m *Manifest) { m.SealedAt = Time{} },
		"segment backwards": func(m *Manifest) { m.Segments[0].WallEnd = At(m.Segments[0].WallStart.Add(-time.Second)) },
	} {
		f := newFixture(t)
		m, _ := DecodeManifest(f.manifest)
		edit(m)
		if _, err := m.Encode(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func zero() float64 { return 0 }

func TestTimeJSON(t *testing.T) {
	var v struct {
		A Time `json:"a"`
		B Time `json:"b,omitzero"`
	}
	v.A = At(time.Date(2026, 1, 2, 3, 4, 5, 6007, time.FixedZone("X", -3600)))
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"a":"2026-01-02T04:04:05.000006Z"}` {
		t.Fatalf("%s %v", b, err)
	}
	v.A = Time{}
	if b, _ := json.Marshal(v); string(b) != `{"a":null}` {
		t.Fatalf("%s", b)
	}
	if err := json.Unmarshal([]byte(`{"a":null,"b":"2026-01-02T04:04:05.000006Z"}`), &v); err != nil || !v.A.IsZero() || v.B.Nanosecond() != 6000 || v.B.Location() != time.UTC {
		t.Fatalf("%+v %v", v, err)
	}
	if AtPtr(nil) != (Time{}) {
		t.Fatal("AtPtr(nil)")
	}
}
