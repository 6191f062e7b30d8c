// Package sqlbase holds what the SQL record stores, store/sqlite and
// store/postgres, share: loading the migrations from an fs.FS, a WHERE
// clause builder parameterized by placeholder style, LIKE escaping, and
// the assembly of the portable statements of case searches and audit
// listings, with their paging rules. SQL that differs between the dialects
// (schemas, locking, LIKE's ESCAPE syntax, column encodings) stays in each
// backend; so do executing statements and scanning rows, since the backends
// use different drivers (database/sql and pgx).
package sqlbase
