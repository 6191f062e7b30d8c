package recorder

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// spoolFile is a segment file being written: buffered, flushed to the OS
// at least once a second (a process kill then loses at most that), and
// patched in place at the end (Cues, Duration). Write errors are kept, not
// returned: the muxer goroutine must never stop on them (it would block
// its writers), and the segment reports them when it closes.
type spoolFile struct {
	f *os.File

	mu     sync.Mutex // guards the fields below
	bw     *bufio.Writer
	err    error // first write error
	closed bool  // the muxer is done with the file
}

// createSpool creates path (and its directory) for writing.
func createSpool(path string) (*spoolFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("recorder: spool dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("recorder: create segment: %w", err)
	}
	return &spoolFile{f: f, bw: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Write implements io.Writer for the muxer.
func (s *spoolFile) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		_, s.err = s.bw.Write(p)
	}
	return len(p), nil
}

// WriteAt implements io.WriterAt for the muxer's final patches.
func (s *spoolFile) WriteAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	if s.err == nil {
		_, s.err = s.f.WriteAt(p, off)
	}
	return len(p), nil
}

// Close is called by the muxer when it has written everything: it
// flushes, and leaves the file open for finish.
func (s *spoolFile) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	return nil
}

// flush hands buffered bytes to the OS.
func (s *spoolFile) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil && !s.closed {
		s.err = s.bw.Flush()
	}
}

// failure returns the first write error.
func (s *spoolFile) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// seal syncs the finished file to disk and returns its size and SHA-256,
// read back from the file: the muxer patched its head at the end, so only
// the bytes on disk are the truth. The file is closed.
func (s *spoolFile) seal() (int64, []byte, error) {
	defer s.f.Close()
	if err := s.failure(); err != nil {
		return 0, nil, fmt.Errorf("recorder: write segment: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return 0, nil, fmt.Errorf("recorder: sync segment: %w", err)
	}
	return hashFile(s.f)
}

// hashFile returns the size and SHA-256 of f, read from its start.
func hashFile(f *os.File) (int64, []byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, nil, fmt.Errorf("recorder: hash segment: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, nil, fmt.Errorf("recorder: hash segment: %w", err)
	}
	return n, h.Sum(nil), nil
}

// syncDir makes renames and creations in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("recorder: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("recorder: sync dir: %w", err)
	}
	return nil
}
