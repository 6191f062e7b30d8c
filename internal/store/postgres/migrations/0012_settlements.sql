-- 0012: settlement agreements drafted, signed and finalized in a session.
--
-- A settlement has numbered text versions; the mediator shares one, which
-- the signers sign: a signature belongs to the version it was made on, so
-- an edit (a new version) leaves the signatures of the old one behind,
-- kept as they were. final_* describe the signed PDF, written once.

CREATE TABLE settlements (
	id             text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	session_id     text NOT NULL REFERENCES sessions (id),
	case_id        text NOT NULL REFERENCES cases (id),
	org_id         text NOT NULL REFERENCES orgs (id),
	template       text NOT NULL,
	language       text NOT NULL,
	created_by     text NOT NULL REFERENCES participants (id),
	created_at     timestamptz NOT NULL,
	shared_version integer NOT NULL DEFAULT 0,
	final_key      text,
	final_bytes    bigint,
	final_sha      bytea,
	final_at       timestamptz,
	final_by       text,
	timestamp_key  text
);

CREATE INDEX settlements_session ON settlements (session_id, created_at, id);
CREATE INDEX settlements_case ON settlements (case_id, created_at, id);

CREATE TABLE settlement_versions (
	settlement_id text NOT NULL REFERENCES settlements (id),
	version       integer NOT NULL CHECK (version > 0),
	text          text NOT NULL,
	sha256        bytea NOT NULL,
	created_at    timestamptz NOT NULL,
	shared_at     timestamptz,
	PRIMARY KEY (settlement_id, version)
);

CREATE TABLE settlement_signatures (
	settlement_id     text NOT NULL,
	version           integer NOT NULL,
	participant_id    text NOT NULL REFERENCES participants (id),
	role              text NOT NULL,
	typed_name        text NOT NULL,
	name_matches      boolean NOT NULL,
	name_confirmed_by text NOT NULL,
	strokes           text NOT NULL,
	signed_at         timestamptz NOT NULL,
	confirmed_at      timestamptz,
	confirmed_by      text NOT NULL,
	PRIMARY KEY (settlement_id, version, participant_id),
	FOREIGN KEY (settlement_id, version) REFERENCES settlement_versions (settlement_id, version)
);
