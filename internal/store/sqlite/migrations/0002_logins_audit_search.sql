-- 0002: staff login sessions, the audit log, indexes for case search.
--
-- The audit log has no foreign keys: it must outlive the records it
-- mentions. Its ids are plain text, '' when not applicable. Rows are only
-- ever inserted, one at a time in a write transaction (see AppendAudit).

CREATE TABLE logins (
	token_hash BLOB NOT NULL PRIMARY KEY CHECK (length(token_hash) > 0), -- SHA-256 of the token
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	ip         TEXT NOT NULL,
	user_agent TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX logins_account ON logins (account_id);
CREATE INDEX logins_expires ON logins (expires_at);

CREATE TABLE audit_log (
	seq        INTEGER NOT NULL PRIMARY KEY CHECK (seq > 0),
	time       TEXT NOT NULL,
	actor_kind TEXT NOT NULL DEFAULT '',
	actor_id   TEXT NOT NULL DEFAULT '',
	action     TEXT NOT NULL DEFAULT '',
	org_id     TEXT NOT NULL DEFAULT '',
	case_id    TEXT NOT NULL DEFAULT '',
	session_id TEXT NOT NULL DEFAULT '',
	ip         TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT '',
	prev_hash  BLOB NOT NULL CHECK (length(prev_hash) = 32),
	hash       BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE INDEX audit_log_org ON audit_log (org_id, seq);
CREATE INDEX audit_log_case ON audit_log (case_id, seq);
CREATE INDEX audit_log_session ON audit_log (session_id, seq);

-- Case search lists an organization's cases newest first. Participant
-- names are matched by substring, which no B-tree index helps; the search
-- reaches them through sessions_case and participants_session.
CREATE INDEX cases_org_created ON cases (org_id, created_at DESC, id);
