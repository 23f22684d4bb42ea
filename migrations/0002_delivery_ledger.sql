-- Readers: a row from the first real run that mails them; catch-up never reaches before `since_day`.
CREATE TABLE recipients (
    address       TEXT PRIMARY KEY NOT NULL,
    since_day     TEXT NOT NULL
) STRICT;

-- A digest the mail server accepted. Written only after acceptance.
CREATE TABLE digests (
    id            INTEGER PRIMARY KEY,
    recipient     TEXT NOT NULL,
    day           TEXT NOT NULL,
    message_id    TEXT NOT NULL UNIQUE,
    sent_at       TEXT NOT NULL,
    transport     TEXT NOT NULL,
    papers        INTEGER NOT NULL
) STRICT;
CREATE INDEX digests_by_recipient ON digests(recipient, day);

-- Each paper of an accepted digest, with the rank and upvotes it was mailed with.
CREATE TABLE deliveries (
    digest_id     INTEGER NOT NULL REFERENCES digests(id),
    recipient     TEXT NOT NULL,
    paper_id      TEXT NOT NULL REFERENCES papers(id),
    rank          INTEGER,
    upvotes       INTEGER NOT NULL,
    PRIMARY KEY (recipient, paper_id, digest_id)
) STRICT, WITHOUT ROWID;
