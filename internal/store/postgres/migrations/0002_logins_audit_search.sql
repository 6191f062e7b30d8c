-- 0002: staff login sessions, the audit log, indexes for case search.
--
-- The audit log has no foreign keys: it must outlive the records it
-- mentions. Its ids are plain text, '' when not applicable. Rows are only
-- ever inserted, one at a time under an advisory lock (see AppendAudit).
-- Its times are timestamptz, microsecond precision, which is the precision
-- the entry hash covers.

CREATE TABLE logins (
	token_hash bytea       NOT NULL PRIMARY KEY CHECK (length(token_hash) > 0), -- SHA-256 of the token
	account_id text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	csrf       text        NOT NULL,
	ip         text        NOT NULL,
	user_agent text        NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX logins_account ON logins (account_id);
CREATE INDEX logins_expires ON logins (expires_at);

CREATE TABLE audit_log (
	seq        bigint      NOT NULL PRIMARY KEY CHECK (seq > 0),
	time       timestamptz NOT NULL,
	actor_kind text        NOT NULL DEFAULT '',
	actor_id   text        NOT NULL DEFAULT '',
	action     text        NOT NULL DEFAULT '',
	org_id     text        NOT NULL DEFAULT '',
	case_id    text        NOT NULL DEFAULT '',
	session_id text        NOT NULL DEFAULT '',
	ip         text        NOT NULL DEFAULT '',
	detail     text        NOT NULL DEFAULT '',
	prev_hash  bytea       NOT NULL CHECK (length(prev_hash) = 32),
	hash       bytea       NOT NULL CHECK (length(hash) = 32)
);

CREATE INDEX audit_log_org ON audit_log (org_id, seq);
CREATE INDEX audit_log_case ON audit_log (case_id, seq);
CREATE INDEX audit_log_session ON audit_log (session_id, seq);

-- Case search lists an organization's cases newest first. Participant
-- names are matched by substring, which no B-tree index helps; the search
-- reaches them through sessions_case and participants_session.
CREATE INDEX cases_org_created ON cases (org_id, created_at DESC, id);
