-- Profiles numbered in the order a scan stores them (batch * 1000 + place
-- in the batch), so judging reads them back by ranges of numbers instead
-- of looking each one up by its cio_id.
--
-- Stored profiles are only working data of a running scan; a scan still
-- running when this applies reads its profile batches again on resume.
DELETE FROM scan_batches WHERE scan_id IN (SELECT id FROM scans WHERE status = 'running');
DROP TABLE scan_profiles;
CREATE TABLE scan_profiles (
    scan_id TEXT NOT NULL,
    n       BIGINT NOT NULL,
    cio_id  TEXT NOT NULL,
    batch   BIGINT NOT NULL,
    body    TEXT NOT NULL,                   -- JSON: Profile
    PRIMARY KEY (scan_id, n)
);
