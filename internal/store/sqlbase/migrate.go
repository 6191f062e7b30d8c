package sqlbase

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema change: the SQL of a file NNNN_name.sql.
type Migration struct {
	Version int    // NNNN, positive
	Name    string // the file's base name
	SQL     string
}

// Load reads the *.sql files of dir in fsys, sorted by version. File names
// must start with a positive version number followed by '_', and no two
// may share a version. Its errors start with "migration" or "migrations";
// callers add the name of their backend.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m, err := read(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d",
				ms[i-1].Name, ms[i].Name, ms[i].Version)
		}
	}
	return ms, nil
}

func read(fsys fs.FS, name string) (Migration, error) {
	base := path.Base(name)
	num, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v <= 0 {
		return Migration{}, fmt.Errorf("migration %s: name must be NNNN_description.sql", base)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Migration{}, fmt.Errorf("migration %s: %w", base, err)
	}
	return Migration{Version: v, Name: base, SQL: string(b)}, nil
}

// Latest is the version of the last of ms, sorted as Load sorts them, or 0
// if there are none.
func Latest(ms []Migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}
