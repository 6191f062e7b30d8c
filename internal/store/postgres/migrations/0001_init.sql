-- 0001: organizations, staff accounts, cases, sessions, participants, invites.
--
-- Times are timestamptz (microsecond precision); NULL times are unset.
-- Composite foreign keys make a session's org the org of its case, and an
-- invite's session the session of its participant.
-- Ids sort by byte value (COLLATE "C"), whatever the database's collation,
-- so that lists ordered by (created_at, id) come in the same order as SQLite.

CREATE TABLE orgs (
	id         text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	name       text        NOT NULL UNIQUE,
	created_at timestamptz NOT NULL
);

CREATE TABLE accounts (
	id            text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	org_id        text        NOT NULL REFERENCES orgs (id),
	email         text        NOT NULL, -- lower-cased by callers
	name          text        NOT NULL,
	role          text        NOT NULL,
	password_hash text        NOT NULL,
	created_at    timestamptz NOT NULL,
	disabled_at   timestamptz
);

-- Emails are unique, and looked up, ignoring case.
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));
CREATE INDEX accounts_org ON accounts (org_id);

CREATE TABLE cases (
	id         text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	org_id     text        NOT NULL REFERENCES orgs (id),
	kind       text        NOT NULL,
	number     text        NOT NULL,
	title      text        NOT NULL,
	status     text        NOT NULL,
	created_by text        REFERENCES accounts (id), -- NULL if not created by a person
	created_at timestamptz NOT NULL,
	UNIQUE (org_id, number),
	UNIQUE (id, org_id)
);

CREATE INDEX cases_created_by ON cases (created_by);

CREATE TABLE sessions (
	id              text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	case_id         text        NOT NULL,
	org_id          text        NOT NULL,
	title           text        NOT NULL,
	scheduled_start timestamptz NOT NULL,
	scheduled_end   timestamptz,
	time_zone       text        NOT NULL,
	record          boolean     NOT NULL,
	waiting_room    boolean     NOT NULL,
	state           text        NOT NULL,
	started_at      timestamptz,
	ended_at        timestamptz,
	created_at      timestamptz NOT NULL,
	FOREIGN KEY (case_id, org_id) REFERENCES cases (id, org_id)
);

CREATE INDEX sessions_case ON sessions (case_id, created_at, id);

CREATE TABLE participants (
	id           text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	session_id   text        NOT NULL REFERENCES sessions (id),
	account_id   text        REFERENCES accounts (id), -- NULL for parties and interpreters
	role         text        NOT NULL,
	display_name text        NOT NULL,
	language     text        NOT NULL,
	time_zone    text        NOT NULL,
	email        text        NOT NULL,
	consent_at   timestamptz,
	joined_at    timestamptz,
	left_at      timestamptz,
	last_ip      text        NOT NULL,
	created_at   timestamptz NOT NULL,
	UNIQUE (id, session_id)
);

CREATE INDEX participants_session ON participants (session_id, created_at, id);
CREATE INDEX participants_account ON participants (account_id);

CREATE TABLE invites (
	id             text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id <> ''),
	participant_id text        NOT NULL,
	session_id     text        NOT NULL,
	token_hash     bytea       NOT NULL UNIQUE CHECK (length(token_hash) > 0), -- SHA-256 of the token
	expires_at     timestamptz NOT NULL,
	revoked_at     timestamptz,
	created_at     timestamptz NOT NULL,
	FOREIGN KEY (participant_id, session_id) REFERENCES participants (id, session_id)
);

CREATE INDEX invites_participant ON invites (participant_id, created_at, id);
