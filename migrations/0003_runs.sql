-- One row per fetch or daily run (dry runs write nothing): for `digest history`.
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,                 -- RFC 3339
    command       TEXT NOT NULL,                 -- run | fetch
    day           TEXT NOT NULL,
    source        TEXT NOT NULL,
    papers        INTEGER,                       -- on the listing, if it was read
    new_papers    INTEGER,                       -- new to the store
    sent_to       TEXT NOT NULL DEFAULT '[]',    -- JSON array of readers whose digest was accepted
    outcome       TEXT NOT NULL,                 -- "ok", or the error line
    exit_code     INTEGER NOT NULL
) STRICT;
