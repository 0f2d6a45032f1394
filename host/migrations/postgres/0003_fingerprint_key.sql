-- R9: the host's secret for the card's part of idempotency fingerprints, generated on first
-- start (unless `serve --fingerprint-key-file` gives one from outside the database).
CREATE TABLE host_secrets (
    name TEXT PRIMARY KEY CHECK (name IN ('fingerprint_key')),
    value TEXT NOT NULL
);
