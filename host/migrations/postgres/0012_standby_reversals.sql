-- Standby reversals (docs/rules.md, R8 "Upstream"): when the acquirer approves a sale, void or
-- refund and the host answers it, a reversal of it (reason `06`, with the sale's card sealed)
-- is kept in `upstream_jobs` with `next_at` at the largest 64-bit integer: never due, seen by
-- no sender. The terminal's reversal of that transaction makes it due; the terminal's next
-- transaction, settlement or sign-off deletes it. Each terminal holds at most one, so every
-- answer now finds its transaction's jobs by this index, not by reading the table.

CREATE INDEX upstream_jobs_transaction ON upstream_jobs (merchant_id, transaction_id);
