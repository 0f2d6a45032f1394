-- R21 slips: the merchant's name as its slips print it, one per merchant (every terminal of
-- the merchant prints the same), set by `terminal add --merchant-name` and told to the
-- terminal at sign-in. NULL: none given; the slip prints the merchant id alone.

ALTER TABLE merchants ADD COLUMN merchant_name TEXT
    CHECK (merchant_name IS NULL OR length(merchant_name) BETWEEN 1 AND 40);
