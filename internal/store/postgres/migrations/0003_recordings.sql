-- 0003: organizations' retention, recordings, their segments, and the
-- public keys that sign recording manifests.
--
-- Times are timestamptz as in 0001; a NULL retain_until is a zero
-- RetainUntil. Media offsets are bigint microseconds. Codecs are '' for
-- none, else a JSON array of strings; gaps are the recorder's JSON, '' for
-- none. Ids are COLLATE "C" so that lists sort as in SQLite.

-- 0 and '' mean the defaults (3650 days, COMPLIANCE), applied by callers.
ALTER TABLE orgs
	ADD COLUMN retention_days integer NOT NULL DEFAULT 0 CHECK (retention_days >= 0),
	ADD COLUMN retention_mode text    NOT NULL DEFAULT '';

CREATE TABLE recordings (
	session_id   text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES sessions (id),
	state        text        NOT NULL,
	started_at   timestamptz NOT NULL,
	ended_at     timestamptz,
	sealed_at    timestamptz,
	manifest_key text        NOT NULL DEFAULT '',
	manifest_sha bytea       CHECK (manifest_sha IS NULL OR length(manifest_sha) = 32), -- NULL until sealed
	chain_head   text        NOT NULL DEFAULT '',
	key_id       text        NOT NULL DEFAULT '',
	failure      text        NOT NULL DEFAULT '',
	legal_hold   boolean     NOT NULL DEFAULT false,
	retain_until timestamptz
);

CREATE INDEX recordings_state ON recordings (state, started_at, session_id);

CREATE TABLE segments (
	session_id     text COLLATE "C" NOT NULL REFERENCES sessions (id),
	participant_id text COLLATE "C" NOT NULL,
	idx            integer     NOT NULL,
	key            text        NOT NULL UNIQUE CHECK (key <> ''), -- object key
	content_type   text        NOT NULL,
	bytes          bigint      NOT NULL CHECK (bytes >= 0),
	sha256         bytea       NOT NULL CHECK (length(sha256) = 32),
	wall_start     timestamptz NOT NULL,
	wall_end       timestamptz NOT NULL,
	media_start_us bigint      NOT NULL,
	media_end_us   bigint      NOT NULL,
	codecs         text        NOT NULL DEFAULT '',
	width          integer     NOT NULL DEFAULT 0,
	height         integer     NOT NULL DEFAULT 0,
	gaps           text        NOT NULL DEFAULT '',
	recovered      boolean     NOT NULL DEFAULT false,
	uploaded_at    timestamptz NOT NULL,
	retain_until   timestamptz,
	PRIMARY KEY (session_id, participant_id, idx)
);

CREATE INDEX segments_session_wall ON segments (session_id, wall_start, participant_id, idx);

CREATE TABLE signing_keys (
	id         text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''), -- ed25519:<16 hex>
	node       text        NOT NULL,
	public_pem text        NOT NULL,
	created_at timestamptz NOT NULL
);
