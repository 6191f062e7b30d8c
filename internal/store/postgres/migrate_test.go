package postgres

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

// embedded returns the embedded migrations and their versions.
func embedded(t *testing.T) ([]sqlbase.Migration, []int) {
	t.Helper()
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v (%d migrations)", err, len(ms))
	}
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	return ms, vs
}

// rawDB connects to a new, empty schema without migrating it.
func rawDB(t *testing.T, cfg *pgxpool.Config) *DB {
	t.Helper()
	db, err := connect(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// countRows returns the number of rows of table.
func countRows(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestReopenAppliesNothing(t *testing.T) {
	ctx := t.Context()
	cfg := newSchema(t)
	db := openCfg(t, cfg)
	if err := db.CreateOrg(ctx, &cases.Org{ID: store.NewID(), Name: "Court", CreatedAt: time.Now()}); err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	_ = db.Close()

	db = openCfg(t, cfg)
	applied, err := db.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Errorf("Migrate after reopen = %v, %v; want nothing applied", applied, err)
	}
	_, versions := embedded(t)
	latest := versions[len(versions)-1]
	if v, err := db.SchemaVersion(ctx); err != nil || v != latest {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, latest)
	}
	if n := countRows(t, db, "schema_migrations"); n != len(versions) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(versions))
	}
	if _, err := db.OrgByName(ctx, "Court"); err != nil {
		t.Errorf("OrgByName after reopen: %v", err)
	}
}

// TestConcurrentOpen opens three pools on one empty schema at once, as
// nodes starting together do: all must succeed.
func TestConcurrentOpen(t *testing.T) {
	cfg := newSchema(t)
	const n = 3
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			db, err := openConfig(t.Context(), cfg)
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				return
			}
			_ = db.Close()
		})
	}
	wg.Wait()
	db := openCfg(t, cfg)
	_, versions := embedded(t)
	if n := countRows(t, db, "schema_migrations"); n != len(versions) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(versions))
	}
}

// TestConcurrentMigrate runs three migrators, already connected, at the
// same instant: each migration must be applied by exactly one of them.
func TestConcurrentMigrate(t *testing.T) {
	cfg := newSchema(t)
	const n = 3
	dbs := make([]*DB, n)
	for i := range dbs {
		dbs[i] = rawDB(t, cfg)
	}
	start := make(chan struct{})
	results := make([][]int, n)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			applied, err := db.Migrate(t.Context())
			if err != nil {
				t.Errorf("Migrate %d: %v", i, err)
			}
			results[i] = applied
		})
	}
	close(start)
	wg.Wait()
	all := slices.Concat(results...)
	slices.Sort(all)
	if _, versions := embedded(t); !slices.Equal(all, versions) {
		t.Errorf("migrators applied %v together, want each of %v once", results, versions)
	}
}

func TestMigrateAppliesInOrderOnce(t *testing.T) {
	ctx := t.Context()
	db := rawDB(t, newSchema(t))
	ms := []sqlbase.Migration{
		{Version: 1, Name: "0001_a.sql", SQL: `CREATE TABLE t1 (x integer)`},
		{Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE t2 (x integer); INSERT INTO t2 SELECT 1; INSERT INTO t2 SELECT 2;`},
	}
	applied, err := db.migrate(ctx, ms[:1])
	if err != nil || !slices.Equal(applied, []int{1}) {
		t.Fatalf("migrate [1] = %v, %v; want [1]", applied, err)
	}
	applied, err = db.migrate(ctx, ms)
	if err != nil || !slices.Equal(applied, []int{2}) {
		t.Fatalf("migrate [1 2] = %v, %v; want [2]", applied, err)
	}
	if n := countRows(t, db, "t2"); n != 2 {
		t.Errorf("t2 has %d rows, want 2: multi-statement migration not fully applied", n)
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
		SQL: `CREATE TABLE half (x integer); INSERT INTO nowhere VALUES (1);`}
	known, _ := embedded(t)
	if _, err := db.migrate(ctx, append(known, bad)); err == nil {
		t.Fatal("migrate with a broken migration succeeded")
	}
	if v, _ := db.SchemaVersion(ctx); v != before {
		t.Errorf("SchemaVersion after failure = %d, want %d", v, before)
	}
	var exists bool
	err := db.pool.QueryRow(ctx, `SELECT to_regclass('half') IS NOT NULL`).Scan(&exists)
	if err != nil || exists {
		t.Errorf("table of the failed migration exists (%v, %v)", exists, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := t.Context()
	cfg := newSchema(t)
	db := openCfg(t, cfg)
	if _, err := db.pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatal(err)
	}
	if db, err := openConfig(ctx, cfg); err == nil {
		_ = db.Close()
		t.Fatal("Open of a database from a newer program succeeded")
	}
}
