-- 0001: organizations, staff accounts, cases, sessions, participants, invites.
--
-- Times are TEXT, UTC, fixed width: 2006-01-02T15:04:05.000000000Z.
-- NULL times are unset. Booleans are INTEGER 0 or 1.
-- Composite foreign keys make a session's org the org of its case, and an
-- invite's session the session of its participant.

CREATE TABLE orgs (
	id         TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	name       TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
) STRICT;

CREATE TABLE accounts (
	id            TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	org_id        TEXT NOT NULL REFERENCES orgs (id),
	email         TEXT NOT NULL COLLATE NOCASE UNIQUE, -- lower-cased by callers
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	disabled_at   TEXT
) STRICT;

CREATE INDEX accounts_org ON accounts (org_id);

CREATE TABLE cases (
	id         TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	org_id     TEXT NOT NULL REFERENCES orgs (id),
	kind       TEXT NOT NULL,
	number     TEXT NOT NULL,
	title      TEXT NOT NULL,
	status     TEXT NOT NULL,
	created_by TEXT REFERENCES accounts (id), -- NULL if not created by a person
	created_at TEXT NOT NULL,
	UNIQUE (org_id, number),
	UNIQUE (id, org_id)
) STRICT;

CREATE INDEX cases_created_by ON cases (created_by);

CREATE TABLE sessions (
	id              TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	case_id         TEXT NOT NULL,
	org_id          TEXT NOT NULL,
	title           TEXT NOT NULL,
	scheduled_start TEXT NOT NULL,
	scheduled_end   TEXT,
	time_zone       TEXT NOT NULL,
	record          INTEGER NOT NULL CHECK (record IN (0, 1)),
	waiting_room    INTEGER NOT NULL CHECK (waiting_room IN (0, 1)),
	state           TEXT NOT NULL,
	started_at      TEXT,
	ended_at        TEXT,
	created_at      TEXT NOT NULL,
	FOREIGN KEY (case_id, org_id) REFERENCES cases (id, org_id)
) STRICT;

CREATE INDEX sessions_case ON sessions (case_id, created_at, id);

CREATE TABLE participants (
	id           TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	session_id   TEXT NOT NULL REFERENCES sessions (id),
	account_id   TEXT REFERENCES accounts (id), -- NULL for parties and interpreters
	role         TEXT NOT NULL,
	display_name TEXT NOT NULL,
	language     TEXT NOT NULL,
	time_zone    TEXT NOT NULL,
	email        TEXT NOT NULL,
	consent_at   TEXT,
	joined_at    TEXT,
	left_at      TEXT,
	last_ip      TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	UNIQUE (id, session_id)
) STRICT;

CREATE INDEX participants_session ON participants (session_id, created_at, id);
CREATE INDEX participants_account ON participants (account_id);

CREATE TABLE invites (
	id             TEXT NOT NULL PRIMARY KEY CHECK (id <> ''),
	participant_id TEXT NOT NULL,
	session_id     TEXT NOT NULL,
	token_hash     BLOB NOT NULL UNIQUE CHECK (length(token_hash) > 0), -- SHA-256 of the token
	expires_at     TEXT NOT NULL,
	revoked_at     TEXT,
	created_at     TEXT NOT NULL,
	FOREIGN KEY (participant_id, session_id) REFERENCES participants (id, session_id)
) STRICT;

CREATE INDEX invites_participant ON invites (participant_id, created_at, id);
