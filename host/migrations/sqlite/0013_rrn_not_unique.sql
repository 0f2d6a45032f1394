-- The RRN is the acquirer's (field 37) since the host forwards to one, and an acquirer only
-- promises it unique for a while (a counter that restarts, a time of day and a sequence): two
-- sales of one merchant may carry the same RRN months apart, or even across its terminals. A
-- unique index would refuse to book an approval the acquirer already gave. It stays an index:
-- a refund and the sales lookup find a sale by RRN through it (R7, docs/rules.md).

DROP INDEX transactions_rrn;
CREATE INDEX transactions_rrn ON transactions (merchant_id, rrn);
