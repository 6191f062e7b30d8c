package recorder

import (
	"slices"
	"testing"
)

// TestUnpadder: padding-only packets are dropped and the others numbered
// on without a hole, also across the sequence number wrap, for late
// packets (retransmissions) and copies of dropped padding.
func TestUnpadder(t *testing.T) {
	type in struct {
		seq   uint16
		empty bool
	}
	cases := []struct {
		name string
		in   []in
		want []int // -1: dropped
	}{
		{"in order", []in{{10, false}, {11, true}, {12, true}, {13, false}, {14, false}, {15, true}, {16, false}},
			[]int{10, -1, -1, 11, 12, -1, 13}},
		{"wrap", []in{{65534, false}, {65535, true}, {0, false}, {1, true}, {2, false}},
			[]int{65534, -1, 65535, -1, 0}},
		{"late media after padding", []in{{100, false}, {102, true}, {103, false}, {101, false}, {104, false}},
			[]int{100, -1, 102, 101, 103}},
		{"copy of dropped padding", []in{{7, false}, {8, true}, {9, false}, {8, true}, {10, false}},
			[]int{7, -1, 8, -1, 9}},
		{"late padding fills its hole", []in{{20, false}, {22, false}, {21, true}, {23, false}},
			[]int{20, 22, 21, 23}},
		{"before the first", []in{{0, false}, {1, true}, {65535, false}, {2, false}},
			[]int{0, -1, 65535, 1}},
	}
	for _, c := range cases {
		var u unpadder
		var got []int
		for _, p := range c.in {
			if s, ok := u.seq(p.seq, p.empty); ok {
				got = append(got, int(s))
			} else {
				got = append(got, -1)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestUnpadderWindow: padding far back is forgotten but still counted,
// and a packet older than the window is dropped.
func TestUnpadderWindow(t *testing.T) {
	var u unpadder
	seq := uint16(40000)
	u.seq(seq, false)
	dropped := 0
	for i := range 3 * unpadWindow {
		seq++
		if _, ok := u.seq(seq, i%3 == 0); !ok {
			dropped++
		}
	}
	if len(u.drops) > unpadWindow/3+1 {
		t.Errorf("%d dropped padding remembered", len(u.drops))
	}
	seq++
	if s, ok := u.seq(seq, false); !ok || s != seq-uint16(dropped) {
		t.Errorf("after %d padding: %d %v, want %d", dropped, s, ok, seq-uint16(dropped))
	}
	if _, ok := u.seq(seq-unpadWindow, false); ok {
		t.Error("a packet older than the window went on")
	}
}
