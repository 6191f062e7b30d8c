package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/storetest"
)

// defaultTestURL is the server the tests use when KUAYANG_TEST_POSTGRES_URL
// is unset; CI sets the same.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// server is the database this test run creates on the server, and a pool
// on it for creating schemas. It is set up by the first test that needs it
// and dropped by TestMain.
var server struct {
	once        sync.Once
	adminURL    string          // the database to create the test database from
	dbName      string          // the test database, kuayang_test_<random>
	base        *pgxpool.Config // connects to the test database
	pool        *pgxpool.Pool   // on the test database, creates schemas
	unreachable bool            // no server answered at adminURL
	err         error           // why the test database could not be made
}

func TestMain(m *testing.M) {
	// Stores must return UTC whatever the local zone; make it not UTC.
	time.Local = time.FixedZone("UTC+8", 8*3600)
	code := m.Run()
	if err := dropTestDB(); err != nil {
		fmt.Fprintf(os.Stderr, "postgres tests: %v\n", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// testURL is the admin URL of the test server.
func testURL() string {
	if u := os.Getenv("KUAYANG_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

// redacted is u without its password, for messages.
func redacted(u string) string {
	if p, err := url.Parse(u); err == nil && p.Scheme != "" {
		return p.Redacted()
	}
	return "(KUAYANG_TEST_POSTGRES_URL)"
}

// needServer returns the configuration of the run's test database,
// creating it the first time. Without a server it fails the test under CI
// and skips it, loudly, elsewhere.
func needServer(t *testing.T) *pgxpool.Config {
	t.Helper()
	server.once.Do(setupServer)
	switch {
	case server.unreachable && os.Getenv("CI") == "":
		t.Skipf("SKIPPING PostgreSQL tests: no server at %s (%v); set KUAYANG_TEST_POSTGRES_URL",
			redacted(server.adminURL), server.err)
	case server.unreachable:
		t.Fatalf("no PostgreSQL server at %s (%v), and CI never skips", redacted(server.adminURL), server.err)
	case server.err != nil:
		t.Fatalf("PostgreSQL test database: %v", server.err)
	}
	return server.base
}

func setupServer() {
	server.adminURL = testURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(server.adminURL)
	if err != nil {
		server.err = fmt.Errorf("KUAYANG_TEST_POSTGRES_URL: %w", err)
		return
	}
	cfg.ConnectTimeout = 5 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		server.unreachable, server.err = true, err
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	server.err = createTestDB(ctx, conn)
}

// createTestDB creates the run's database and the pool on it.
func createTestDB(ctx context.Context, admin *pgx.Conn) error {
	name := "kuayang_test_" + store.NewID()[:12]
	_, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+
		` TEMPLATE template0 ENCODING 'UTF8'`)
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	server.dbName = name
	base, err := pgxpool.ParseConfig(server.adminURL)
	if err != nil {
		return err
	}
	base.ConnConfig.Database = name
	base.MaxConns = 4
	server.base = base
	server.pool, err = pgxpool.NewWithConfig(ctx, base)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", name, err)
	}
	return nil
}

// dropTestDB drops the run's database, if one was made.
func dropTestDB() error {
	if server.pool != nil {
		server.pool.Close()
	}
	if server.dbName == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server.adminURL)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", server.dbName, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, `DROP DATABASE `+pgx.Identifier{server.dbName}.Sanitize()+` WITH (FORCE)`)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", server.dbName, err)
	}
	return nil
}

// newSchema creates an empty schema in the run's database and returns a
// configuration whose connections put their tables there.
func newSchema(t *testing.T) *pgxpool.Config {
	t.Helper()
	cfg := needServer(t).Copy()
	cfg.ConnConfig.RuntimeParams["search_path"] = createSchema(t)
	return cfg
}

// createSchema creates an empty schema in the run's database and returns
// its name.
func createSchema(t *testing.T) string {
	t.Helper()
	needServer(t)
	name := "t_" + store.NewID()[:16]
	if _, err := server.pool.Exec(t.Context(), `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	return name
}

// openCfg opens a store with cfg, closed at the end of the test.
func openCfg(t *testing.T, cfg *pgxpool.Config) *DB {
	t.Helper()
	db, err := openConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// openTemp opens a store in a new, empty schema.
func openTemp(t *testing.T) *DB {
	t.Helper()
	return openCfg(t, newSchema(t))
}

func TestConformance(t *testing.T) {
	needServer(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestEmailIgnoresCase(t *testing.T) {
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

// TestForeignKeyIsNotConflict checks that a write to an unknown record is
// a plain error carrying the server's, not store.ErrConflict.
func TestForeignKeyIsNotConflict(t *testing.T) {
	db := openTemp(t)
	a := &cases.Account{ID: store.NewID(), OrgID: store.NewID(), Email: "x@example.org"}
	err := db.CreateAccount(t.Context(), a)
	var pe *pgconn.PgError
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) ||
		!errors.As(err, &pe) || pe.Code != "23503" {
		t.Errorf("CreateAccount(unknown org) = %v, want a wrapped foreign key violation (23503)", err)
	}
}

// TestTimesKeepMicroseconds checks the stored instant: microseconds kept,
// nanoseconds dropped, zone UTC.
func TestTimesKeepMicroseconds(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t)
	created := time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CST", 8*3600))
	o := &cases.Org{ID: store.NewID(), Name: "Court", CreatedAt: created}
	if err := db.CreateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := db.OrgByName(ctx, "Court")
	want := created.Truncate(time.Microsecond).UTC()
	if err != nil || got.CreatedAt != want {
		t.Errorf("OrgByName CreatedAt = %v, %v; want %v", got, err, want)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, u := range []string{
		"",
		"postgres://%zz",
		"postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
	} {
		if db, err := Open(ctx, u); err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

// TestOpenURL opens a store through Open with a URL that names the schema
// in search_path, as a deployment does.
func TestOpenURL(t *testing.T) {
	schema := createSchema(t)
	u, err := url.Parse(server.adminURL)
	if err != nil || u.Scheme == "" {
		t.Skipf("KUAYANG_TEST_POSTGRES_URL is not a URL: %v", err)
	}
	u.Path = "/" + server.dbName
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := Open(t.Context(), u.String())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = db.Close() }()
	var current string
	var tables int
	err = db.pool.QueryRow(t.Context(), `SELECT current_schema(), (SELECT count(*)
		FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_migrations')`,
		schema).Scan(&current, &tables)
	if err != nil || current != schema || tables != 1 {
		t.Errorf("current schema %q, %d schema_migrations in %q (%v); want the store in %q",
			current, tables, schema, err, schema)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// TestRefold: rows from before the search forms get theirs at the next
// migration.
func TestRefold(t *testing.T) {
	storetest.Refold(t,
		func(t *testing.T) store.Store { return openTemp(t) },
		func(t *testing.T, s store.Store, stmt string) {
			if _, err := s.(*DB).pool.Exec(t.Context(), stmt); err != nil {
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
			if _, err := s.(*DB).pool.Exec(t.Context(), stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		})
}

// TestAuditAcrossPools appends from three pools on one schema, as nodes
// sharing a database do: the advisory lock keeps the chain whole.
func TestAuditAcrossPools(t *testing.T) {
	cfg := newSchema(t)
	var stores []store.Store
	for range 3 {
		stores = append(stores, openCfg(t, cfg))
	}
	storetest.AppendConcurrently(t, stores, 12, 10)
}
