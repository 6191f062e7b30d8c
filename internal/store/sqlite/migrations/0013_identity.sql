-- 0013: identity verification: checks, their encrypted images, the
-- organizations' identity policies, the sessions' requirement, and the
-- nonces of provider callbacks (replay protection).
--
-- Times are TEXT as in 0001. The MRZ is JSON, masked unless mrz_raw. An
-- image's wrapped_key is NULL once the image is deleted: the object it
-- decrypts stays in the write-once store, unreadable.

CREATE TABLE identity_checks (
	id              TEXT NOT NULL PRIMARY KEY,
	session_id      TEXT NOT NULL REFERENCES sessions (id),
	case_id         TEXT NOT NULL REFERENCES cases (id),
	org_id          TEXT NOT NULL REFERENCES orgs (id),
	participant_id  TEXT NOT NULL REFERENCES participants (id),
	state           TEXT NOT NULL,
	requested_by    TEXT NOT NULL DEFAULT '',
	consent_at      TEXT,
	refused_at      TEXT,
	document_type   TEXT NOT NULL DEFAULT '',
	mrz             TEXT NOT NULL DEFAULT '',
	mrz_raw         INTEGER NOT NULL DEFAULT 0 CHECK (mrz_raw IN (0, 1)),
	document_number TEXT NOT NULL DEFAULT '',
	nationality     TEXT NOT NULL DEFAULT '',
	challenge       TEXT NOT NULL DEFAULT '',
	provider        TEXT NOT NULL DEFAULT '',
	provider_state  TEXT NOT NULL DEFAULT '',
	provider_score  REAL,
	provider_ref    TEXT NOT NULL DEFAULT '',
	decision        TEXT NOT NULL DEFAULT '',
	reason          TEXT NOT NULL DEFAULT '',
	decided_by      TEXT NOT NULL DEFAULT '',
	decided_by_name TEXT NOT NULL DEFAULT '',
	decided_at      TEXT,
	submitted_at    TEXT,
	created_at      TEXT NOT NULL
) STRICT;

CREATE INDEX identity_checks_session ON identity_checks (session_id, created_at, id);
CREATE INDEX identity_checks_provider_ref ON identity_checks (provider, provider_ref) WHERE provider_ref <> '';

CREATE TABLE identity_images (
	check_id     TEXT NOT NULL REFERENCES identity_checks (id),
	idx          INTEGER NOT NULL CHECK (idx >= 0),
	kind         TEXT NOT NULL,
	step         INTEGER NOT NULL DEFAULT 0,
	prompt       TEXT NOT NULL DEFAULT '',
	key          TEXT NOT NULL UNIQUE CHECK (key <> ''),
	sha256       BLOB NOT NULL CHECK (length(sha256) = 32),
	bytes        INTEGER NOT NULL CHECK (bytes >= 0),
	content_type TEXT NOT NULL,
	width        INTEGER NOT NULL DEFAULT 0,
	height       INTEGER NOT NULL DEFAULT 0,
	wrapped_key  BLOB,
	key_id       TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL,
	deleted_at   TEXT,
	PRIMARY KEY (check_id, idx)
) STRICT;

CREATE INDEX identity_images_live ON identity_images (check_id) WHERE deleted_at IS NULL;

CREATE TABLE identity_policies (
	org_id               TEXT NOT NULL PRIMARY KEY REFERENCES orgs (id),
	store_raw_numbers    INTEGER NOT NULL DEFAULT 0 CHECK (store_raw_numbers IN (0, 1)),
	image_retention_days INTEGER NOT NULL DEFAULT 0 CHECK (image_retention_days >= 0),
	updated_at           TEXT NOT NULL
) STRICT;

CREATE TABLE identity_sessions (
	session_id TEXT NOT NULL PRIMARY KEY REFERENCES sessions (id),
	required   INTEGER NOT NULL CHECK (required IN (0, 1)),
	set_at     TEXT NOT NULL
) STRICT;

CREATE TABLE identity_nonces (
	nonce   TEXT NOT NULL PRIMARY KEY,
	seen_at TEXT NOT NULL
) STRICT;
