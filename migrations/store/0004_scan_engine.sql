-- The engine a scan runs with: `api` (the App API) or `warehouse`
-- (docs/warehouse.md). A stopped scan continues with the engine it began
-- with.
ALTER TABLE scans ADD COLUMN engine TEXT NOT NULL DEFAULT 'api';
