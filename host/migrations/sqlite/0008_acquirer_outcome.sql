-- Two-level reconciliation: the terminal settles a batch with the host, and the host settles
-- the same batch with its acquirer. The acquirer's verdict on the host's totals is kept with
-- the batch: `balanced`, `unbalanced` (its record differs from the host's) or `error` (it
-- could not settle). NULL: not settled with the acquirer yet, or no answer came.

ALTER TABLE batches ADD COLUMN acquirer_outcome TEXT
    CHECK (acquirer_outcome IN ('balanced', 'unbalanced', 'error'));
