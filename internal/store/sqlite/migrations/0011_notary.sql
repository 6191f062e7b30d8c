-- 0011: the documents of notarization sessions and the notary's journal.
--
-- A document is a file the notary uploaded in the call: its content is a
-- write-once object (object_key); presented says how it was presented,
-- once: 'shown' (the document under notarization) or 'signing' (the
-- version presented for signing, compared with the one shown: against,
-- mismatch).
--
-- Journal entries are immutable: the triggers refuse any UPDATE or
-- DELETE. A correction is a new entry naming the entry it corrects; an
-- entry is corrected at most once, so the corrections form a chain.

CREATE TABLE documents (
	id           TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	org_id       TEXT NOT NULL,
	case_id      TEXT NOT NULL,
	session_id   TEXT NOT NULL REFERENCES sessions (id),
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	bytes        INTEGER NOT NULL CHECK (bytes >= 0),
	sha256       BLOB NOT NULL CHECK (length(sha256) = 32),
	object_key   TEXT NOT NULL UNIQUE,
	uploaded_by  TEXT NOT NULL,
	uploaded_at  TEXT NOT NULL,
	presented    TEXT CHECK (presented IS NULL OR presented IN ('shown', 'signing')),
	presented_at TEXT,
	presented_by TEXT,
	against      TEXT,
	mismatch     INTEGER NOT NULL DEFAULT 0 CHECK (mismatch IN (0, 1))
) STRICT;

CREATE INDEX documents_session ON documents (session_id, uploaded_at, id);

CREATE TABLE journal_entries (
	id         TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	org_id     TEXT NOT NULL,
	case_id    TEXT NOT NULL,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	account_id TEXT NOT NULL REFERENCES accounts (id),
	created_at TEXT NOT NULL,
	corrects   TEXT UNIQUE REFERENCES journal_entries (id),
	body       BLOB NOT NULL,
	sha256     BLOB NOT NULL CHECK (length(sha256) = 32),
	timestamp  BLOB
) STRICT;

CREATE INDEX journal_entries_session ON journal_entries (session_id, created_at, id);

CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN
	SELECT RAISE(ABORT, 'journal entries are immutable');
END;

CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN
	SELECT RAISE(ABORT, 'journal entries are immutable');
END;
