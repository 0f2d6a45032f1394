-- Every row of a merchant carries its merchant id, and every key starts with it: the merchant
-- is the shard key of a PostgreSQL distributed by merchant (Citus and the like), where a
-- primary key, a unique constraint and a foreign key between two sharded tables must each
-- contain it. host_state, cutoffs and host_secrets are the host's own, not any merchant's.
--
-- Terminal keys and session tokens stay unique by themselves (random 256-bit values); their
-- lookup index is a plain one, as a sharded table allows.

ALTER TABLE terminals DROP CONSTRAINT terminals_pkey CASCADE;
ALTER TABLE terminals
    ADD PRIMARY KEY (merchant_id, id),
    DROP CONSTRAINT terminals_key_hash_key,
    ADD CONSTRAINT terminals_key UNIQUE (merchant_id, key_hash);
CREATE INDEX terminals_by_key ON terminals (key_hash);

ALTER TABLE activation_codes ADD COLUMN merchant_id TEXT;
UPDATE activation_codes c SET merchant_id = t.merchant_id FROM terminals t
    WHERE t.id = c.terminal_ref;
ALTER TABLE activation_codes
    ALTER COLUMN merchant_id SET NOT NULL,
    DROP CONSTRAINT activation_codes_pkey,
    ADD PRIMARY KEY (merchant_id, code_hash),
    ADD FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id);

ALTER TABLE sessions ADD COLUMN merchant_id TEXT;
UPDATE sessions s SET merchant_id = t.merchant_id FROM terminals t WHERE t.id = s.terminal_ref;
ALTER TABLE sessions
    ALTER COLUMN merchant_id SET NOT NULL,
    DROP CONSTRAINT sessions_pkey,
    ADD PRIMARY KEY (merchant_id, token_hash),
    ADD FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id);
CREATE INDEX sessions_by_token ON sessions (token_hash);
DROP INDEX sessions_live;
CREATE INDEX sessions_live ON sessions (merchant_id, terminal_ref) WHERE ended_at IS NULL;

ALTER TABLE batches ADD COLUMN merchant_id TEXT;
UPDATE batches b SET merchant_id = t.merchant_id FROM terminals t WHERE t.id = b.terminal_ref;
ALTER TABLE batches DROP CONSTRAINT batches_pkey CASCADE;
ALTER TABLE batches
    ALTER COLUMN merchant_id SET NOT NULL,
    ADD PRIMARY KEY (merchant_id, id),
    ADD FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id);
DROP INDEX batches_one_open;
DROP INDEX batches_by_no;
CREATE UNIQUE INDEX batches_one_open ON batches (merchant_id, terminal_ref)
    WHERE status = 'open';
CREATE INDEX batches_by_no ON batches (merchant_id, terminal_ref, batch_no);

ALTER TABLE transactions
    DROP CONSTRAINT transactions_pkey,
    ADD PRIMARY KEY (merchant_id, id),
    DROP CONSTRAINT transactions_terminal_ref_request_id_key,
    ADD CONSTRAINT transactions_request UNIQUE (merchant_id, terminal_ref, request_id),
    DROP CONSTRAINT transactions_batch_trace,
    ADD CONSTRAINT transactions_batch_trace UNIQUE (merchant_id, batch_id, trace_no),
    ADD FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id),
    ADD FOREIGN KEY (merchant_id, batch_id) REFERENCES batches (merchant_id, id);
DROP INDEX transactions_terminal_trace;
CREATE INDEX transactions_terminal_trace ON transactions (merchant_id, terminal_ref, trace_no);

ALTER TABLE reversals ADD COLUMN merchant_id TEXT;
UPDATE reversals r SET merchant_id = t.merchant_id FROM terminals t WHERE t.id = r.terminal_ref;
ALTER TABLE reversals
    ALTER COLUMN merchant_id SET NOT NULL,
    DROP CONSTRAINT reversals_pkey,
    ADD PRIMARY KEY (merchant_id, terminal_ref, request_id),
    ADD FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id);

ALTER TABLE answers ADD COLUMN merchant_id TEXT;
UPDATE answers a SET merchant_id = t.merchant_id FROM terminals t WHERE t.id = a.terminal_ref;
ALTER TABLE answers
    ALTER COLUMN merchant_id SET NOT NULL,
    DROP CONSTRAINT answers_pkey,
    ADD PRIMARY KEY (merchant_id, terminal_ref, scope, request_id),
    ADD FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id);

ALTER TABLE operator_locks ADD COLUMN merchant_id TEXT;
UPDATE operator_locks l SET merchant_id = t.merchant_id FROM terminals t
    WHERE t.id = l.terminal_ref;
ALTER TABLE operator_locks
    ALTER COLUMN merchant_id SET NOT NULL,
    DROP CONSTRAINT operator_locks_pkey,
    ADD PRIMARY KEY (merchant_id, terminal_ref, operator),
    ADD FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id);
