-- The amount above which a terminal asks its cashier to confirm a sale (with the amount in
-- words) before sending it, in minor units, told to the terminal at sign-in. Terminals made
-- before it get the default, ¥10 000.00.

ALTER TABLE terminals ADD COLUMN confirm_above INTEGER NOT NULL DEFAULT 1000000
    CHECK (confirm_above BETWEEN 1 AND 99999999999);
