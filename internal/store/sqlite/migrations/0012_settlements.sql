-- 0012: settlement agreements drafted, signed and finalized in a session.
--
-- A settlement has numbered text versions; the mediator shares one, which
-- the signers sign: a signature belongs to the version it was made on, so
-- an edit (a new version) leaves the signatures of the old one behind,
-- kept as they were. final_* describe the signed PDF, written once.

CREATE TABLE settlements (
	id             TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	session_id     TEXT NOT NULL REFERENCES sessions (id),
	case_id        TEXT NOT NULL REFERENCES cases (id),
	org_id         TEXT NOT NULL REFERENCES orgs (id),
	template       TEXT NOT NULL,
	language       TEXT NOT NULL,
	created_by     TEXT NOT NULL REFERENCES participants (id),
	created_at     TEXT NOT NULL,
	shared_version INTEGER NOT NULL DEFAULT 0,
	final_key      TEXT,
	final_bytes    INTEGER,
	final_sha      BLOB,
	final_at       TEXT,
	final_by       TEXT,
	timestamp_key  TEXT
) STRICT;

CREATE INDEX settlements_session ON settlements (session_id, created_at, id);
CREATE INDEX settlements_case ON settlements (case_id, created_at, id);

CREATE TABLE settlement_versions (
	settlement_id TEXT NOT NULL REFERENCES settlements (id),
	version       INTEGER NOT NULL CHECK (version > 0),
	text          TEXT NOT NULL,
	sha256        BLOB NOT NULL,
	created_at    TEXT NOT NULL,
	shared_at     TEXT,
	PRIMARY KEY (settlement_id, version)
) STRICT;

CREATE TABLE settlement_signatures (
	settlement_id     TEXT NOT NULL,
	version           INTEGER NOT NULL,
	participant_id    TEXT NOT NULL REFERENCES participants (id),
	role              TEXT NOT NULL,
	typed_name        TEXT NOT NULL,
	name_matches      INTEGER NOT NULL,
	name_confirmed_by TEXT NOT NULL,
	strokes           TEXT NOT NULL,
	signed_at         TEXT NOT NULL,
	confirmed_at      TEXT,
	confirmed_by      TEXT NOT NULL,
	PRIMARY KEY (settlement_id, version, participant_id),
	FOREIGN KEY (settlement_id, version) REFERENCES settlement_versions (settlement_id, version)
) STRICT;
