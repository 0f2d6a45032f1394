-- R11 chunked batch upload [批上送] (docs/rules.md): the chunks of a terminal's journal the host
-- has received for a batch awaiting its upload, until the last chunk comes and the whole
-- journal is reconciled (in that transaction the rows are deleted). One row a chunk, keyed by
-- where in the journal its first entry is; `entries` is the chunk's JSON array of journal
-- entries as the terminal sent them (masked PAN only, as every journal entry: no card data),
-- its chain checked (R19) and linked to the chunk before it, whose `last_hash` it continues.

CREATE TABLE upload_chunks (
    merchant_id TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    first_index BIGINT NOT NULL CHECK (first_index >= 0),
    entry_count BIGINT NOT NULL CHECK (entry_count > 0),
    last_hash TEXT NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (merchant_id, batch_id, first_index),
    FOREIGN KEY (merchant_id, batch_id) REFERENCES batches (merchant_id, id)
);
