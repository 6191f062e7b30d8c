package recorder

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Recover closes what a crashed recorder left in spoolDir and returns every
// sealed segment still there (sidecar present), sorted by session,
// participant and index: those not yet uploaded.
//
// A segment being written when the process died is a .part file with an
// open-metadata file. Its clusters were written streaming (unknown sizes),
// so it is playable up to its last complete element: Recover cuts off a
// trailing partial element, writes the Cues and Duration the muxer would
// have written at close, hashes the result, renames it and writes its
// sidecar marked Recovered.
func Recover(spoolDir string) ([]Segment, error) {
	opens, err := findFiles(spoolDir, openSuffix)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, open := range opens {
		if err := recoverOne(strings.TrimSuffix(open, openSuffix)); err != nil {
			errs = append(errs, err)
		}
	}
	segs, err := sealedSegments(spoolDir)
	return segs, errors.Join(append(errs, err)...)
}

// findFiles lists the files under dir whose names end in suffix.
func findFiles(dir, suffix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), suffix) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recorder: scan spool: %w", err)
	}
	return out, nil
}

// recoverOne closes the segment whose open-metadata file is base+openSuffix.
func recoverOne(base string) error {
	if _, err := os.Stat(base + sidecarSuffix); err == nil {
		// Sealed; only the clean-up was lost.
		return sealMeta(base, mustRead(base+sidecarSuffix))
	}
	meta, err := readSegment(base + openSuffix)
	if err != nil {
		return err
	}
	final := base + filepath.Ext(meta.Key)
	part := final + partSuffix
	if _, err := os.Stat(part); err == nil {
		if empty, err := discardEmpty(base, part); empty || err != nil {
			return err
		}
		err = repairFile(part, true)
		if err == nil {
			err = os.Rename(part, final)
		}
		if err != nil {
			return fmt.Errorf("recorder: recover %s: %w", part, err)
		}
	}
	return sealRecovered(base, final, meta)
}

// discardEmpty removes a segment cut before it held a media block: the
// process died between opening the file and the buffered writer's first
// flush, or before the first frame. Such a file has nothing to recover
// and no time to account for. A file that does not start like the
// muxer's output but may hold clusters is not guessed at: it is kept
// beside the spool's segments as .damaged, and the error says where.
func discardEmpty(base, part string) (bool, error) {
	b, err := os.ReadFile(part)
	if err != nil {
		return false, fmt.Errorf("recorder: recover %s: %w", part, err)
	}
	r, err := scan(b)
	switch {
	case err == nil && r.blocks() > 0:
		return false, nil
	case err != nil && bytes.Contains(b, clusterID):
		kept := part + damagedSuffix
		if rerr := os.Rename(part, kept); rerr != nil {
			return false, fmt.Errorf("recorder: recover %s: %w (and keeping it aside: %v)", part, err, rerr)
		}
		_ = os.Remove(base + openSuffix)
		return false, fmt.Errorf("recorder: recover %s: %w; kept as %s for inspection", part, err, kept)
	}
	for _, p := range []string{part, base + openSuffix} {
		if err := os.Remove(p); err != nil {
			return false, fmt.Errorf("recorder: recover: removing a segment that held no media: %w", err)
		}
	}
	return true, nil
}

// clusterID is a Cluster element's id as it appears in a file.
var clusterID = []byte{0x1F, 0x43, 0xB6, 0x75}

// blocks counts the media blocks found.
func (r scanResult) blocks() int {
	n := 0
	for _, c := range r.clusters {
		n += c.blocks
	}
	return n
}

// mustRead reads a sidecar, returning the zero Segment when it cannot.
func mustRead(path string) Segment {
	s, _ := readSegment(path)
	return s
}

// sealRecovered fills in what the open metadata lacks and writes the
// sidecar.
func sealRecovered(base, final string, meta Segment) error {
	scan, err := scanFile(final)
	if err != nil {
		return fmt.Errorf("recorder: recover %s: %w", final, err)
	}
	f, err := os.Open(final)
	if err != nil {
		return fmt.Errorf("recorder: recover: %w", err)
	}
	size, sum, err := hashFile(f)
	f.Close()
	if err != nil {
		return err
	}
	d := time.Duration(scan.lastMs) * time.Millisecond
	meta.Path, meta.Bytes, meta.SHA256, meta.Recovered = final, size, sum, true
	meta.WallEnd, meta.MediaEnd = meta.WallStart.Add(d), meta.MediaStart+d
	return sealMeta(base, meta)
}

// sealedSegments reads every sidecar under dir whose file is present.
func sealedSegments(dir string) ([]Segment, error) {
	paths, err := findFiles(dir, sidecarSuffix)
	if err != nil {
		return nil, err
	}
	var segs []Segment
	var errs []error
	for _, p := range paths {
		if strings.HasSuffix(p, openSuffix) {
			continue
		}
		s, err := readSegment(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := os.Stat(s.Path); err == nil {
			segs = append(segs, s)
		}
	}
	slices.SortFunc(segs, func(a, b Segment) int {
		return strings.Compare(fmt.Sprintf("%s\x00%s\x00%09d", a.SessionID, a.ParticipantID, a.Index),
			fmt.Sprintf("%s\x00%s\x00%09d", b.SessionID, b.ParticipantID, b.Index))
	})
	return segs, errors.Join(errs...)
}
