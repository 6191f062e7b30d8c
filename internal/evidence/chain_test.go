package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestChain(t *testing.T) {
	f := newFixture(t)
	segs := func() []Segment {
		m, _ := DecodeManifest(f.manifest)
		return m.Segments
	}
	head := f.m.ChainHead
	if err := CheckChain(segs(), head); err != nil {
		t.Fatal(err)
	}

	// The definition, spelled out for the first two segments.
	s := segs()
	b0, _ := segmentBytes(s[0])
	if !strings.Contains(string(b0), `"chain":""`) || strings.ContainsAny(string(b0), "\n ") {
		t.Fatalf("canonical segment %s", b0)
	}
	c0 := sha256.Sum256(append([]byte("kuayang-segment-chain/1\x00"), b0...))
	b1, _ := segmentBytes(s[1])
	c1 := sha256.Sum256(append(c0[:], b1...))
	if s[0].Chain != hex.EncodeToString(c0[:]) || s[1].Chain != hex.EncodeToString(c1[:]) || head != s[len(s)-1].Chain {
		t.Fatal("chain values differ from the definition")
	}
	empty := sha256.Sum256([]byte("kuayang-segment-chain/1"))
	if h, _ := Chain(nil); h != hex.EncodeToString(empty[:]) {
		t.Fatalf("empty head %s", h)
	}
	if err := CheckChain(nil, hex.EncodeToString(empty[:])); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		tamper func([]Segment) ([]Segment, string)
		want   string
	}{
		{"altered size", func(s []Segment) ([]Segment, string) { s[3].Bytes++; return s, head }, "entry 3 "},
		{"altered hash", func(s []Segment) ([]Segment, string) {
			s[5].SHA256 = strings.Repeat("0", 64)
			return s, head
		}, "entry 5 "},
		{"altered time", func(s []Segment) ([]Segment, string) { s[0].WallEnd = At(t0); return s, head }, "entry 0 "},
		{"deleted", func(s []Segment) ([]Segment, string) { return append(s[:2], s[3:]...), head }, "entry 2 "},
		{"inserted", func(s []Segment) ([]Segment, string) {
			return append(s[:4], append([]Segment{s[4]}, s[4:]...)...), head
		}, "entry 5 "},
		{"swapped", func(s []Segment) ([]Segment, string) { s[6], s[7] = s[7], s[6]; return s, head }, "entry 6 "},
		{"last removed", func(s []Segment) ([]Segment, string) { return s[:len(s)-1], head }, "chain_head"},
		{"head altered", func(s []Segment) ([]Segment, string) { return s, strings.Repeat("1", 64) }, "chain_head"},
		{"chain value altered", func(s []Segment) ([]Segment, string) { s[9].Chain = s[8].Chain; return s, head }, "entry 9 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckChain(tt.tamper(segs()))
			var p *Problem
			if !errors.As(err, &p) || p.Kind != ChainBroken || !strings.Contains(p.Detail, tt.want) {
				t.Fatalf("CheckChain = %v, want %q", err, tt.want)
			}
		})
	}
}
