-- Which selection a `check --record` run checked (`all`, `segment 7`,
-- `sample 50 seed 42`, `people 3 #…`): a run is compared only with an
-- earlier run of the same selection. Older runs have none and match nothing.
ALTER TABLE check_runs ADD COLUMN selection TEXT;
