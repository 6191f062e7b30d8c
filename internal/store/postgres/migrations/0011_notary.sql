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
	id           text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	org_id       text        NOT NULL,
	case_id      text        NOT NULL,
	session_id   text        NOT NULL REFERENCES sessions (id),
	name         text        NOT NULL,
	content_type text        NOT NULL,
	bytes        bigint      NOT NULL CHECK (bytes >= 0),
	sha256       bytea       NOT NULL CHECK (length(sha256) = 32),
	object_key   text        NOT NULL UNIQUE,
	uploaded_by  text        NOT NULL,
	uploaded_at  timestamptz NOT NULL,
	presented    text CHECK (presented IS NULL OR presented IN ('shown', 'signing')),
	presented_at timestamptz,
	presented_by text,
	against      text,
	mismatch     boolean     NOT NULL DEFAULT false
);

CREATE INDEX documents_session ON documents (session_id, uploaded_at, id);

CREATE TABLE journal_entries (
	id         text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	org_id     text        NOT NULL,
	case_id    text        NOT NULL,
	session_id text        NOT NULL REFERENCES sessions (id),
	account_id text        NOT NULL REFERENCES accounts (id),
	created_at timestamptz NOT NULL,
	corrects   text UNIQUE REFERENCES journal_entries (id),
	body       bytea       NOT NULL,
	sha256     bytea       NOT NULL CHECK (length(sha256) = 32),
	timestamp  bytea
);

CREATE INDEX journal_entries_session ON journal_entries (session_id, created_at, id);

CREATE FUNCTION journal_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'journal entries are immutable';
END;
$$;

CREATE TRIGGER journal_entries_no_update BEFORE UPDATE OR DELETE ON journal_entries
	FOR EACH ROW EXECUTE FUNCTION journal_entries_immutable();
