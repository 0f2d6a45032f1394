-- R20 pre-authorisation [预授权] (docs/rules.md): `transactions.kind` takes `preauth`,
-- `preauth_void`, `completion` and `completion_void`. A hold is its approved `preauth` row: its
-- amount is the row's, it expires 30 days after it was booked (`created_at`), `voided` = 1
-- means an approved `preauth_void` released it, and `completed_by` names the completion that
-- completed it (NULL: not completed; a hold is completed once, so one id at most). A
-- completion's and a pre-auth void's `original_id` is the hold; a completion void's is its
-- completion.

ALTER TABLE transactions
    DROP CONSTRAINT transactions_kind,
    ADD CONSTRAINT transactions_kind CHECK (kind IN ('sale', 'void', 'refund', 'preauth',
        'preauth_void', 'completion', 'completion_void')),
    ADD COLUMN completed_by BIGINT NULL;
