-- Secret step parameters (passwords) are kept out of `spec`: sealed with the server's
-- `secret_key` in `secrets`, erased when the job ends.
ALTER TABLE jobs ADD COLUMN secrets TEXT;

-- Each owner's webhook signing secret, sealed the same way; shown once, when made.
CREATE TABLE webhook_secrets (
    owner      TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
