-- R7: `GET /v1/sales` lists a merchant's sales of the last 30 days, newest first, and looks
-- among them for a trace number or the card's last 4 digits. This index bounds that search to
-- the merchant's sales inside the window, read in the order they are listed.
CREATE INDEX transactions_sales_recent ON transactions (merchant_id, created_at)
    WHERE kind = 'sale';
