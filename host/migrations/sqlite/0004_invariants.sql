-- The schema holds its own invariants: every status and kind column takes only its known
-- values, flags are 0 or 1, and a trace number is used once per batch.
--
-- SQLite adds a CHECK only by rebuilding the table (https://www.sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): the host turns foreign keys off around its
-- migrations and runs `PRAGMA foreign_key_check` before turning them back on (`Store::open`).
-- AUTOINCREMENT counters are carried over, so no row id (nor the RRN made from it) is reused.

CREATE TABLE batches_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    batch_no INTEGER NOT NULL,
    business_date TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('open', 'settling', 'awaiting_upload', 'settled', 'closed_by_host')),
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    terminal_totals TEXT,
    host_totals TEXT,
    settle_answer TEXT,
    upload_answer TEXT
);
INSERT INTO batches_new (id, terminal_ref, batch_no, business_date, status, opened_at,
    closed_at, terminal_totals, host_totals, settle_answer, upload_answer)
SELECT id, terminal_ref, batch_no, business_date, status, opened_at,
    closed_at, terminal_totals, host_totals, settle_answer, upload_answer FROM batches;
DELETE FROM sqlite_sequence WHERE name = 'batches_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'batches_new', seq FROM sqlite_sequence WHERE name = 'batches';
DROP TABLE batches;
ALTER TABLE batches_new RENAME TO batches;
CREATE UNIQUE INDEX batches_one_open ON batches (terminal_ref) WHERE status = 'open';
CREATE INDEX batches_by_no ON batches (terminal_ref, batch_no);

CREATE TABLE transactions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    merchant_id TEXT NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    request_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('sale', 'void', 'refund')),
    trace_no INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'reversed')),
    response_code TEXT,
    auth_code TEXT,
    rrn TEXT,
    masked_pan TEXT,
    original_id INTEGER,
    voided INTEGER NOT NULL DEFAULT 0 CHECK (voided IN (0, 1)),
    refunded_amount INTEGER NOT NULL DEFAULT 0,
    operator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (terminal_ref, request_id),
    UNIQUE (batch_id, trace_no)
);
INSERT INTO transactions_new (id, terminal_ref, merchant_id, batch_id, request_id, kind,
    trace_no, amount, status, response_code, auth_code, rrn, masked_pan, original_id, voided,
    refunded_amount, operator, created_at)
SELECT id, terminal_ref, merchant_id, batch_id, request_id, kind,
    trace_no, amount, status, response_code, auth_code, rrn, masked_pan, original_id, voided,
    refunded_amount, operator, created_at FROM transactions;
DELETE FROM sqlite_sequence WHERE name = 'transactions_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'transactions_new', seq FROM sqlite_sequence WHERE name = 'transactions';
DROP TABLE transactions;
ALTER TABLE transactions_new RENAME TO transactions;
CREATE INDEX transactions_terminal_trace ON transactions (terminal_ref, trace_no);
CREATE UNIQUE INDEX transactions_rrn ON transactions (merchant_id, rrn);

CREATE TABLE sessions_new (
    token_hash TEXT PRIMARY KEY,
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    operator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    ended_by TEXT CHECK (ended_by IN ('sign_in', 'sign_off', 'cutoff', 'activation'))
);
INSERT INTO sessions_new (token_hash, terminal_ref, operator, created_at, expires_at, ended_at,
    ended_by)
SELECT token_hash, terminal_ref, operator, created_at, expires_at, ended_at, ended_by
FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_live ON sessions (terminal_ref) WHERE ended_at IS NULL;

CREATE TABLE reversals_new (
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    request_id TEXT NOT NULL,
    reversed INTEGER NOT NULL CHECK (reversed IN (0, 1)),
    at INTEGER NOT NULL,
    PRIMARY KEY (terminal_ref, request_id)
);
INSERT INTO reversals_new (terminal_ref, request_id, reversed, at)
SELECT terminal_ref, request_id, reversed, at FROM reversals;
DROP TABLE reversals;
ALTER TABLE reversals_new RENAME TO reversals;

CREATE TABLE answers_new (
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    scope TEXT NOT NULL CHECK (scope IN ('tx', 'settle', 'upload', 'sign_off')),
    request_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL CHECK (status BETWEEN 100 AND 599),
    body TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (terminal_ref, scope, request_id)
);
INSERT INTO answers_new (terminal_ref, scope, request_id, fingerprint, status, body, at)
SELECT terminal_ref, scope, request_id, fingerprint, status, body, at FROM answers;
DROP TABLE answers;
ALTER TABLE answers_new RENAME TO answers;
