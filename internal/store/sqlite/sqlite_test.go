package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
	"github.com/kuayang/kuayang/internal/store/storetest"
)

// openTemp opens a new database in a temporary directory, closed at the end
// of the test.
func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "kuayang.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func latestVersion(t *testing.T) int {
	t.Helper()
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v (%d migrations)", err, len(ms))
	}
	return sqlbase.Latest(ms)
}

func TestReopenAppliesNothing(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.CreateOrg(ctx, &cases.Org{ID: store.NewID(), Name: "Court", CreatedAt: time.Now()}); err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer func() { _ = db.Close() }()
	applied, err := db.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Errorf("Migrate after reopen = %v, %v; want nothing applied", applied, err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != latestVersion(t) {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, latestVersion(t))
	}
	var rows int
	known, _ := migrations() // one row each, whatever their numbers
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(known) {
		t.Errorf("schema_migrations has %d rows (%v), want %d", rows, err, len(known))
	}
	if _, err := db.OrgByName(ctx, "Court"); err != nil {
		t.Errorf("OrgByName after reopen: %v", err)
	}
}

// rawDB opens a database file without applying the embedded migrations.
func rawDB(t *testing.T) *DB {
	t.Helper()
	w, err := openPool(t.Context(), dsn(filepath.Join(t.TempDir(), "raw.db"), true), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return &DB{w: w, r: w}
}

func TestMigrateAppliesInOrderOnce(t *testing.T) {
	ctx := t.Context()
	db := rawDB(t)
	ms := []sqlbase.Migration{
		{Version: 1, Name: "0001_a.sql", SQL: `CREATE TABLE t1 (x INTEGER)`},
		{Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE t2 (x INTEGER); INSERT INTO t2 SELECT 1; INSERT INTO t2 SELECT 2;`},
	}
	applied, err := db.migrate(ctx, ms[:1])
	if err != nil || !slices.Equal(applied, []int{1}) {
		t.Fatalf("migrate [1] = %v, %v; want [1]", applied, err)
	}
	applied, err = db.migrate(ctx, ms)
	if err != nil || !slices.Equal(applied, []int{2}) {
		t.Fatalf("migrate [1 2] = %v, %v; want [2]", applied, err)
	}
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM t2`).Scan(&n); err != nil || n != 2 {
		t.Errorf("t2 has %d rows (%v), want 2: multi-statement migration not fully applied", n, err)
	}
	applied, err = db.migrate(ctx, ms)
	if err != nil || len(applied) != 0 {
		t.Errorf("third migrate = %v, %v; want nothing", applied, err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != 2 {
		t.Errorf("SchemaVersion = %d, %v; want 2", v, err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t)
	before, _ := db.SchemaVersion(ctx)
	bad := sqlbase.Migration{Version: before + 1, Name: "bad.sql",
		SQL: `CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);`}
	known, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.migrate(ctx, append(known, bad)); err == nil {
		t.Fatal("migrate with a broken migration succeeded")
	}
	if v, _ := db.SchemaVersion(ctx); v != before {
		t.Errorf("SchemaVersion after failure = %d, want %d", v, before)
	}
	var n int
	err = db.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("table of the failed migration exists (%d, %v)", n, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (9999, 'x')`)
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	if db, err := Open(ctx, path); err == nil {
		_ = db.Close()
		t.Fatal("Open of a database from a newer program succeeded")
	}
}

func TestPragmas(t *testing.T) {
	db := openTemp(t)
	want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "synchronous": "1"}
	for pool, p := range map[string]*DB{"writer": {r: db.w}, "reader": db} {
		for pragma, v := range want {
			var got string
			err := p.r.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got)
			if err != nil || got != v {
				t.Errorf("%s: PRAGMA %s = %q, %v; want %q", pool, pragma, got, err, v)
			}
		}
	}
	if _, err := db.r.ExecContext(t.Context(), `DELETE FROM orgs`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestEmailIgnoresASCIICase(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t)
	o := &cases.Org{ID: store.NewID(), Name: "Court", CreatedAt: time.Now()}
	a := &cases.Account{ID: store.NewID(), OrgID: o.ID, Email: "li@court.example", Role: cases.RoleClerk}
	if err := errors.Join(db.CreateOrg(ctx, o), db.CreateAccount(ctx, a)); err != nil {
		t.Fatal(err)
	}
	b := *a
	b.ID, b.Email = store.NewID(), "Li@Court.Example"
	if err := db.CreateAccount(ctx, &b); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateAccount(%q) = %v, want ErrConflict", b.Email, err)
	}
	got, err := db.AccountByEmail(ctx, "LI@court.example")
	if err != nil || got.ID != a.ID {
		t.Errorf("AccountByEmail(upper case) = %v, %v; want %s", got, err, a.ID)
	}
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir%20#x")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "k?mode=ro&x#y.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	if err := db.CreateOrg(t.Context(), &cases.Org{ID: store.NewID(), Name: "x"}); err != nil {
		t.Errorf("CreateOrg: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at the given path: %v", err)
	}
}

func TestOpenNeedsFile(t *testing.T) {
	for _, p := range []string{"", ":memory:"} {
		if db, err := Open(t.Context(), p); err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestTimeTextSortsAsTime(t *testing.T) {
	a := time.Date(2025, 1, 1, 0, 0, 0, 500_000_000, time.UTC) // .5s
	b := time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC)
	c := time.Date(2025, 1, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)) // = 00:00Z
	if !(encTime(c) < encTime(a) && encTime(a) < encTime(b)) {
		t.Errorf("encoded times do not sort: %s %s %s", encTime(c), encTime(a), encTime(b))
	}
	got, err := decTime(encTime(a))
	if err != nil || !got.Equal(a) || got.Location() != time.UTC {
		t.Errorf("decTime(encTime(%v)) = %v, %v", a, got, err)
	}
}

// TestRefold: rows from before the search forms get theirs at the next
// migration.
func TestRefold(t *testing.T) {
	storetest.Refold(t,
		func(t *testing.T) store.Store { return openTemp(t) },
		func(t *testing.T, s store.Store, stmt string) {
			if _, err := s.(*DB).w.ExecContext(t.Context(), stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		},
		func(t *testing.T, s store.Store) {
			if _, err := s.(*DB).Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		})
}

func TestAuditTamper(t *testing.T) {
	storetest.AuditTamper(t,
		func(t *testing.T) store.Store { return openTemp(t) },
		func(t *testing.T, s store.Store, stmt string) {
			if _, err := s.(*DB).w.ExecContext(t.Context(), stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		})
}

// TestAuditAcrossHandles appends from two handles on one database file, as
// two processes would: SQLite's write lock keeps the chain whole.
func TestAuditAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	var stores []store.Store
	for range 2 {
		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		stores = append(stores, db)
	}
	storetest.AppendConcurrently(t, stores, 8, 10)
}
