//! R11's batch upload in chunks, over HTTP against the real host, on SQLite and (when
//! configured) PostgreSQL: the chunks a host holds (`upload_chunks`), how it answers a chunk
//! repeated, out of order or changed, and that the last chunk's answer is the one-shot upload's.

mod common;

use common::*;
use serde_json::{json, Value};
use softpos::protocol::{EntryKind, EntryStatus, JournalEntry};
use softpos::terminal::journal::Journal;

/// A fixed request id, the same in every host of a test.
fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// The terminal's journal of batch 1: sales 1..=8 of `amount` 100 each, the one at
/// `changed` (if any) of 101 instead.
fn journal(changed: Option<u32>) -> Vec<JournalEntry> {
    let mut journal = Journal::new(MERCHANT, TERMINAL, 1);
    for n in 1..=8 {
        let amount = if changed == Some(n) { 101 } else { 100 };
        entry(
            &mut journal,
            &id(n),
            EntryKind::Sale,
            n,
            amount,
            EntryStatus::Approved,
        );
    }
    journal.entries().to_vec()
}

/// A counter whose batch 1 awaits its upload: the host booked sales 1..=6 and 9 (the terminal
/// knows 1..=8), and the terminal's totals disagreed.
fn awaiting_upload(b: Backend) -> Counter {
    let c = Counter::new(b);
    for n in (1..=6).chain([9]) {
        let (st, body) = c.tx(&sale_body(&id(n), n, 100, CARD));
        assert_eq!(st, 200, "{body}");
    }
    let (st, s) = c.host.post(
        "/v1/settlements",
        Some(&c.token),
        &json!({"request_id": rid(), "batch_no": 1, "terminal_totals": totals(1, (8, 800), (0, 0), (0, 0))}),
    );
    assert_eq!(
        (st, s["outcome"].as_str()),
        (200, Some("unbalanced")),
        "{s}"
    );
    c
}

fn upload(
    c: &Counter,
    request_id: &str,
    entries: &[JournalEntry],
    from: u32,
    more: bool,
) -> (u16, Value) {
    c.host.post(
        "/v1/settlements/1/upload",
        Some(&c.token),
        &json!({"request_id": request_id, "entries": entries, "from": from, "more": more}),
    )
}

fn held(c: &Counter) -> (i64, i64) {
    (
        c.db.count("SELECT COUNT(*) AS n FROM upload_chunks"),
        c.db.count("SELECT CAST(COALESCE(SUM(entry_count), 0) AS BIGINT) AS n FROM upload_chunks"),
    )
}

fn received(n: u32) -> (u16, Value) {
    (200, json!({"batch_no": 1, "received": n}))
}

#[test]
fn r11_r9_a_journal_in_chunks_is_answered_as_the_whole_journal_and_each_chunk_counts_once() {
    each_backend(|b| {
        let whole = journal(None);
        // The journal in one body, the way it was always sent.
        let one = awaiting_upload(b);
        let (st, expected) = one.host.post(
            "/v1/settlements/1/upload",
            Some(&one.token),
            &json!({"request_id": rid(), "entries": whole}),
        );
        assert_eq!(st, 200, "{expected}");
        assert_eq!(
            expected["discrepancies"],
            json!([
                {"request_id": id(7), "trace_no": 7, "kind": "missing_on_host"},
                {"request_id": id(8), "trace_no": 8, "kind": "missing_on_host"},
                {"request_id": id(9), "trace_no": 9, "kind": "missing_on_terminal"},
            ])
        );

        // The same journal in three chunks, to another host in the same state.
        let c = awaiting_upload(b);
        let up = rid();
        assert_eq!(upload(&c, &up, &whole[..3], 0, true), received(3));
        assert_eq!(held(&c), (1, 3));
        // The first chunk again (its answer was lost): acknowledged, held once.
        assert_eq!(upload(&c, &up, &whole[..3], 0, true), received(3));
        assert_eq!(held(&c), (1, 3), "a repeated chunk counts once");
        // A chunk past what the host holds is not kept: the answer says where to go on.
        assert_eq!(upload(&c, &up, &whole[6..], 6, false), received(3));
        assert_eq!(held(&c), (1, 3), "an out-of-order chunk is not kept");
        // The first chunk changed since it was received: refused.
        let changed = journal(Some(2));
        let (st, body) = upload(&c, &up, &changed[..3], 0, true);
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        assert_eq!(upload(&c, &up, &whole[3..6], 3, true), received(6));
        assert_eq!(held(&c), (2, 6));
        // The last chunk: the whole journal's answer, as the one-shot upload's.
        let (st, answer) = upload(&c, &up, &whole[6..], 6, false);
        assert_eq!((st, &answer), (200, &expected));
        assert_eq!(held(&c), (0, 0), "the chunks are gone with the answer");
        // Its retry is answered as before (R9), and nothing was counted twice.
        assert_eq!(
            upload(&c, &up, &whole[6..], 6, false),
            (200, expected.clone())
        );
        // A chunk of the answered upload gets the answer too.
        assert_eq!(
            upload(&c, &up, &whole[..3], 0, true),
            (200, expected.clone())
        );
        assert_eq!(held(&c), (0, 0));
        assert_eq!(
            c.db.count("SELECT COUNT(*) AS n FROM answers WHERE scope = 'upload'"),
            1,
            "one answer kept for the upload"
        );
    });
}

#[test]
fn r11_r19_a_chunk_that_does_not_continue_the_chain_is_journal_tampered() {
    each_backend(|b| {
        let c = awaiting_upload(b);
        let whole = journal(None);
        // The rest of another journal, which differs from this one at entry 3: each chunk's
        // own chain holds, the link between them does not.
        let other = journal(Some(3));
        let mut spliced = whole[..3].to_vec();
        spliced.extend_from_slice(&other[3..]);
        let (st, body) = c.host.post(
            "/v1/settlements/1/upload",
            Some(&c.token),
            &json!({"request_id": rid(), "entries": spliced}),
        );
        assert_eq!(
            (st, code(&body)),
            (422, "JOURNAL_TAMPERED"),
            "one-shot: {body}"
        );
        let up = rid();
        assert_eq!(upload(&c, &up, &whole[..3], 0, true), received(3));
        for more in [true, false] {
            let (st, body) = upload(&c, &up, &other[3..6], 3, more);
            assert_eq!((st, code(&body)), (422, "JOURNAL_TAMPERED"), "{body}");
        }
        assert_eq!(held(&c), (1, 3), "nothing of it kept");
        // A chunk whose own chain breaks is refused as a whole journal would be.
        let mut broken = whole[3..6].to_vec();
        broken[1].amount = 1;
        let (st, body) = upload(&c, &up, &broken, 3, true);
        assert_eq!((st, code(&body)), (422, "JOURNAL_TAMPERED"), "{body}");
        // The journal as it is goes on from there.
        assert_eq!(upload(&c, &up, &whole[3..], 3, false).0, 200);
        assert_eq!(held(&c), (0, 0));
    });
}
