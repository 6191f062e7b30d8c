package recorder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// EBML element ids the repair needs (Matroska specification).
const (
	idEBML        = 0x1A45DFA3
	idSegment     = 0x18538067
	idInfo        = 0x1549A966
	idDuration    = 0x4489
	idVoid        = 0xEC
	idCluster     = 0x1F43B675
	idTimecode    = 0xE7
	idSimpleBlock = 0xA3
	idCues        = 0x1C53BB6B
)

// errNotMatroska means the file does not start like the muxer's output.
var errNotMatroska = errors.New("recorder: not a matroska file written by the recorder")

// scanResult is what a scan of a segment file found.
type scanResult struct {
	segData     int64 // offset of the Segment's data: positions count from here
	validEnd    int64 // end of the last complete element
	durationOff int64 // offset of Duration's 8-byte float, 0 if none
	voidOff     int64 // the Void reserved for Cues (whole element), 0 if none
	voidSize    int64
	cuesOff     int64 // the Cues, 0 if none
	clusters    []clusterInfo
	lastMs      int64 // time of the last block
}

// clusterInfo locates one cluster.
type clusterInfo struct {
	off    int64 // offset of the cluster element
	tc     uint64
	track  uint64 // track of its first block, 0 if none
	blocks int
}

// element is one EBML element header.
type element struct {
	id       uint64
	off      int64 // offset of the id
	data     int64 // offset of the data
	size     int64 // -1 when unknown
	complete bool  // the header was read whole
}

// readVint reads an EBML variable-size integer at b[off:]; keepMarker
// keeps the length marker (element ids).
func readVint(b []byte, off int64, keepMarker bool) (v uint64, n int64, ok bool) {
	if off >= int64(len(b)) || b[off] == 0 {
		return 0, 0, false
	}
	n = 1
	for mask := byte(0x80); b[off]&mask == 0; mask >>= 1 {
		n++
	}
	if off+n > int64(len(b)) {
		return 0, 0, false
	}
	v = uint64(b[off])
	if !keepMarker {
		v &= 0xff >> n
	}
	for i := int64(1); i < n; i++ {
		v = v<<8 | uint64(b[off+i])
	}
	return v, n, true
}

// readElement reads the element header at off.
func readElement(b []byte, off int64) element {
	id, n, ok := readVint(b, off, true)
	if !ok {
		return element{}
	}
	size, m, ok := readVint(b, off+n, false)
	if !ok {
		return element{}
	}
	e := element{id: id, off: off, data: off + n + m, size: int64(size), complete: true}
	if size == 1<<(7*uint(m))-1 {
		e.size = -1
	}
	return e
}

// fits reports whether e's data lies within b.
func (e element) fits(b []byte) bool {
	return e.complete && e.size >= 0 && e.data+e.size <= int64(len(b))
}

// scanFile reads a segment file's structure.
func scanFile(path string) (scanResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return scanResult{}, fmt.Errorf("recorder: scan: %w", err)
	}
	return scan(b)
}

// scan walks the EBML header, the Segment's children and the clusters'
// children, and stops at the first incomplete element.
func scan(b []byte) (scanResult, error) {
	var r scanResult
	h := readElement(b, 0)
	if h.id != idEBML || !h.fits(b) {
		return r, errNotMatroska
	}
	seg := readElement(b, h.data+h.size)
	if seg.id != idSegment || !seg.complete {
		return r, errNotMatroska
	}
	r.segData, r.validEnd = seg.data, seg.data
	var cur *clusterInfo
	for off := seg.data; off < int64(len(b)); {
		e := readElement(b, off)
		if e.id == idCluster && e.complete {
			r.clusters = append(r.clusters, clusterInfo{off: e.off})
			cur = &r.clusters[len(r.clusters)-1]
			off, r.validEnd = e.data, e.data
			continue
		}
		if !e.fits(b) {
			break
		}
		r.element(b, e, cur)
		off = e.data + e.size
		r.validEnd = off
	}
	return r, nil
}

// element notes what one complete element tells: where Duration and the
// Cues reserve are, cluster times, block times.
func (r *scanResult) element(b []byte, e element, cur *clusterInfo) {
	switch {
	case e.id == idInfo:
		r.durationOff = findDuration(b[e.data : e.data+e.size])
		if r.durationOff > 0 {
			r.durationOff += e.data
		}
	case e.id == idCues:
		r.cuesOff = e.off
	case e.id == idVoid && r.voidOff == 0 && r.cuesOff == 0 && cur == nil:
		r.voidOff, r.voidSize = e.off, e.data+e.size-e.off
	case e.id == idTimecode && cur != nil:
		for _, c := range b[e.data : e.data+e.size] {
			cur.tc = cur.tc<<8 | uint64(c)
		}
	case e.id == idSimpleBlock && cur != nil:
		track, n, ok := readVint(b, e.data, false)
		if !ok || e.size < n+3 {
			return
		}
		rel := int16(binary.BigEndian.Uint16(b[e.data+n:]))
		if cur.blocks == 0 {
			cur.track = track
		}
		cur.blocks++
		r.lastMs = max(r.lastMs, int64(cur.tc)+int64(rel))
	}
}

// findDuration returns the offset in an Info element's data of the 8-byte
// Duration float, 0 if there is none.
func findDuration(info []byte) int64 {
	for off := int64(0); off < int64(len(info)); {
		e := readElement(info, off)
		if !e.fits(info) {
			return 0
		}
		if e.id == idDuration && e.size == 8 {
			return e.data
		}
		off = e.data + e.size
	}
	return 0
}

// repairFile makes a segment cut short playable and seekable: it truncates
// a trailing partial element and writes the Cues and Duration.
func repairFile(path string, patch bool) error {
	r, err := scanFile(path)
	if err != nil {
		return err
	}
	if err := os.Truncate(path, r.validEnd); err != nil {
		return fmt.Errorf("recorder: truncate: %w", err)
	}
	if !patch {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("recorder: repair: %w", err)
	}
	defer f.Close()
	if err := r.writeCues(f); err != nil {
		return err
	}
	if r.durationOff > 0 {
		var d [8]byte
		binary.BigEndian.PutUint64(d[:], math.Float64bits(float64(r.lastMs)))
		if _, err := f.WriteAt(d[:], r.durationOff); err != nil {
			return fmt.Errorf("recorder: write duration: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("recorder: repair: %w", err)
	}
	return nil
}

// writeCues writes a cue point per cluster into the reserved Void,
// thinning them out until they fit.
func (r *scanResult) writeCues(f *os.File) error {
	var points []webm.CuePoint
	for _, c := range r.clusters {
		if c.blocks > 0 {
			points = append(points, webm.CuePoint{CueTime: c.tc, CueTrackPositions: []webm.CueTrackPosition{
				{CueTrack: c.track, CueClusterPosition: uint64(c.off - r.segData)}}})
		}
	}
	if r.voidOff == 0 || r.cuesOff != 0 || len(points) == 0 {
		return nil
	}
	for {
		var buf bytes.Buffer
		cues := struct {
			Cues webm.Cues `ebml:"Cues"`
		}{webm.Cues{CuePoint: points}}
		if err := ebml.Marshal(&cues, &buf); err != nil {
			return fmt.Errorf("recorder: marshal cues: %w", err)
		}
		rest := r.voidSize - int64(buf.Len())
		if rest == 0 || rest >= 9 {
			if rest > 0 {
				buf.Write(voidElement(rest))
			}
			if _, err := f.WriteAt(buf.Bytes(), r.voidOff); err != nil {
				return fmt.Errorf("recorder: write cues: %w", err)
			}
			return nil
		}
		if len(points) == 1 {
			return nil
		}
		points = thin(points)
	}
}

// thin keeps every other cue point.
func thin(points []webm.CuePoint) []webm.CuePoint {
	out := points[:0:0]
	for i := 0; i < len(points); i += 2 {
		out = append(out, points[i])
	}
	return out
}

// voidElement is a Void element of exactly n (>= 9) bytes, with an 8-byte
// size.
func voidElement(n int64) []byte {
	v := make([]byte, n)
	v[0], v[1] = idVoid, 0x01
	size := uint64(n - 9)
	for i := range 7 {
		v[8-i] = byte(size >> (8 * i))
	}
	return v
}
