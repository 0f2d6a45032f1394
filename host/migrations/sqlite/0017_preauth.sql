-- R20 pre-authorisation [预授权] (docs/rules.md): `transactions.kind` takes `preauth`,
-- `preauth_void`, `completion` and `completion_void`. A hold is its approved `preauth` row: its
-- amount is the row's, it expires 30 days after it was booked (`created_at`), `voided` = 1
-- means an approved `preauth_void` released it, and `completed_by` names the completion that
-- completed it (NULL: not completed; a hold is completed once, so one id at most). A
-- completion's and a pre-auth void's `original_id` is the hold; a completion void's is its
-- completion.
--
-- SQLite widens a CHECK only by rebuilding the table (as in 0004 and 0005), with foreign keys
-- off (`sqlite::migrate`): every column, constraint and index of 0001–0016 is kept, and the
-- AUTOINCREMENT counter is carried over so no id, nor an RRN made of one, is ever reused.

CREATE TABLE transactions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_ref INTEGER NOT NULL,
    merchant_id TEXT NOT NULL,
    batch_id INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('sale', 'void', 'refund', 'preauth', 'preauth_void',
        'completion', 'completion_void')),
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
    settlement_date TEXT CHECK (length(settlement_date) = 4),
    reference TEXT NULL,
    completed_by INTEGER NULL,
    UNIQUE (merchant_id, id),
    UNIQUE (merchant_id, terminal_ref, request_id),
    UNIQUE (merchant_id, batch_id, trace_no),
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id),
    FOREIGN KEY (merchant_id, batch_id) REFERENCES batches (merchant_id, id)
);
INSERT INTO transactions_new (id, terminal_ref, merchant_id, batch_id, request_id, kind,
    trace_no, amount, status, response_code, auth_code, rrn, masked_pan, original_id, voided,
    refunded_amount, operator, created_at, settlement_date, reference)
SELECT id, terminal_ref, merchant_id, batch_id, request_id, kind,
    trace_no, amount, status, response_code, auth_code, rrn, masked_pan, original_id, voided,
    refunded_amount, operator, created_at, settlement_date, reference FROM transactions;
DELETE FROM sqlite_sequence WHERE name = 'transactions_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'transactions_new', seq FROM sqlite_sequence WHERE name = 'transactions';
DROP TABLE transactions;
ALTER TABLE transactions_new RENAME TO transactions;
CREATE INDEX transactions_terminal_trace ON transactions (merchant_id, terminal_ref, trace_no);
CREATE INDEX transactions_rrn ON transactions (merchant_id, rrn);
CREATE INDEX transactions_sales_recent ON transactions (merchant_id, created_at)
    WHERE kind = 'sale';
CREATE INDEX transactions_reference ON transactions (merchant_id, reference);
