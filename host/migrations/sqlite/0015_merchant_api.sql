-- The merchant API and webhooks (docs/rules.md, R23 "The shop's server"). A merchant's API
-- keys are kept only as SHA-256 hashes, as terminal keys are: the key is what names the
-- merchant, so it is looked up by its hash alone. The webhook's signing secret is kept as it
-- is, because the host signs with it.
--
-- `webhook_events` is the outbox: an event is written in the database transaction of the
-- ledger change it reports (an approved sale, void or refund, or the reversal of an approved
-- sale), only for a merchant with a webhook, and kept once delivered (`delivered_at`). One
-- event per transaction and type; `body` is the JSON sent, the same bytes on every try.
-- `leased_until`: a host process is posting it now; `next_at`: when it is tried (again).

CREATE TABLE merchant_api_keys (
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, key_hash)
);

CREATE TABLE merchant_webhooks (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants (merchant_id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    transaction_id INTEGER NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('payment.approved', 'payment.voided',
        'payment.refunded', 'payment.reversed')),
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    leased_until INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    delivered_at INTEGER,
    UNIQUE (merchant_id, transaction_id, type),
    FOREIGN KEY (merchant_id, transaction_id) REFERENCES transactions (merchant_id, id)
);
CREATE INDEX webhook_events_due ON webhook_events (next_at) WHERE delivered_at IS NULL;
