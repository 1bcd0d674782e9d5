-- Feedback rows, and the aggregates that statistics and recommendations read.
-- Timestamps are Unix milliseconds (UTC); days are 'YYYY-MM-DD' (UTC).
-- Aggregates count visible (not hidden) feedback only; see sqlite.py.

CREATE TABLE targets (
    id          INTEGER PRIMARY KEY,
    target_type TEXT    NOT NULL CHECK (target_type IN ('extension', 'layout')),
    target_id   TEXT    NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
    rating_sum  INTEGER NOT NULL DEFAULT 0,
    r1          INTEGER NOT NULL DEFAULT 0,
    r2          INTEGER NOT NULL DEFAULT 0,
    r3          INTEGER NOT NULL DEFAULT 0,
    r4          INTEGER NOT NULL DEFAULT 0,
    r5          INTEGER NOT NULL DEFAULT 0,
    score       REAL    NOT NULL DEFAULT 3.0,  -- ranking.bayesian_average(count, rating_sum)
    trend_log2  REAL,                          -- ranking.py "Trending"; NULL: nothing positive
    UNIQUE (target_type, target_id)
);
-- Partial indexes, one per ordering and kind: each listing reads one of them in order.
-- (Listings over both kinds merge the two; fewer indexes keep each write cheap.)
CREATE INDEX targets_by_score ON targets (target_type, score DESC, count DESC, target_id)
    WHERE count > 0;
CREATE INDEX targets_by_trend ON targets (target_type, trend_log2 DESC, target_id)
    WHERE trend_log2 IS NOT NULL;
CREATE INDEX targets_by_count ON targets (target_type, count DESC, target_id)
    WHERE count > 0;

CREATE TABLE kinds (
    target_type TEXT PRIMARY KEY,
    count       INTEGER NOT NULL DEFAULT 0,
    rating_sum  INTEGER NOT NULL DEFAULT 0,
    r1          INTEGER NOT NULL DEFAULT 0,
    r2          INTEGER NOT NULL DEFAULT 0,
    r3          INTEGER NOT NULL DEFAULT 0,
    r4          INTEGER NOT NULL DEFAULT 0,
    r5          INTEGER NOT NULL DEFAULT 0,
    targets     INTEGER NOT NULL DEFAULT 0  -- targets with at least one visible rating
) WITHOUT ROWID;
INSERT INTO kinds (target_type) VALUES ('extension'), ('layout');

CREATE TABLE days (
    day        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    rating_sum INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE target_days (
    target_ref INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    day        TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    rating_sum INTEGER NOT NULL,
    PRIMARY KEY (target_ref, day)
) WITHOUT ROWID;

CREATE TABLE feedback (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
    target_ref     INTEGER NOT NULL REFERENCES targets (id),
    client_hash    BLOB    NOT NULL CHECK (length(client_hash) = 32),  -- HMAC-SHA256(IP_SALT, ip)
    rating         INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment        BLOB,                                -- AES-256-GCM, see crypto.py
    comment_key_id TEXT,
    client_version TEXT,
    locale         TEXT,
    hidden         INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    created_at     INTEGER NOT NULL,  -- first submission
    submitted_at   INTEGER NOT NULL,  -- the current rating (a newer one replaces the row)
    CHECK ((comment IS NULL) = (comment_key_id IS NULL)),
    UNIQUE (client_hash, target_ref)
);
CREATE INDEX feedback_by_target ON feedback (target_ref, id);

CREATE TABLE health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
);
