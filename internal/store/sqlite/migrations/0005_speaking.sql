-- 0005: when each participant spoke, per recorded segment.
--
-- The recorder's speaking intervals of the segment (from the audio level
-- the sender measured), as its JSON array of {"from", "to"} times; NULL
-- when it has none, and for segments stored before this migration.

ALTER TABLE segments ADD COLUMN speaking TEXT CHECK (speaking IS NULL OR speaking <> '');
