-- 0010: organizations' office hours, and sessions whose time a party books.
--
-- office_hours: one row per organization that has set its hours. weekly is
-- JSON {"mon": ["14:00-22:00"], ...} in the organization's zone; closed is
-- a JSON array of dates (YYYY-MM-DD) without service.
-- session_booking: a row opens a session for self-booking; booked_at and
-- booked_by (a participant) are set when a party books its time.

CREATE TABLE office_hours (
	org_id       TEXT    NOT NULL PRIMARY KEY REFERENCES orgs (id),
	time_zone    TEXT    NOT NULL,
	slot_minutes INTEGER NOT NULL CHECK (slot_minutes > 0),
	weekly       TEXT    NOT NULL,
	closed       TEXT    NOT NULL,
	updated_at   TEXT    NOT NULL,
	updated_by   TEXT    REFERENCES accounts (id)
) STRICT;

CREATE TABLE session_booking (
	session_id TEXT NOT NULL PRIMARY KEY REFERENCES sessions (id),
	opened_at  TEXT NOT NULL,
	booked_at  TEXT,
	booked_by  TEXT REFERENCES participants (id)
) STRICT;

CREATE INDEX sessions_org_start ON sessions (org_id, scheduled_start);
