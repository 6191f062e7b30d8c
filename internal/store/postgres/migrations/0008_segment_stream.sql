-- 0008: the stream a segment holds (recorder.Segment.Stream).
--
-- NULL for a participant's camera and microphone, and for segments stored
-- before this migration; 'screen' for their screen share. A
-- participant's segments are numbered in one sequence across their
-- streams, so the primary key (session_id, participant_id, idx) stays.

ALTER TABLE segments ADD COLUMN stream text CHECK (stream IS NULL OR stream = 'screen');
