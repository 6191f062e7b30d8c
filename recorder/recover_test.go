package recorder

import (
	"bytes"
	"crypto/sha256"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyTree copies the regular files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o750); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// crashedSpool records 4 s of a segment that is still open, and returns a
// copy of the spool as a killed process leaves it (what was handed to the
// OS), plus the live spool, whose earlier segment is sealed.
func crashedSpool(t *testing.T) (crashed, live string) {
	t.Helper()
	c := makeClip(t, 320, 240, 4)
	r, clk, got, spool := newTestRecorder(t, 2*time.Second)
	f := newFeeder(t, r, clk, "gina", true, true)
	f.play(c, 0, nil)
	for deadline := time.Now().Add(5 * time.Second); len(got.all()) < 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("first segment not sealed")
		}
	}
	r.mu.Lock()
	p := r.parts[partKey{"gina", ""}]
	r.mu.Unlock()
	p.flush() // what the flusher does every half second
	crashed = t.TempDir()
	copyTree(t, spool, crashed)
	f.end()
	r.Close()
	return crashed, spool
}

func TestRecoverKilledSegment(t *testing.T) {
	crashed, live := crashedSpool(t)
	parts, _ := findFiles(crashed, partSuffix)
	if len(parts) != 1 {
		t.Fatalf("crashed spool holds %v, want one .part", parts)
	}
	tests := []struct {
		name string
		cut  int64 // bytes cut off the .part: a partial last element
	}{
		{"as flushed", 0},
		{"torn last block", 700},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, crashed, dir)
			part := filepath.Join(dir, strings.TrimPrefix(parts[0], crashed))
			if tc.cut > 0 {
				st, _ := os.Stat(part)
				if err := os.Truncate(part, st.Size()-tc.cut); err != nil {
					t.Fatal(err)
				}
			}
			segs, err := Recover(dir)
			if err != nil {
				t.Fatal(err)
			}
			checkRecovered(t, segs)
		})
	}
	// The live spool: every segment sealed, nothing to repair.
	segs, err := Recover(live)
	if err != nil || len(segs) != 2 || segs[0].Recovered || segs[1].Recovered {
		t.Errorf("live spool: %+v, %v", segs, err)
	}
}

// checkRecovered verifies the segments Recover returned for a crashed
// spool: the sealed first one and the recovered second one.
func checkRecovered(t *testing.T, segs []Segment) {
	t.Helper()
	if len(segs) != 2 || segs[0].Index != 0 || segs[1].Index != 1 || segs[0].Recovered || !segs[1].Recovered {
		t.Fatalf("recovered %+v", segs)
	}
	s := segs[1]
	b, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); !bytes.Equal(sum[:], s.SHA256) || s.Bytes != int64(len(b)) {
		t.Error("recovered segment's hash does not match its file")
	}
	p := checkSegment(t, s, true)
	got := s.WallEnd.Sub(s.WallStart).Seconds()
	if math.Abs(p.duration()-got) > 0.1 || got < 1 {
		t.Errorf("recovered duration: ffprobe %.2fs, sidecar %.2fs", p.duration(), got)
	}
	if left, _ := findFiles(filepath.Dir(s.Path), openSuffix); len(left) != 0 {
		t.Errorf("open metadata left: %v", left)
	}
}

// TestRecoverSegmentCutBeforeMedia: a process killed between opening a
// segment and writing its first block leaves an empty or header-only
// .part. Recovery drops it and goes on with the spool's other segments;
// a file that is not the muxer's output but holds clusters is kept aside
// and reported, not deleted.
func TestRecoverSegmentCutBeforeMedia(t *testing.T) {
	crashed, _ := crashedSpool(t)
	parts, _ := findFiles(crashed, partSuffix)
	if len(parts) != 1 {
		t.Fatalf("crashed spool holds %v, want one .part", parts)
	}
	whole, err := os.ReadFile(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	header, err := scan(whole)
	if err != nil || len(header.clusters) == 0 {
		t.Fatalf("scan of the crashed segment: %v", err)
	}
	tests := []struct {
		name    string
		body    []byte
		damaged bool
	}{
		{"empty", nil, false},
		{"torn header", whole[:20], false},
		{"header only", whole[:header.clusters[0].off], false},
		{"cluster without a whole block", whole[:header.clusters[0].off+12], false},
		{"overwritten header", append(make([]byte, 64), whole[64:]...), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, crashed, dir)
			part := filepath.Join(dir, strings.TrimPrefix(parts[0], crashed))
			if err := os.WriteFile(part, tc.body, 0o640); err != nil {
				t.Fatal(err)
			}
			segs, err := Recover(dir)
			if (err != nil) != tc.damaged {
				t.Fatalf("Recover: %v", err)
			}
			if len(segs) != 1 || segs[0].Index != 0 || segs[0].Recovered {
				t.Fatalf("recovered %+v, want the sealed first segment alone", segs)
			}
			left, _ := findFiles(dir, openSuffix)
			stillParts, _ := findFiles(dir, partSuffix)
			kept, _ := findFiles(dir, damagedSuffix)
			if len(left) != 0 || len(stillParts) != 0 {
				t.Errorf("left behind: %v %v", left, stillParts)
			}
			if tc.damaged != (len(kept) == 1) {
				t.Errorf("kept aside: %v", kept)
			}
			// A second start finds nothing more to do.
			if segs, err := Recover(dir); err != nil || len(segs) != 1 {
				t.Errorf("second recovery: %+v, %v", segs, err)
			}
		})
	}
}
