-- 0003: organizations' retention, recordings, their segments, and the
-- public keys that sign recording manifests.
--
-- Times are TEXT as in 0001; a NULL retain_until is a zero RetainUntil.
-- Media offsets are INTEGER microseconds. Codecs are '' for none, else a
-- JSON array of strings; gaps are the recorder's JSON, '' for none.

-- 0 and '' mean the defaults (3650 days, COMPLIANCE), applied by callers.
ALTER TABLE orgs ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0 CHECK (retention_days >= 0);
ALTER TABLE orgs ADD COLUMN retention_mode TEXT NOT NULL DEFAULT '';

CREATE TABLE recordings (
	session_id   TEXT NOT NULL PRIMARY KEY REFERENCES sessions (id),
	state        TEXT NOT NULL,
	started_at   TEXT NOT NULL,
	ended_at     TEXT,
	sealed_at    TEXT,
	manifest_key TEXT NOT NULL DEFAULT '',
	manifest_sha BLOB CHECK (manifest_sha IS NULL OR length(manifest_sha) = 32), -- NULL until sealed
	chain_head   TEXT NOT NULL DEFAULT '',
	key_id       TEXT NOT NULL DEFAULT '',
	failure      TEXT NOT NULL DEFAULT '',
	legal_hold   INTEGER NOT NULL DEFAULT 0 CHECK (legal_hold IN (0, 1)),
	retain_until TEXT
) STRICT;

CREATE INDEX recordings_state ON recordings (state, started_at, session_id);

CREATE TABLE segments (
	session_id     TEXT NOT NULL REFERENCES sessions (id),
	participant_id TEXT NOT NULL,
	idx            INTEGER NOT NULL,
	key            TEXT NOT NULL UNIQUE CHECK (key <> ''), -- object key
	content_type   TEXT NOT NULL,
	bytes          INTEGER NOT NULL CHECK (bytes >= 0),
	sha256         BLOB NOT NULL CHECK (length(sha256) = 32),
	wall_start     TEXT NOT NULL,
	wall_end       TEXT NOT NULL,
	media_start_us INTEGER NOT NULL,
	media_end_us   INTEGER NOT NULL,
	codecs         TEXT NOT NULL DEFAULT '',
	width          INTEGER NOT NULL DEFAULT 0,
	height         INTEGER NOT NULL DEFAULT 0,
	gaps           TEXT NOT NULL DEFAULT '',
	recovered      INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1)),
	uploaded_at    TEXT NOT NULL,
	retain_until   TEXT,
	PRIMARY KEY (session_id, participant_id, idx)
) STRICT;

CREATE INDEX segments_session_wall ON segments (session_id, wall_start, participant_id, idx);

CREATE TABLE signing_keys (
	id         TEXT NOT NULL PRIMARY KEY CHECK (id <> ''), -- ed25519:<16 hex>
	node       TEXT NOT NULL,
	public_pem TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
