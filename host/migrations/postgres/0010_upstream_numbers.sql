-- The numbers the acquirer gives, kept for the messages that repeat them.
--
-- `batches.upstream_batch_no`: the batch's number toward the acquirer (60.2 of every message
-- of the batch), when the acquirer assigned one at sign-in (60.2 of its 0810) or the batch
-- before had one (the next batch takes the next number); NULL: the host's own `batch_no`.
-- The terminal sees only `batch_no`.
--
-- `transactions.settlement_date`: the acquirer's settlement date of an approved transaction,
-- MMDD (field 15 of its answer), which a refund's 61.3 repeats; NULL when the acquirer gave
-- none (the simulator) or for rows from before it was kept: the refund then takes the day the
-- sale was booked.

ALTER TABLE batches ADD COLUMN upstream_batch_no BIGINT
    CHECK (upstream_batch_no BETWEEN 1 AND 999999);
ALTER TABLE transactions ADD COLUMN settlement_date TEXT
    CHECK (char_length(settlement_date) = 4);
