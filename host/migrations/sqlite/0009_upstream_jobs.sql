-- Store-and-forward toward the acquirer (docs/rules.md, R8 "Upstream"): a message whose
-- outcome upstream is unknown is owed to the acquirer until it answers. `reversal`: a 0400 of
-- the transaction (`reason` its field 39, `98` no answer or `06` other); `advice`: a refund
-- sent again as it was. `request` is the original message without card data (JSON); `card`
-- is the sale's card number and expiry sealed with AES-256-GCM under the data key, which is
-- never in the database, bound to the job's id, NULL when there is none or no key. A job is
-- deleted once the acquirer answers it. `leased_until`: a host process is sending it now.

CREATE TABLE upstream_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    terminal_ref INTEGER NOT NULL,
    transaction_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('reversal', 'advice')),
    reason TEXT CHECK (reason IN ('98', '06')),
    request TEXT NOT NULL,
    card TEXT,
    tries INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    leased_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    FOREIGN KEY (merchant_id, terminal_ref) REFERENCES terminals (merchant_id, id),
    FOREIGN KEY (merchant_id, transaction_id) REFERENCES transactions (merchant_id, id)
);
CREATE INDEX upstream_jobs_terminal ON upstream_jobs (terminal_ref, id);
CREATE INDEX upstream_jobs_due ON upstream_jobs (next_at);
