-- Workspace scans (src/store/scans.rs). Portable SQL: the same statements
-- run on the local SQLite store and on a shared PostgreSQL store. Times are
-- RFC 3339 UTC text with milliseconds, so they sort as text; JSON is text.

-- One scan of a workspace (or of one segment of it).
CREATE TABLE IF NOT EXISTS scans (
    id            TEXT PRIMARY KEY,          -- "2026-11-30-0228-a3f9"
    workspace     TEXT NOT NULL,
    selection     TEXT NOT NULL,             -- "all" | "segment 7"
    status        TEXT NOT NULL,             -- running | done
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    seed          BIGINT NOT NULL,           -- the event sample's seed
    events_sample BIGINT NOT NULL,           -- its budget in humans
    listed        BIGINT NOT NULL DEFAULT 0, -- 1 once the listing is complete
    profiles      BIGINT NOT NULL DEFAULT 0,
    humans        BIGINT NOT NULL DEFAULT 0,
    report        TEXT                       -- JSON: the finished report without its findings
);
CREATE INDEX IF NOT EXISTS scans_workspace_started ON scans (workspace, selection, started_at);

-- The listing, page by page, with the cursor that follows each page.
CREATE TABLE IF NOT EXISTS scan_pages (
    scan_id TEXT NOT NULL,
    page    BIGINT NOT NULL,
    next    TEXT,                            -- NULL on the last page
    refs    TEXT NOT NULL,                   -- JSON: [{cio_id, id, email}]
    PRIMARY KEY (scan_id, page)
);

-- Profiles read in bulk, one row each; batch n (the listed people
-- n*1000 .. n*1000+999) is complete when its row in scan_batches exists,
-- written in the same transaction as its profiles.
CREATE TABLE IF NOT EXISTS scan_profiles (
    scan_id TEXT NOT NULL,
    cio_id  TEXT NOT NULL,
    batch   BIGINT NOT NULL,
    body    TEXT NOT NULL,                   -- JSON: Profile
    PRIMARY KEY (scan_id, cio_id)
);

CREATE TABLE IF NOT EXISTS scan_batches (
    scan_id TEXT NOT NULL,
    batch   BIGINT NOT NULL,
    errors  TEXT NOT NULL,                   -- JSON: [{person, source, message}]
    PRIMARY KEY (scan_id, batch)
);

-- Source records, one row each, numbered per source; a source is complete
-- when its row in scan_sources exists (same transaction).
CREATE TABLE IF NOT EXISTS scan_records (
    scan_id TEXT NOT NULL,
    source  TEXT NOT NULL,
    n       BIGINT NOT NULL,
    body    TEXT NOT NULL,                   -- JSON: SourceRecord
    PRIMARY KEY (scan_id, source, n)
);

CREATE TABLE IF NOT EXISTS scan_sources (
    scan_id TEXT NOT NULL,
    source  TEXT NOT NULL,
    outcome TEXT NOT NULL,                   -- JSON: {"records": n, "lookups": n} or {"error": ".."}
    PRIMARY KEY (scan_id, source)
);

-- Activities of the profiles in the event sample.
CREATE TABLE IF NOT EXISTS scan_activities (
    scan_id    TEXT NOT NULL,
    cio_id     TEXT NOT NULL,
    activities TEXT NOT NULL,                -- JSON: [Activity], or {"error": ".."}
    PRIMARY KEY (scan_id, cio_id)
);

-- Every human of a finished scan.
CREATE TABLE IF NOT EXISTS scan_humans (
    scan_id  TEXT NOT NULL,
    person   TEXT NOT NULL,
    profiles TEXT NOT NULL,                  -- JSON: [cio_id]
    sampled  TEXT NOT NULL,                  -- '' | random | flagged
    findings BIGINT NOT NULL,
    worst    TEXT,                           -- error | warn | info
    PRIMARY KEY (scan_id, person)
);

CREATE TABLE IF NOT EXISTS scan_findings (
    scan_id  TEXT NOT NULL,
    person   TEXT NOT NULL,
    rule     TEXT NOT NULL,
    severity TEXT NOT NULL,
    profiles TEXT NOT NULL,                  -- JSON: [cio_id]
    summary  TEXT NOT NULL,
    evidence TEXT NOT NULL                   -- JSON
);
CREATE INDEX IF NOT EXISTS scan_findings_rule ON scan_findings (scan_id, rule, person);
CREATE INDEX IF NOT EXISTS scan_findings_person ON scan_findings (scan_id, person);

CREATE TABLE IF NOT EXISTS scan_errors (
    scan_id TEXT NOT NULL,
    person  TEXT NOT NULL,
    source  TEXT NOT NULL,
    message TEXT NOT NULL
);
