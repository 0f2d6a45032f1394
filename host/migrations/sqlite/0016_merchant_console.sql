-- R22 the merchant's console (docs/rules.md): merchant users who sign in at
-- `POST /v1/console/sign-in`, their own short-lived sessions, the R16-like lockout of a user,
-- and a session ended from the console (`sessions.ended_by = 'console'`).
--
-- `merchant_users`: a merchant's console accounts, Argon2id like operators. `console_locks`:
-- wrong passwords of a user name since the last right one, counted before each check; rows
-- exist for any name tried, known or not, so the lockout tells nobody which users exist.
-- `console_sessions`: console tokens, stored as SHA-256 only, never accepted by a terminal route.
-- `batches.settled_at`: when the terminal settled the batch (NULL for batches settled before
-- this migration, whose `closed_at` is that time unless the cut-off closed them first).
--
-- SQLite adds a value to a CHECK only by rebuilding the table (as in 0004 and 0005).

CREATE TABLE merchant_users (
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    user_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, user_name)
);

CREATE TABLE console_locks (
    merchant_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, user_name)
);

CREATE TABLE console_sessions (
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    token_hash TEXT NOT NULL,
    user_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, token_hash)
);
CREATE INDEX console_sessions_by_token ON console_sessions (token_hash);

ALTER TABLE batches ADD COLUMN settled_at INTEGER;

CREATE TABLE sessions_new (
    merchant_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    terminal_ref INTEGER NOT NULL,
    operator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    ended_by TEXT CHECK (ended_by IN ('sign_in', 'sign_off', 'cutoff', 'activation', 'console')),
    PRIMARY KEY (merchant_id, token_hash),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id)
);
INSERT INTO sessions_new (merchant_id, token_hash, terminal_ref, operator, created_at,
    expires_at, ended_at, ended_by)
SELECT merchant_id, token_hash, terminal_ref, operator, created_at, expires_at, ended_at,
    ended_by
FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_by_token ON sessions (token_hash);
CREATE INDEX sessions_live ON sessions (merchant_id, terminal_ref) WHERE ended_at IS NULL;
-- The console reads each terminal's newest session.
CREATE INDEX sessions_newest ON sessions (merchant_id, terminal_ref, created_at);
