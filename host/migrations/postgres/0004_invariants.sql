-- The schema holds its own invariants: every status and kind column takes only its known
-- values, flags are 0 or 1, and a trace number is used once per batch.

ALTER TABLE batches
    ADD CONSTRAINT batches_status
        CHECK (status IN ('open', 'settling', 'awaiting_upload', 'settled', 'closed_by_host'));

DROP INDEX transactions_batch;
ALTER TABLE transactions
    ADD CONSTRAINT transactions_kind CHECK (kind IN ('sale', 'void', 'refund')),
    ADD CONSTRAINT transactions_status
        CHECK (status IN ('pending', 'approved', 'declined', 'reversed')),
    ADD CONSTRAINT transactions_voided CHECK (voided IN (0, 1)),
    ADD CONSTRAINT transactions_batch_trace UNIQUE (batch_id, trace_no);

ALTER TABLE sessions
    ADD CONSTRAINT sessions_ended_by
        CHECK (ended_by IN ('sign_in', 'sign_off', 'cutoff', 'activation'));

ALTER TABLE reversals ADD CONSTRAINT reversals_reversed CHECK (reversed IN (0, 1));

ALTER TABLE answers
    ADD CONSTRAINT answers_scope CHECK (scope IN ('tx', 'settle', 'upload', 'sign_off')),
    ADD CONSTRAINT answers_status CHECK (status BETWEEN 100 AND 599);
