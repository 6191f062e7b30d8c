package sqlbase

import (
	"slices"
	"testing"
	"time"
)

func TestCodecs(t *testing.T) {
	for _, in := range [][]string{
		{"vp8"},
		{"avc1.42E01E", "mp4a.40.2"},
		{"a,b", `q"uote\`, "", "张三"},
	} {
		s := EncodeCodecs(in)
		got, err := DecodeCodecs(s)
		if err != nil || !slices.Equal(got, in) || got == nil {
			t.Errorf("DecodeCodecs(EncodeCodecs(%q)) = %q (stored %q), %v", in, got, s, err)
		}
	}
	for _, none := range [][]string{nil, {}} {
		if s := EncodeCodecs(none); s != "" {
			t.Errorf("EncodeCodecs(%#v) = %q, want \"\"", none, s)
		}
	}
	for _, s := range []string{"", "[]", "null"} {
		if got, err := DecodeCodecs(s); err != nil || got != nil {
			t.Errorf("DecodeCodecs(%q) = %#v, %v; want nil", s, got, err)
		}
	}
	if _, err := DecodeCodecs("vp8,opus"); err == nil {
		t.Error("DecodeCodecs(not JSON) succeeded")
	}
}

func TestMicros(t *testing.T) {
	for _, d := range []time.Duration{0, time.Microsecond, 90*time.Minute + 123456*time.Microsecond, -time.Second} {
		if got := FromMicros(Micros(d)); got != d {
			t.Errorf("FromMicros(Micros(%v)) = %v", d, got)
		}
	}
	if got := Micros(1999 * time.Nanosecond); got != 1 {
		t.Errorf("Micros(1999ns) = %d, want 1", got)
	}
}
