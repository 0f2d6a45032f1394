-- Every row of a merchant carries its merchant id, and every key starts with it: the merchant
-- is the shard key of a PostgreSQL distributed by merchant, and one schema keeps one set of
-- queries for both databases. host_state, cutoffs and host_secrets are the host's own.
--
-- On SQLite the row ids of terminals, batches and transactions stay `INTEGER PRIMARY KEY
-- AUTOINCREMENT` (the only way SQLite never reuses an id, nor so an RRN), with
-- `UNIQUE (merchant_id, id)` as the key the other tables refer to. Tables are rebuilt as in
-- 0004, with foreign keys off; AUTOINCREMENT counters are carried over.

CREATE UNIQUE INDEX terminals_merchant_id ON terminals (merchant_id, id);

CREATE TABLE activation_codes_new (
    merchant_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    terminal_ref INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (merchant_id, code_hash),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id)
);
INSERT INTO activation_codes_new (merchant_id, code_hash, terminal_ref, expires_at, used_at)
SELECT t.merchant_id, c.code_hash, c.terminal_ref, c.expires_at, c.used_at
FROM activation_codes c JOIN terminals t ON t.id = c.terminal_ref;
DROP TABLE activation_codes;
ALTER TABLE activation_codes_new RENAME TO activation_codes;

CREATE TABLE sessions_new (
    merchant_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    terminal_ref INTEGER NOT NULL,
    operator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    ended_by TEXT CHECK (ended_by IN ('sign_in', 'sign_off', 'cutoff', 'activation')),
    PRIMARY KEY (merchant_id, token_hash),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id)
);
INSERT INTO sessions_new (merchant_id, token_hash, terminal_ref, operator, created_at,
    expires_at, ended_at, ended_by)
SELECT t.merchant_id, s.token_hash, s.terminal_ref, s.operator, s.created_at, s.expires_at,
    s.ended_at, s.ended_by
FROM sessions s JOIN terminals t ON t.id = s.terminal_ref;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_by_token ON sessions (token_hash);
CREATE INDEX sessions_live ON sessions (merchant_id, terminal_ref) WHERE ended_at IS NULL;

CREATE TABLE batches_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    terminal_ref INTEGER NOT NULL,
    batch_no INTEGER NOT NULL,
    business_date TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('open', 'settling', 'awaiting_upload', 'settled', 'closed_by_host')),
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    terminal_totals TEXT,
    host_totals TEXT,
    settle_answer TEXT,
    upload_answer TEXT,
    UNIQUE (merchant_id, id),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id)
);
INSERT INTO batches_new (id, merchant_id, terminal_ref, batch_no, business_date, status,
    opened_at, closed_at, terminal_totals, host_totals, settle_answer, upload_answer)
SELECT b.id, t.merchant_id, b.terminal_ref, b.batch_no, b.business_date, b.status,
    b.opened_at, b.closed_at, b.terminal_totals, b.host_totals, b.settle_answer, b.upload_answer
FROM batches b JOIN terminals t ON t.id = b.terminal_ref;
DELETE FROM sqlite_sequence WHERE name = 'batches_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'batches_new', seq FROM sqlite_sequence WHERE name = 'batches';
DROP TABLE batches;
ALTER TABLE batches_new RENAME TO batches;
CREATE UNIQUE INDEX batches_one_open ON batches (merchant_id, terminal_ref)
    WHERE status = 'open';
CREATE INDEX batches_by_no ON batches (merchant_id, terminal_ref, batch_no);

CREATE TABLE transactions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_ref INTEGER NOT NULL,
    merchant_id TEXT NOT NULL,
    batch_id INTEGER NOT NULL,
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
    UNIQUE (merchant_id, id),
    UNIQUE (merchant_id, terminal_ref, request_id),
    UNIQUE (merchant_id, batch_id, trace_no),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id),
    FOREIGN KEY (merchant_id, batch_id) REFERENCES batches (merchant_id, id)
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
CREATE INDEX transactions_terminal_trace ON transactions (merchant_id, terminal_ref, trace_no);
CREATE UNIQUE INDEX transactions_rrn ON transactions (merchant_id, rrn);

CREATE TABLE reversals_new (
    merchant_id TEXT NOT NULL,
    terminal_ref INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    reversed INTEGER NOT NULL CHECK (reversed IN (0, 1)),
    at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, terminal_ref, request_id),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id)
);
INSERT INTO reversals_new (merchant_id, terminal_ref, request_id, reversed, at)
SELECT t.merchant_id, r.terminal_ref, r.request_id, r.reversed, r.at
FROM reversals r JOIN terminals t ON t.id = r.terminal_ref;
DROP TABLE reversals;
ALTER TABLE reversals_new RENAME TO reversals;

CREATE TABLE answers_new (
    merchant_id TEXT NOT NULL,
    terminal_ref INTEGER NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('tx', 'settle', 'upload', 'sign_off')),
    request_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL CHECK (status BETWEEN 100 AND 599),
    body TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, terminal_ref, scope, request_id),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id)
);
INSERT INTO answers_new (merchant_id, terminal_ref, scope, request_id, fingerprint, status,
    body, at)
SELECT t.merchant_id, a.terminal_ref, a.scope, a.request_id, a.fingerprint, a.status, a.body,
    a.at
FROM answers a JOIN terminals t ON t.id = a.terminal_ref;
DROP TABLE answers;
ALTER TABLE answers_new RENAME TO answers;

CREATE TABLE operator_locks_new (
    merchant_id TEXT NOT NULL,
    terminal_ref INTEGER NOT NULL,
    operator TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, terminal_ref, operator),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id)
);
INSERT INTO operator_locks_new (merchant_id, terminal_ref, operator, attempts, locked_until)
SELECT t.merchant_id, l.terminal_ref, l.operator, l.attempts, l.locked_until
FROM operator_locks l JOIN terminals t ON t.id = l.terminal_ref;
DROP TABLE operator_locks;
ALTER TABLE operator_locks_new RENAME TO operator_locks;
