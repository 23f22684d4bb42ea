-- Papers, one row each by arXiv id, holding the newest values seen.
CREATE TABLE papers (
    id            TEXT PRIMARY KEY NOT NULL,
    title         TEXT NOT NULL,
    abstract      TEXT NOT NULL,
    authors       TEXT NOT NULL DEFAULT '[]',   -- JSON array of names, in order
    published_at  TEXT,                          -- RFC 3339, UTC
    submitted_at  TEXT,                          -- RFC 3339, UTC
    upvotes       INTEGER NOT NULL DEFAULT 0,
    comments      INTEGER,
    github_repo   TEXT,
    github_stars  INTEGER,
    project_page  TEXT,
    ai_summary    TEXT,
    ai_keywords   TEXT NOT NULL DEFAULT '[]',   -- JSON array
    organization  TEXT,
    thumbnail     TEXT,
    updated_at    TEXT NOT NULL                  -- RFC 3339, when this row last changed
) STRICT;

-- A paper seen on the listing of a day: that day's rank, upvotes and stars.
CREATE TABLE sightings (
    paper_id      TEXT NOT NULL REFERENCES papers(id),
    day           TEXT NOT NULL,                 -- YYYY-MM-DD in the configured time zone
    rank          INTEGER NOT NULL,
    upvotes       INTEGER NOT NULL,
    github_stars  INTEGER,
    PRIMARY KEY (paper_id, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX sightings_by_day ON sightings(day, rank);

-- One row per successful fetch: what was read, from where, by which path.
CREATE TABLE fetches (
    id            INTEGER PRIMARY KEY,
    day           TEXT NOT NULL,
    fetched_at    TEXT NOT NULL,
    source        TEXT NOT NULL,
    url           TEXT NOT NULL,
    parse_path    TEXT NOT NULL,
    papers        INTEGER NOT NULL,
    new_papers    INTEGER NOT NULL
) STRICT;
