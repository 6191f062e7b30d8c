-- 0010: organizations' office hours, and sessions whose time a party books.
--
-- office_hours: one row per organization that has set its hours. weekly is
-- JSON {"mon": ["14:00-22:00"], ...} in the organization's zone (text, as
-- in SQLite); closed is a JSON array of dates (YYYY-MM-DD) without service.
-- session_booking: a row opens a session for self-booking; booked_at and
-- booked_by (a participant) are set when a party books its time.

CREATE TABLE office_hours (
	org_id       text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES orgs (id),
	time_zone    text        NOT NULL,
	slot_minutes integer     NOT NULL CHECK (slot_minutes > 0),
	weekly       text        NOT NULL,
	closed       text        NOT NULL,
	updated_at   timestamptz NOT NULL,
	updated_by   text REFERENCES accounts (id)
);

CREATE TABLE session_booking (
	session_id text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES sessions (id),
	opened_at  timestamptz NOT NULL,
	booked_at  timestamptz,
	booked_by  text REFERENCES participants (id)
);

CREATE INDEX sessions_org_start ON sessions (org_id, scheduled_start);
