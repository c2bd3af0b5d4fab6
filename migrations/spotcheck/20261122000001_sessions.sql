-- Spot-check sessions (src/spotcheck/store.rs). Times are RFC 3339 UTC text
-- with milliseconds ("2026-11-22T10:00:00.000Z"), so they sort as text.

-- One walk through a sample of people.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,              -- "2026-11-22-a3f9"
    workspace   TEXT NOT NULL,
    operator    TEXT NOT NULL,
    method      TEXT NOT NULL,                 -- how the population was chosen
    strategy    TEXT NOT NULL,                 -- random | stratified | recent | worst-first
    seed        TEXT,                          -- u64 as text: SQLite integers are i64
    size        INTEGER NOT NULL CHECK (size >= 0),
    population  INTEGER,                       -- how many people it was drawn from
    position    INTEGER,                       -- the person on screen; NULL = first unreviewed
    created_at  TEXT NOT NULL,
    finished_at TEXT                           -- set when the last item is decided
);
CREATE INDEX sessions_workspace_created ON sessions (workspace, created_at);

-- The sampled people, in walking order, with what a check found on them
-- when they were sampled (the evidence the verdicts were made against).
CREATE TABLE session_people (
    session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL CHECK (position >= 0),
    person          TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',  -- why the sampler picked them
    findings        TEXT NOT NULL DEFAULT '[]',-- JSON: [Finding]
    sources         TEXT NOT NULL DEFAULT '[]',-- JSON: ["customerio", "shop"]
    errors          TEXT NOT NULL DEFAULT '[]',-- JSON: ["source: message"]
    note            TEXT NOT NULL DEFAULT '',  -- the operator's note on the person
    note_operator   TEXT,
    note_updated_at TEXT,
    PRIMARY KEY (session_id, position),
    UNIQUE (session_id, person)
);

-- One verdict per (session, person, checklist item); re-deciding replaces it.
CREATE TABLE verdicts (
    session_id TEXT NOT NULL,
    person     TEXT NOT NULL,
    item       TEXT NOT NULL CHECK (item IN ('identifiers', 'attributes', 'events')),
    verdict    TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'skip')),
    note       TEXT,
    finding    TEXT,                           -- JSON: the attached finding {index, rule, severity, summary}
    operator   TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (session_id, person, item),
    FOREIGN KEY (session_id, person) REFERENCES session_people (session_id, person) ON DELETE CASCADE
);

-- Append-only history of everything done in a session (audit trail).
CREATE TABLE session_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    operator   TEXT,
    kind       TEXT NOT NULL,                  -- created | verdict | cleared | note | position
    person     TEXT,
    data       TEXT NOT NULL DEFAULT '{}'      -- JSON
);
CREATE INDEX session_events_session ON session_events (session_id, id);

-- `cioscope check` runs, for week-over-week comparison.
CREATE TABLE check_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace      TEXT NOT NULL,
    generated_at   TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    people_checked INTEGER NOT NULL,
    people         TEXT,                       -- JSON: the checked people, when known
    summary        TEXT NOT NULL DEFAULT '{}'  -- JSON: the report's summary
);
CREATE INDEX check_runs_workspace_generated ON check_runs (workspace, generated_at);

CREATE TABLE check_run_findings (
    run_id   INTEGER NOT NULL REFERENCES check_runs (id) ON DELETE CASCADE,
    person   TEXT NOT NULL,
    rule     TEXT NOT NULL,
    severity TEXT NOT NULL,
    summary  TEXT NOT NULL,
    finding  TEXT NOT NULL                     -- JSON: the whole Finding
);
CREATE INDEX check_run_findings_run ON check_run_findings (run_id);
