package file_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/blob/blobtest"
	"github.com/kuayang/kuayang/internal/blob/file"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := file.Open(filepath.Join(t.TempDir(), "objects"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestLayout checks the files a Put leaves: a read-only object, its
// record, and no temporary file, even after failed Puts.
func TestLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "objects")
	s, err := file.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("layout")
	sum := sha256.Sum256(content)
	if _, err := s.Put(t.Context(), "a/b", bytes.NewReader(content), 6, sum[:], blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// A wrong sum and a lost race leave nothing behind.
	if _, err := s.Put(t.Context(), "a/c", bytes.NewReader(content), 6, make([]byte, 32), blob.PutOptions{}); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Put wrong sum = %v", err)
	}
	if _, err := s.Put(t.Context(), "a/b", bytes.NewReader(content), 6, sum[:], blob.PutOptions{}); !errors.Is(err, blob.ErrExists) {
		t.Fatalf("Put again = %v", err)
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[.meta/a/b.json a/b]"; fmt.Sprint(files) != want {
		t.Errorf("files = %v, want %s", files, want)
	}
	fi, err := os.Stat(filepath.Join(root, "a", "b"))
	if err != nil || fi.Mode().Perm() != 0o444 {
		t.Errorf("object mode = %v, %v; want 0444", fi.Mode(), err)
	}
}

// TestUncommitted checks that an object file without its record (a Put
// cut short) is invisible but blocks its key, and that a key in the way
// of a directory reports ErrExists.
func TestUncommitted(t *testing.T) {
	root := t.TempDir()
	s, err := file.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "orphan"), []byte("x"), 0o444); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(t.Context(), "orphan"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(orphan) = %v, want ErrNotFound", err)
	}
	if l, err := s.List(t.Context(), ""); err != nil || len(l) != 0 {
		t.Errorf("List = %v, %v; want nothing", l, err)
	}
	x := sha256.Sum256([]byte("x"))
	if _, err := s.Put(t.Context(), "orphan", bytes.NewReader([]byte("x")), 1, x[:], blob.PutOptions{}); !errors.Is(err, blob.ErrExists) {
		t.Errorf("Put(orphan) = %v, want ErrExists", err)
	}
	if _, err := s.Put(t.Context(), "orphan/child", bytes.NewReader([]byte("x")), 1, x[:], blob.PutOptions{}); !errors.Is(err, blob.ErrExists) {
		t.Errorf("Put(orphan/child) = %v, want ErrExists", err)
	}
}
