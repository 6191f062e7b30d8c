package audit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func chain(n int) []*Entry {
	var out []*Entry
	var prev *Entry
	for i := 0; i < n; i++ {
		e := &Entry{Time: time.Date(2026, 11, 27, 8, 0, i, 123456789, time.UTC), ActorKind: ActorAccount,
			ActorID: "a1", Action: "case.view", OrgID: "o1", CaseID: "c1", IP: "127.0.0.1", Detail: `{"n":1}`}
		Seal(prev, e)
		out = append(out, e)
		prev = e
	}
	return out
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func([]*Entry) []*Entry
		wantErr string
	}{
		{"intact", func(es []*Entry) []*Entry { return es }, ""},
		{"altered field", func(es []*Entry) []*Entry { es[2].Action = "case.delete"; return es }, "at entry 3: its content"},
		{"altered ip", func(es []*Entry) []*Entry { es[0].IP = "10.0.0.1"; return es }, "at entry 1: its content"},
		{"deleted row", func(es []*Entry) []*Entry { return append(es[:1], es[2:]...) }, "at entry 3: expected entry 2"},
		{"deleted last rows is not detectable alone", func(es []*Entry) []*Entry { return es[:3] }, ""},
		{"swapped", func(es []*Entry) []*Entry { es[1], es[2] = es[2], es[1]; return es }, "expected entry 2"},
		{"rehashed alteration", func(es []*Entry) []*Entry {
			es[1].Detail = "{}"
			es[1].Hash = es[1].Sum()
			return es
		}, "at entry 3: it does not follow entry 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.tamper(chain(5)))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSealTruncatesToMicroseconds(t *testing.T) {
	es := chain(1)
	if es[0].Time.Nanosecond()%1000 != 0 || es[0].Seq != 1 || string(es[0].PrevHash) != string(Genesis) {
		t.Fatalf("%+v", es[0])
	}
	// A store that keeps microseconds gives back an entry that verifies.
	back := *es[0]
	back.Time = back.Time.Truncate(time.Microsecond).In(time.FixedZone("x", 3600))
	if err := Verify([]*Entry{&back}); err != nil {
		t.Fatal(err)
	}
}
