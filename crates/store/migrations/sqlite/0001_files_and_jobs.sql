-- Times are unix milliseconds (BIGINT) and flags are BIGINT 0/1 so one set of runtime
-- queries reads the same on SQLite and PostgreSQL.
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    filename     TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    blob_key     TEXT NOT NULL,
    job_id       TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX files_by_owner ON files (owner, created_at);
CREATE INDEX files_by_expiry ON files (expires_at);
CREATE INDEX files_by_job ON files (job_id);

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    owner            TEXT NOT NULL,
    status           TEXT NOT NULL,
    class            TEXT NOT NULL,
    spec             TEXT NOT NULL,
    steps            TEXT NOT NULL,
    progress         TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL,
    error_code       TEXT,
    error_message    TEXT,
    idempotency_key  TEXT,
    request_hash     TEXT,
    tag              TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    expires_at       BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    run_after        BIGINT NOT NULL,
    cancel_requested BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs (owner, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_by_queue_order ON jobs (status, run_after, created_at);
CREATE INDEX jobs_by_owner ON jobs (owner, created_at);
CREATE INDEX jobs_by_expiry ON jobs (expires_at);
