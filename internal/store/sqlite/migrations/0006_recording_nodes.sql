-- 0006: the nodes' parts in recording each session (cases.RecordingNode).
--
-- The node hosting a recorded session's room records it; when that node
-- stops without a word another node takes the recording over, and the
-- first node's part stays pending until what its spool held is stored.
-- Times are TEXT as in 0001. Rows reference the session, as segments do,
-- not its recording: nothing then constrains the order in which a
-- recording and its nodes' parts are written. At most one node of a
-- session is recording (the partial unique index); ClaimRecording and
-- AdoptRecording keep it so in one write transaction.

CREATE TABLE recording_nodes (
	session_id TEXT NOT NULL REFERENCES sessions (id),
	node       TEXT NOT NULL CHECK (node <> ''),
	state      TEXT NOT NULL CHECK (state IN ('recording', 'pending', 'done')),
	since      TEXT NOT NULL,
	PRIMARY KEY (session_id, node)
) STRICT;

CREATE UNIQUE INDEX recording_nodes_recorder ON recording_nodes (session_id) WHERE state = 'recording';
