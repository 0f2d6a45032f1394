-- Two-level reconciliation, never dropped (docs/rules.md R11): once the terminal has settled a
-- batch with the host, the host owes the acquirer that batch's settlement until the acquirer
-- answers. `acquirer_due_at`: when the host next tries (ms since the epoch), or until when a
-- host process holds it while it asks; NULL once the acquirer's verdict is kept, and for the
-- batches settled before this migration. `acquirer_tries`: tries without an answer, for the
-- backoff. `settled_by`: the operator whose settlement it was (field 63 of the 0500).
--
-- `answers.batch_id`: the batch a settlement's or upload's stored answer (R9) tells of, so the
-- acquirer's verdict, once known, is written into every answer of its batch.

ALTER TABLE batches ADD COLUMN acquirer_due_at BIGINT;
ALTER TABLE batches ADD COLUMN acquirer_tries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN settled_by TEXT;
CREATE INDEX batches_acquirer_due ON batches (acquirer_due_at) WHERE acquirer_due_at IS NOT NULL;

ALTER TABLE answers ADD COLUMN batch_id BIGINT;
CREATE INDEX answers_of_batch ON answers (merchant_id, batch_id) WHERE batch_id IS NOT NULL;
