-- R22 the merchant's console (docs/rules.md): merchant users who sign in at
-- `POST /v1/console/sign-in`, their own short-lived sessions, the R16-like lockout of a user,
-- and a session ended from the console (`sessions.ended_by = 'console'`). See the SQLite
-- migration of the same number for what each table holds.

CREATE TABLE merchant_users (
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    user_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, user_name)
);

CREATE TABLE console_locks (
    merchant_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    locked_until BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, user_name)
);

CREATE TABLE console_sessions (
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    token_hash TEXT NOT NULL,
    user_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, token_hash)
);
CREATE INDEX console_sessions_by_token ON console_sessions (token_hash);

ALTER TABLE batches ADD COLUMN settled_at BIGINT;

ALTER TABLE sessions
    DROP CONSTRAINT sessions_ended_by,
    ADD CONSTRAINT sessions_ended_by
        CHECK (ended_by IN ('sign_in', 'sign_off', 'cutoff', 'activation', 'console'));
-- The console reads each terminal's newest session.
CREATE INDEX sessions_newest ON sessions (merchant_id, terminal_ref, created_at);
