package sqlbase

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	good := fstest.MapFS{
		"m/0002_b.sql":  {Data: []byte("B")},
		"m/0001_a.sql":  {Data: []byte("A")},
		"m/README.md":   {Data: []byte("not sql")},
		"m/0010_c.sql":  {Data: []byte("C")},
		"m/sub/x.sql/y": {Data: []byte("in a directory")},
	}
	ms, err := Load(good, "m")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, m := range ms {
		got = append(got, m.Version)
	}
	if !slices.Equal(got, []int{1, 2, 10}) || ms[0].SQL != "A" || ms[0].Name != "0001_a.sql" {
		t.Errorf("versions %v, first %q %q; want [1 2 10], 0001_a.sql A", got, ms[0].Name, ms[0].SQL)
	}
	if v := Latest(ms); v != 10 {
		t.Errorf("Latest = %d, want 10", v)
	}
	if v := Latest(nil); v != 0 {
		t.Errorf("Latest(nil) = %d, want 0", v)
	}
}

func TestLoadRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		fsys fstest.MapFS
		want string
	}{
		"duplicate": {fstest.MapFS{"m/0001_a.sql": {}, "m/1_b.sql": {}},
			"migrations 0001_a.sql and 1_b.sql share version 1"},
		"no number": {fstest.MapFS{"m/init.sql": {}}, "migration init.sql: name must be NNNN_description.sql"},
		"zero":      {fstest.MapFS{"m/0000_init.sql": {}}, "migration 0000_init.sql: name must be"},
		"negative":  {fstest.MapFS{"m/-1_init.sql": {}}, "migration -1_init.sql: name must be"},
		"no dir":    {fstest.MapFS{"x/0001_a.sql": {}}, "migrations: "},
	} {
		_, err := Load(tc.fsys, "m")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: Load error %v, want one starting %q", name, err, tc.want)
		}
	}
}
