-- 0009: the private room a segment is sealed to (recorder.Segment.Room).
--
-- NULL for a segment recorded in the joint room, and for segments stored
-- before this migration; the private room's id for a segment recorded
-- while the participant was in a recorded private room: its media is
-- confidential to the session's mediator.

ALTER TABLE segments ADD COLUMN room TEXT;
