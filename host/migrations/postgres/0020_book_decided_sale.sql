-- A sale the acquirer decided at once, booked in one round trip (docs/architecture.md, "A
-- sale's trips to the database"). The host calls it as a statement of its own, outside any
-- transaction, so the statement's implicit transaction is the sale's and PostgreSQL's group
-- commit carries it. The host passes what it took the terminal's state to be (the session, its
-- terminal, the open batch) and the booking it made on that; the function books it only when
-- that still holds and the request is new (R8, R9), and else books nothing and says why, so
-- the host goes the long way, which decides every refusal as before.
--
-- Why a function: each statement in it takes a new snapshot under READ COMMITTED, so the
-- checks made after the batch's lock see what that lock's last holder committed (a reversal
-- that came while the sale waited). A single plain statement would read with the snapshot it
-- began with.

CREATE FUNCTION book_decided_sale(
    -- What the host took the terminal's state to be.
    p_token_hash TEXT, p_now BIGINT, p_batch_no BIGINT, p_upstream_batch_no BIGINT,
    -- The transaction row, as `transactions` takes it.
    p_id BIGINT, p_terminal_ref BIGINT, p_merchant_id TEXT, p_batch_id BIGINT,
    p_request_id TEXT, p_kind TEXT, p_trace_no BIGINT, p_amount BIGINT, p_status TEXT,
    p_response_code TEXT, p_auth_code TEXT, p_settlement_date TEXT, p_rrn TEXT,
    p_masked_pan TEXT, p_original_id BIGINT, p_operator TEXT, p_created_at BIGINT,
    p_reference TEXT,
    -- Its stored answer (R9).
    p_scope TEXT, p_fingerprint TEXT, p_answer_status BIGINT, p_answer_body TEXT,
    -- The merchant's webhook event, when the sale makes one (R23); NULL when not.
    p_event_id TEXT, p_event_type TEXT, p_event_body TEXT, p_event_at BIGINT
) RETURNS TEXT LANGUAGE plpgsql AS $$
BEGIN
    -- The terminal's open batch, locked first as every sale locks it (R15: a cut-off or a
    -- settlement waits for us or we for it). A batch closed while we waited no longer matches.
    PERFORM 1 FROM sessions s
      JOIN terminals t ON t.merchant_id = s.merchant_id AND t.id = s.terminal_ref
      JOIN batches b
        ON b.merchant_id = t.merchant_id AND b.terminal_ref = t.id AND b.status = 'open'
     WHERE s.token_hash = p_token_hash AND s.merchant_id = p_merchant_id
       AND t.id = p_terminal_ref AND b.id = p_batch_id AND b.batch_no = p_batch_no
       AND b.upstream_batch_no IS NOT DISTINCT FROM p_upstream_batch_no
       FOR UPDATE OF b;
    IF NOT FOUND THEN
        RETURN 'batch';
    END IF;
    -- A new snapshot: the session still live as the host judged it, and the request new (R8:
    -- not reversed; R9: not booked; its trace number unused in the batch), and nothing owed
    -- upstream for the terminal to send first.
    IF NOT EXISTS (SELECT 1 FROM sessions
                    WHERE token_hash = p_token_hash AND merchant_id = p_merchant_id
                      AND terminal_ref = p_terminal_ref AND operator = p_operator
                      AND ended_at IS NULL AND expires_at > p_now)
       OR EXISTS (SELECT 1 FROM reversals
                   WHERE merchant_id = p_merchant_id AND terminal_ref = p_terminal_ref
                     AND request_id = p_request_id)
       OR EXISTS (SELECT 1 FROM transactions
                   WHERE merchant_id = p_merchant_id AND terminal_ref = p_terminal_ref
                     AND request_id = p_request_id)
       OR EXISTS (SELECT 1 FROM transactions
                   WHERE merchant_id = p_merchant_id AND batch_id = p_batch_id
                     AND trace_no = p_trace_no)
       OR EXISTS (SELECT 1 FROM upstream_jobs WHERE terminal_ref = p_terminal_ref) THEN
        RETURN 'request';
    END IF;
    INSERT INTO transactions (id, terminal_ref, merchant_id, batch_id, request_id, kind,
        trace_no, amount, status, response_code, auth_code, settlement_date, rrn, masked_pan,
        original_id, operator, created_at, reference)
    VALUES (p_id, p_terminal_ref, p_merchant_id, p_batch_id, p_request_id, p_kind,
        p_trace_no, p_amount, p_status, p_response_code, p_auth_code, p_settlement_date, p_rrn,
        p_masked_pan, p_original_id, p_operator, p_created_at, p_reference);
    INSERT INTO answers (merchant_id, terminal_ref, scope, request_id, fingerprint, status,
        body, at)
    VALUES (p_merchant_id, p_terminal_ref, p_scope, p_request_id, p_fingerprint,
        p_answer_status, p_answer_body, p_created_at);
    IF p_event_id IS NOT NULL THEN
        -- Only for a merchant with a webhook, as every event.
        INSERT INTO webhook_events (merchant_id, event_id, transaction_id, type, body,
            created_at, next_at)
        SELECT merchant_id, p_event_id, p_id, p_event_type, p_event_body, p_event_at,
            p_event_at
          FROM merchant_webhooks WHERE merchant_id = p_merchant_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN 'booked';
END
$$;
