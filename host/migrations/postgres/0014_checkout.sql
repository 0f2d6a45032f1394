-- The hosted checkout (docs/rules.md, R23). A checkout terminal is a template the merchant
-- registers once (`terminal add --checkout-origin`): `checkout_origin` is the storefront origin
-- it is bound to, in the serialized form browsers send in `Origin`. Every customer browser
-- that opens the checkout frame becomes a lane of it: a terminal of its own (own key, trace
-- numbers and batches), made on demand, with `lane_of` naming its checkout terminal; a lane's
-- session trades sales only. `transactions.reference` is the storefront's order reference sent
-- with a sale, by which the shop's backend finds its payment.

ALTER TABLE terminals ADD COLUMN checkout_origin TEXT NULL;
ALTER TABLE terminals ADD COLUMN lane_of BIGINT NULL;
-- A lane is of its checkout terminal's merchant (terminals are keyed by merchant, 0005).
ALTER TABLE terminals ADD FOREIGN KEY (merchant_id, lane_of) REFERENCES terminals (merchant_id, id);
ALTER TABLE transactions ADD COLUMN reference TEXT NULL;
CREATE INDEX transactions_reference ON transactions (merchant_id, reference);
