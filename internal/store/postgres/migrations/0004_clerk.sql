-- 0004: the clerk's desk: search forms of case numbers, titles and
-- participant names, and the gap count of sealed recordings.
--
-- A search form (sqlbase.Fold: compatibility-decomposed, without accents,
-- lower case) is computed by the program, not by lower(), whose result
-- depends on the database's collation: rows written before this migration
-- have NULL forms until the refold that runs after the migrations fills
-- them (see DB.Migrate). The partial indexes find those rows without a
-- scan. Numbers and titles sort by their forms COLLATE "C", as in SQLite.

ALTER TABLE cases
	ADD COLUMN number_fold text,
	ADD COLUMN title_fold  text;
ALTER TABLE participants ADD COLUMN name_fold text;

CREATE INDEX cases_unfolded ON cases (id) WHERE number_fold IS NULL OR title_fold IS NULL;
CREATE INDEX participants_unfolded ON participants (id) WHERE name_fold IS NULL;

-- Gaps listed in the sealed manifest; NULL before sealing and for
-- recordings sealed before this migration.
ALTER TABLE recordings ADD COLUMN gap_count integer CHECK (gap_count IS NULL OR gap_count >= 0);
