-- Accounts. Emails are stored lower-cased; secrets (passwords, refresh tokens, session cookies,
-- API keys, email links) only as hashes.
CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    password_hash    TEXT,
    role             TEXT NOT NULL,
    plan             TEXT NOT NULL,
    email_verified   BIGINT NOT NULL DEFAULT 0,
    disabled         BIGINT NOT NULL DEFAULT 0,
    -- Per-account overrides of the plan's limits; NULL: the plan's.
    operations_limit BIGINT,
    storage_limit    BIGINT,
    -- `issuer sub` of the OpenID Connect identity signed in with, if any.
    oidc_subject     TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_by_email ON users (email);
CREATE UNIQUE INDEX users_by_oidc_subject ON users (oidc_subject) WHERE oidc_subject IS NOT NULL;

-- One sign-in. Its refresh tokens form one family: a rotated token presented again revokes it.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    cookie_hash  TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    hash        TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    hash          TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE UNIQUE INDEX api_keys_by_hash ON api_keys (hash);
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at);

-- Links sent by email (verification, password reset): used once, then spent.
CREATE TABLE email_tokens (
    hash        TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX email_tokens_by_user ON email_tokens (user_id);

-- Operations counted against each owner's monthly quota (period: `YYYY-MM`, UTC).
CREATE TABLE metering (
    owner       TEXT NOT NULL,
    period      TEXT NOT NULL,
    operations  BIGINT NOT NULL,
    PRIMARY KEY (owner, period)
);

-- Operations that succeeded, per owner, day (`YYYY-MM-DD`) and tool, for usage reports.
CREATE TABLE tool_usage (
    owner       TEXT NOT NULL,
    day         TEXT NOT NULL,
    tool        TEXT NOT NULL,
    operations  BIGINT NOT NULL,
    PRIMARY KEY (owner, day, tool)
);

CREATE TABLE audit_log (
    id      TEXT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    address TEXT,
    detail  TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (at);

-- Tools an administrator switched off (absent: on).
CREATE TABLE tool_switches (
    tool        TEXT PRIMARY KEY,
    enabled     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);

-- The period a job's operations were counted in and how many are still counted: what is not
-- spent by succeeding steps is given back when the job ends.
ALTER TABLE jobs ADD COLUMN metered_period TEXT;
ALTER TABLE jobs ADD COLUMN metered_operations BIGINT;
