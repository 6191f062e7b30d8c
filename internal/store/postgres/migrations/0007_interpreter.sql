-- 0007: the party an interpreter interprets for (cases.Participant.InterpretsFor).
--
-- The id of a participant of the same session whose role is party, set
-- only on interpreters; NULL otherwise, and for participants stored before
-- this migration. The column references the participant, as in SQLite;
-- that it is a party of the same session is checked by the API when the
-- interpreter is invited. Participants are never deleted, so the
-- reference cannot dangle.

ALTER TABLE participants ADD COLUMN interprets_for text COLLATE "C"
	REFERENCES participants (id) CHECK (interprets_for IS NULL OR interprets_for <> '');
