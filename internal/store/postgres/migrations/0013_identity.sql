-- 0013: identity verification: checks, their encrypted images, the
-- organizations' identity policies, the sessions' requirement, and the
-- nonces of provider callbacks (replay protection).
--
-- Ids are COLLATE "C" as in 0001. The MRZ is JSON, masked unless mrz_raw. An
-- image's wrapped_key is NULL once the image is deleted: the object it
-- decrypts stays in the write-once store, unreadable.

CREATE TABLE identity_checks (
	id              text COLLATE "C" NOT NULL PRIMARY KEY,
	session_id      text NOT NULL REFERENCES sessions (id),
	case_id         text NOT NULL REFERENCES cases (id),
	org_id          text NOT NULL REFERENCES orgs (id),
	participant_id  text NOT NULL REFERENCES participants (id),
	state           text NOT NULL,
	requested_by    text NOT NULL DEFAULT '',
	consent_at      timestamptz,
	refused_at      timestamptz,
	document_type   text NOT NULL DEFAULT '',
	mrz             text NOT NULL DEFAULT '',
	mrz_raw         boolean NOT NULL DEFAULT false,
	document_number text NOT NULL DEFAULT '',
	nationality     text NOT NULL DEFAULT '',
	challenge       text NOT NULL DEFAULT '',
	provider        text NOT NULL DEFAULT '',
	provider_state  text NOT NULL DEFAULT '',
	provider_score  double precision,
	provider_ref    text NOT NULL DEFAULT '',
	decision        text NOT NULL DEFAULT '',
	reason          text NOT NULL DEFAULT '',
	decided_by      text NOT NULL DEFAULT '',
	decided_by_name text NOT NULL DEFAULT '',
	decided_at      timestamptz,
	submitted_at    timestamptz,
	created_at      timestamptz NOT NULL
);

CREATE INDEX identity_checks_session ON identity_checks (session_id, created_at, id);
CREATE INDEX identity_checks_provider_ref ON identity_checks (provider, provider_ref) WHERE provider_ref <> '';

CREATE TABLE identity_images (
	check_id     text NOT NULL REFERENCES identity_checks (id),
	idx          integer NOT NULL CHECK (idx >= 0),
	kind         text NOT NULL,
	step         integer NOT NULL DEFAULT 0,
	prompt       text NOT NULL DEFAULT '',
	key          text NOT NULL UNIQUE CHECK (key <> ''),
	sha256       bytea NOT NULL CHECK (octet_length(sha256) = 32),
	bytes        integer NOT NULL CHECK (bytes >= 0),
	content_type text NOT NULL,
	width        integer NOT NULL DEFAULT 0,
	height       integer NOT NULL DEFAULT 0,
	wrapped_key  bytea,
	key_id       text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	deleted_at   timestamptz,
	PRIMARY KEY (check_id, idx)
);

CREATE INDEX identity_images_live ON identity_images (check_id) WHERE deleted_at IS NULL;

CREATE TABLE identity_policies (
	org_id               text NOT NULL PRIMARY KEY REFERENCES orgs (id),
	store_raw_numbers    boolean NOT NULL DEFAULT false,
	image_retention_days integer NOT NULL DEFAULT 0 CHECK (image_retention_days >= 0),
	updated_at           timestamptz NOT NULL
);

CREATE TABLE identity_sessions (
	session_id text NOT NULL PRIMARY KEY REFERENCES sessions (id),
	required   boolean NOT NULL,
	set_at     timestamptz NOT NULL
);

CREATE TABLE identity_nonces (
	nonce   text NOT NULL PRIMARY KEY,
	seen_at timestamptz NOT NULL
);
