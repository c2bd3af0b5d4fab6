-- The rules that could not judge a human of a finished scan because a read
-- failed (a profile, a source, its activities): comma-separated rule ids,
-- '' when every rule judged it. A pair whose human was not judged in either
-- of two scans is not comparable between them.
ALTER TABLE scan_humans ADD COLUMN not_judged TEXT NOT NULL DEFAULT '';
