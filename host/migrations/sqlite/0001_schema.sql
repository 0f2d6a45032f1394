-- The host's ledger of record. Times are milliseconds since the epoch (UTC), money is i64
-- minor units, flags are 0/1 integers: the same column types on SQLite and PostgreSQL keep
-- one set of queries for both.

CREATE TABLE host_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    business_date TEXT NOT NULL
);

-- One row per business date closed: the insert-if-absent decides which host process runs a
-- cut-off (R15).
CREATE TABLE cutoffs (
    business_date TEXT PRIMARY KEY,
    ran_at INTEGER NOT NULL,
    closed_batches INTEGER NOT NULL
);

CREATE TABLE merchants (
    merchant_id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE terminals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    terminal_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    key_hash TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    UNIQUE (merchant_id, terminal_id)
);

CREATE TABLE activation_codes (
    code_hash TEXT PRIMARY KEY,
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

CREATE TABLE operators (
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    operator TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, operator)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    operator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    ended_by TEXT
);
CREATE INDEX sessions_live ON sessions (terminal_ref) WHERE ended_at IS NULL;

CREATE TABLE batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    batch_no INTEGER NOT NULL,
    business_date TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    terminal_totals TEXT,
    host_totals TEXT,
    settle_answer TEXT,
    upload_answer TEXT
);
CREATE UNIQUE INDEX batches_one_open ON batches (terminal_ref) WHERE status = 'open';
CREATE INDEX batches_by_no ON batches (terminal_ref, batch_no);

CREATE TABLE transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    merchant_id TEXT NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    request_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    trace_no INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    status TEXT NOT NULL,
    response_code TEXT,
    auth_code TEXT,
    rrn TEXT,
    masked_pan TEXT,
    original_id INTEGER,
    voided INTEGER NOT NULL DEFAULT 0,
    refunded_amount INTEGER NOT NULL DEFAULT 0,
    operator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (terminal_ref, request_id)
);
CREATE INDEX transactions_batch ON transactions (batch_id, trace_no);
CREATE INDEX transactions_terminal_trace ON transactions (terminal_ref, trace_no);
CREATE UNIQUE INDEX transactions_rrn ON transactions (merchant_id, rrn);

-- Every reversal [冲正] received, also for request ids never seen (a tombstone that refuses
-- a late original).
CREATE TABLE reversals (
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    request_id TEXT NOT NULL,
    reversed INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (terminal_ref, request_id)
);

-- R9: the first answer to each request id, committed with the request's effects.
CREATE TABLE answers (
    terminal_ref INTEGER NOT NULL REFERENCES terminals (id),
    scope TEXT NOT NULL,
    request_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (terminal_ref, scope, request_id)
);
