//! The JavaScript API in headless Chromium against a real `softpos-host` process.
//!
//! `scripts/test-wasm.sh` (run by `make test`) starts the host on a free loopback port with a
//! fresh SQLite file and passes the host's URL and the passwords in at compile time; each test
//! takes a terminal of its own from `fresh_terminal` (tests/browser/mod.rs) when it needs one.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Promise, JSON};
use softpos::wasm::Terminal;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

mod browser;

use browser::{code, fresh_terminal, get, json, num, ok, text};

wasm_bindgen_test_configure!(run_in_browser);

const HOST: &str = env!("SOFTPOS_TEST_HOST");
const OPERATOR_PASSWORD: &str = env!("SOFTPOS_TEST_OPERATOR_PASSWORD");
const SUPERVISOR_PASSWORD: &str = env!("SOFTPOS_TEST_SUPERVISOR_PASSWORD");
const MERCHANT: &str = "898310048160001";
const CARD: &str = "6212345678901232";
const EXPIRY: &str = "12/30";
const HELD_CARD: &str = "4000000000003220";

#[wasm_bindgen(inline_js = r#"
function open() {
  return new Promise((resolve, reject) => {
    const o = indexedDB.open('softpos');
    o.onsuccess = () => resolve(o.result);
    o.onerror = () => reject(o.error);
  });
}
export async function idbDump() {
  const db = await open();
  const tx = db.transaction(['meta', 'journal']);
  const read = (name) => new Promise((resolve) => {
    const store = tx.objectStore(name);
    const keys = store.getAllKeys();
    const values = store.getAll();
    values.onsuccess = () => resolve(keys.result.map((k, i) => [k, values.result[i]]));
  });
  const out = { meta: await read('meta'), journal: await read('journal') };
  db.close();
  return out;
}
export async function idbEdit(store, key, field, value) {
  const db = await open();
  const tx = db.transaction([store], 'readwrite');
  const s = tx.objectStore(store);
  await new Promise((resolve) => {
    const g = s.get(key);
    g.onsuccess = () => { const v = g.result; v[field] = value; s.put(v, key); };
    tx.oncomplete = resolve;
  });
  db.close();
}
export async function hostPost(url, path, token, body) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const r = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
export async function lockFree(name) {
  // Resolves once no page holds the terminal's Web Lock: its release is asynchronous.
  await navigator.locks.request(name, () => {});
}
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
export function tabSession(key) {
  return sessionStorage.getItem(key);
}
export function closeTab(key) {
  // What a closed tab or browser takes with it: its sessionStorage (this terminal's part).
  sessionStorage.removeItem(key);
}
export function localStorageKeys() {
  return Object.keys(localStorage).join(' ');
}
export async function hostGet(url, path, token) {
  const r = await fetch(url + path, { headers: { authorization: 'Bearer ' + token } });
  return { status: r.status, body: await r.json() };
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = idbDump)]
    fn idb_dump() -> Promise;
    #[wasm_bindgen(js_name = idbEdit)]
    fn idb_edit(store: &str, key: &str, field: &str, value: JsValue) -> Promise;
    #[wasm_bindgen(js_name = hostPost)]
    fn host_post(url: &str, path: &str, token: &str, body: JsValue) -> Promise;
    fn sleep(ms: u32) -> Promise;
    #[wasm_bindgen(js_name = lockFree)]
    fn lock_free(name: &str) -> Promise;
    #[wasm_bindgen(js_name = hostGet)]
    fn host_get(url: &str, path: &str, token: &str) -> Promise;
    #[wasm_bindgen(js_name = tabSession)]
    fn tab_session(key: &str) -> Option<String>;
    #[wasm_bindgen(js_name = closeTab)]
    fn close_tab(key: &str);
    #[wasm_bindgen(js_name = localStorageKeys)]
    fn local_storage_keys() -> String;
}

/// The `code` of the rejection.
async fn refused(p: Promise) -> String {
    match JsFuture::from(p).await {
        Ok(v) => panic!("expected a rejection, got {:?}", JSON::stringify(&v)),
        Err(e) => {
            assert!(e.is_instance_of::<js_sys::Error>(), "rejects with an Error");
            text(&e, "code")
        }
    }
}

async fn open_with(terminal: &str, extra: &str) -> Terminal {
    if extra.contains("browser") {
        // Each terminal on browser storage holds a Web Lock while it is open (one tab at a
        // time); a dropped one releases it asynchronously, as a closing tab does.
        let _ = JsFuture::from(lock_free(&format!("softpos:{MERCHANT}/{terminal}"))).await;
    }
    let config = json(&format!(
        r#"{{"hostUrl":"{HOST}","merchantId":"{MERCHANT}","terminalId":"{terminal}"{extra}}}"#
    ));
    match Terminal::connect(config).await {
        Ok(t) => t,
        Err(e) => panic!("open failed: {e}"),
    }
}

async fn open(terminal: &str) -> Terminal {
    open_with(terminal, r#","storage":"memory""#).await
}

async fn signed_in(terminal: &str, extra: &str) -> Terminal {
    let t = open_with(terminal, extra).await;
    ok(t.activate(code(terminal))).await;
    ok(t.sign_in("01".into(), OPERATOR_PASSWORD.into())).await;
    t
}

fn sale_req(amount: &str, pan: &str) -> JsValue {
    json(&format!(
        r#"{{"amount":{amount},"card":{{"pan":"{pan}","expiry":"{EXPIRY}"}}}}"#
    ))
}

fn void_req(trace: f64, password: &str) -> JsValue {
    json(&format!(
        r#"{{"traceNo":{trace},"supervisorPassword":"{password}"}}"#
    ))
}

fn refund_req(rrn: &str, amount: i64) -> JsValue {
    json(&format!(
        r#"{{"rrn":"{rrn}","amount":{amount},"supervisorPassword":"{SUPERVISOR_PASSWORD}"}}"#
    ))
}

#[wasm_bindgen_test]
async fn r1_transactions_before_sign_in_are_not_signed_in() {
    let tid = &fresh_terminal().await;
    let t = open(tid).await;
    assert_eq!(t.state(), "unactivated");
    assert_eq!(
        refused(t.sign_in("01".into(), "x".into())).await,
        "NOT_ACTIVATED"
    );
    ok(t.activate(code(tid))).await;
    assert_eq!(t.state(), "signed_off");
    assert_eq!(
        refused(t.sale(sale_req("100", CARD))).await,
        "NOT_SIGNED_IN"
    );
    assert_eq!(refused(t.settle()).await, "NOT_SIGNED_IN");
    assert_eq!(
        refused(t.sign_off(JsValue::UNDEFINED)).await,
        "NOT_SIGNED_IN"
    );
    assert_eq!(
        refused(t.void_sale(void_req(1.0, SUPERVISOR_PASSWORD))).await,
        "NOT_SIGNED_IN"
    );
}

#[wasm_bindgen_test]
async fn r2_a_second_call_while_one_is_in_flight_is_busy() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"memory""#).await;
    let first = t.sale(sale_req("100", CARD));
    assert_eq!(t.state(), "busy");
    assert_eq!(refused(t.settle()).await, "BUSY");
    assert_eq!(refused(t.sale(sale_req("200", CARD))).await, "BUSY");
    let r = ok(first).await;
    assert_eq!(text(&r, "status"), "approved");
    assert_eq!(t.state(), "signed_in");
    assert_eq!(num(&t.totals(), "sale.count"), 1.0);
}

#[wasm_bindgen_test]
async fn r3_amounts_that_are_not_positive_integers_are_refused() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"memory""#).await;
    for amount in [
        "0",
        "-5",
        "1.5",
        "\"100\"",
        "null",
        "100000000000",
        "9007199254740993",
    ] {
        let code = refused(t.sale(sale_req(amount, CARD))).await;
        assert_eq!(code, "INVALID_AMOUNT", "amount {amount}");
    }
    let r = ok(t.sale(sale_req("99999999999", CARD))).await;
    assert_eq!(num(&r, "amount"), 99_999_999_999.0);
    assert_eq!(
        t.journal().dyn_into::<Array>().unwrap().length(),
        1,
        "nothing else was sent"
    );
}

#[wasm_bindgen_test]
async fn r4_bad_cards_are_refused_and_no_secret_reaches_storage() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"browser""#).await;
    assert_eq!(
        refused(t.sale(sale_req("100", "6212345678901233"))).await,
        "INVALID_CARD"
    );
    let expired = json(r#"{"amount":100,"card":{"pan":"6212345678901232","expiry":"01/20"}}"#);
    assert_eq!(refused(t.sale(expired)).await, "INVALID_CARD");
    let r = ok(t.sale(sale_req("100", CARD))).await;
    assert_eq!(text(&r, "maskedPan"), "621234******1232");
    let sale_trace = num(&r, "traceNo");
    ok(t.void_sale(void_req(sale_trace, SUPERVISOR_PASSWORD))).await;
    let stored = JSON::stringify(&ok(idb_dump()).await)
        .unwrap()
        .as_string()
        .unwrap();
    assert!(
        stored.contains("621234******1232"),
        "the masked PAN is kept"
    );
    for secret in [CARD, EXPIRY, OPERATOR_PASSWORD, SUPERVISOR_PASSWORD] {
        assert!(!stored.contains(secret), "{secret} found in IndexedDB");
    }
}

#[wasm_bindgen_test]
async fn r5_approved_sales_count_and_declined_ones_do_not() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"memory""#).await;
    let ok_sale = ok(t.sale(sale_req("1250", CARD))).await;
    assert_eq!(text(&ok_sale, "status"), "approved");
    assert_eq!(text(&ok_sale, "responseCode"), "00");
    assert_eq!(text(&ok_sale, "currency"), "CNY");
    assert_eq!(text(&ok_sale, "rrn").len(), 12);
    let declined = ok(t.sale(sale_req("700", "4000000000000002"))).await;
    assert_eq!(text(&declined, "status"), "declined");
    assert_eq!(text(&declined, "responseCode"), "05");
    let insufficient = ok(t.sale(sale_req("700", "4000000000009995"))).await;
    assert_eq!(text(&insufficient, "responseCode"), "51");
    let totals = t.totals();
    assert_eq!(num(&totals, "sale.count"), 1.0);
    assert_eq!(num(&totals, "sale.amount"), 1250.0);
    assert_eq!(num(&totals, "netAmount"), 1250.0);
    let journal: Array = t.journal().dyn_into().unwrap();
    assert_eq!(journal.length(), 3);
    assert_eq!(text(&journal.get(1), "status"), "declined");
}

#[wasm_bindgen_test]
async fn r6_void_in_the_open_batch_and_refused_after_settlement() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"memory""#).await;
    let s1 = ok(t.sale(sale_req("1000", CARD))).await;
    let s2 = ok(t.sale(sale_req("400", CARD))).await;
    assert_eq!(
        refused(t.void_sale(void_req(num(&s1, "traceNo"), "wrong-password"))).await,
        "SUPERVISOR_REQUIRED"
    );
    let v = ok(t.void_sale(void_req(num(&s1, "traceNo"), SUPERVISOR_PASSWORD))).await;
    assert_eq!(
        (text(&v, "kind"), text(&v, "status")),
        ("void".into(), "approved".into())
    );
    assert_eq!(
        refused(t.void_sale(void_req(num(&s1, "traceNo"), SUPERVISOR_PASSWORD))).await,
        "ALREADY_VOIDED"
    );
    assert_eq!(
        refused(t.void_sale(void_req(999.0, SUPERVISOR_PASSWORD))).await,
        "UNKNOWN_TRANSACTION"
    );
    let totals = t.totals();
    assert_eq!(num(&totals, "sale.count"), 2.0);
    assert_eq!(num(&totals, "void.amount"), 1000.0);
    assert_eq!(num(&totals, "netAmount"), 400.0);
    let s = ok(t.settle()).await;
    assert_eq!(text(&s, "outcome"), "balanced");
    assert_eq!(
        refused(t.void_sale(void_req(num(&s2, "traceNo"), SUPERVISOR_PASSWORD))).await,
        "VOID_NOT_ALLOWED_SETTLED"
    );
}

#[wasm_bindgen_test]
async fn r7_refund_by_rrn_up_to_the_original_amount() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"memory""#).await;
    let sale = ok(t.sale(sale_req("1000", CARD))).await;
    let rrn = text(&sale, "rrn");
    ok(t.settle()).await;
    // The sale is in a settled batch now: only the host knows its refunds.
    let r = ok(t.refund(refund_req(&rrn, 600))).await;
    assert_eq!(
        (text(&r, "kind"), text(&r, "status")),
        ("refund".into(), "approved".into())
    );
    assert_eq!(
        refused(t.refund(refund_req(&rrn, 401))).await,
        "REFUND_EXCEEDS_ORIGINAL"
    );
    ok(t.refund(refund_req(&rrn, 400))).await;
    assert_eq!(
        refused(t.refund(refund_req(&rrn, 1))).await,
        "REFUND_EXCEEDS_ORIGINAL"
    );
    assert_eq!(num(&t.totals(), "refund.amount"), 1000.0);
    assert_eq!(num(&t.totals(), "netAmount"), -1000.0);
}

/// The sales `findSales(q)` resolves with.
async fn found(t: &Terminal, q: &str) -> Vec<JsValue> {
    Array::from(&ok(t.find_sales(q.into())).await)
        .iter()
        .collect()
}

#[wasm_bindgen_test]
async fn r7_a_sale_is_found_by_its_last_4_and_its_rrn_and_refunded_from_there() {
    let tid = &fresh_terminal().await;
    let t = signed_in(tid, r#","storage":"memory""#).await;
    let sale = ok(t.sale(sale_req("1000", CARD))).await;
    let rrn = text(&sale, "rrn");
    // The host's merchant is shared by every test terminal: pick ours out by its RRN.
    let by_last4 = found(&t, &CARD[CARD.len() - 4..]).await;
    let mine = by_last4
        .iter()
        .find(|s| text(s, "rrn") == rrn)
        .expect("found by the card's last 4");
    assert_eq!(text(mine, "maskedPan"), "621234******1232");
    assert_eq!(text(mine, "terminalId"), *tid);
    assert_eq!(num(mine, "traceNo"), num(&sale, "traceNo"));
    assert_eq!(num(mine, "refundable"), 1000.0);
    assert_eq!(get(mine, "voided").as_bool(), Some(false));
    let by_rrn = found(&t, &rrn).await;
    assert_eq!(by_rrn.len(), 1);
    ok(t.refund(refund_req(&text(&by_rrn[0], "rrn"), 400))).await;
    assert_eq!(num(&found(&t, &rrn).await[0], "refundable"), 600.0);

    // A card number typed into the search box is refused and never sent.
    assert_eq!(refused(t.find_sales(CARD.into())).await, "BAD_REQUEST");
    // R2: not while an operation is in flight.
    let in_flight = t.sale(sale_req("100", CARD));
    assert_eq!(refused(t.find_sales(String::new())).await, "BUSY");
    ok(in_flight).await;
    ok(t.sign_off(json(r#"{"settle":false}"#))).await;
    assert_eq!(refused(t.find_sales(rrn)).await, "NOT_SIGNED_IN");
}

#[wasm_bindgen_test]
async fn r8_a_lost_answer_is_reversed_before_the_next_operation() {
    let t = signed_in(
        &fresh_terminal().await,
        r#","storage":"memory","timeoutMs":1500"#,
    )
    .await;
    let code = refused(t.sale(sale_req("5000", HELD_CARD))).await;
    assert_eq!(code, "HOST_UNREACHABLE");
    assert_eq!(t.pending_reversals(), 1);
    let journal: Array = t.journal().dyn_into().unwrap();
    assert_eq!(text(&journal.get(0), "status"), "unknown");
    assert_eq!(
        num(&t.totals(), "sale.count"),
        0.0,
        "an unknown sale never counts"
    );
    let next = ok(t.sale(sale_req("300", CARD))).await;
    assert_eq!(text(&next, "status"), "approved");
    assert_eq!(t.pending_reversals(), 0);
    let journal: Array = t.journal().dyn_into().unwrap();
    assert_eq!(text(&journal.get(0), "status"), "reversed");
    assert_eq!(text(&journal.get(1), "kind"), "reversal");
    let s = ok(t.settle()).await;
    assert_eq!(text(&s, "outcome"), "balanced");
    assert_eq!(num(&s, "hostTotals.sale.amount"), 300.0);
}

#[wasm_bindgen_test]
async fn r11_balanced_settlement_closes_the_batch() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"memory""#).await;
    ok(t.sale(sale_req("1000", CARD))).await;
    ok(t.sale(sale_req("2000", CARD))).await;
    let batch = t.batch_no().unwrap();
    let s = ok(t.settle()).await;
    assert_eq!(text(&s, "outcome"), "balanced");
    assert_eq!(num(&s, "batchNo"), f64::from(batch));
    assert_eq!(num(&s, "terminalTotals.sale.amount"), 3000.0);
    assert_eq!(num(&s, "hostTotals.sale.amount"), 3000.0);
    assert_eq!(Array::from(&get(&s, "discrepancies")).length(), 0);
    // The host's simulator settled the batch too, and agrees (R11's second level).
    assert_eq!(text(&s, "acquirerOutcome"), "balanced");
    assert_eq!(t.batch_no(), Some(num(&s, "nextBatchNo") as u32));
    assert_eq!(num(&t.totals(), "sale.count"), 0.0);
}

#[wasm_bindgen_test]
async fn r11_unbalanced_settlement_uploads_the_journal_and_lists_discrepancies() {
    let tid = &fresh_terminal().await;
    let t = signed_in(tid, r#","storage":"browser""#).await;
    ok(t.sale(sale_req("1000", CARD))).await;
    // A second device with this terminal's key books a sale the terminal never sees (a
    // cloned terminal): the host counts it, the terminal does not.
    let dump = ok(idb_dump()).await;
    let meta = Array::from(&get(&dump, "meta"))
        .iter()
        .find(|row| Array::from(row).get(0).as_string() == Some(format!("{MERCHANT}/{tid}")))
        .map(|row| Array::from(&row).get(1))
        .expect("the terminal's stored state");
    let key = text(&meta, "terminal_key");
    let body = json(&format!(
        r#"{{"operator":"01","password":"{OPERATOR_PASSWORD}"}}"#
    ));
    let signed = ok(host_post(HOST, "/v1/sign-in", &key, body)).await;
    let token = text(&signed, "body.session_token");
    let next_trace = num(&signed, "body.next_trace_no") + 50.0;
    let sale = json(&format!(
        r#"{{"request_id":"7f0c7e3e-3f8e-4d3a-9c55-0a4b1c2d3e4f","kind":"sale","trace_no":{next_trace},
            "amount":555,"currency":"CNY","card":{{"pan":"{CARD}","expiry":"{EXPIRY}"}}}}"#
    ));
    let booked = ok(host_post(HOST, "/v1/transactions", &token, sale)).await;
    assert_eq!(
        num(&booked, "status"),
        200.0,
        "{:?}",
        JSON::stringify(&booked)
    );
    // That sign-in ended the terminal's own session; it signs in again.
    assert_eq!(
        refused(t.sale(sale_req("1", CARD))).await,
        "SESSION_EXPIRED"
    );
    ok(t.sign_in("01".into(), OPERATOR_PASSWORD.into())).await;
    let s = ok(t.settle()).await;
    assert_eq!(text(&s, "outcome"), "unbalanced");
    assert_eq!(num(&s, "terminalTotals.sale.amount"), 1000.0);
    assert_eq!(num(&s, "hostTotals.sale.amount"), 1555.0);
    let d = Array::from(&get(&s, "discrepancies"));
    assert_eq!(d.length(), 1);
    assert_eq!(text(&d.get(0), "kind"), "missing_on_terminal");
    assert_eq!(
        text(&s, "acquirerOutcome"),
        "balanced",
        "the upload's answer says it"
    );
    assert_eq!(
        text(&d.get(0), "requestId"),
        "7f0c7e3e-3f8e-4d3a-9c55-0a4b1c2d3e4f"
    );
    assert_eq!(
        num(&t.totals(), "sale.count"),
        0.0,
        "the batch closed either way"
    );
}

#[wasm_bindgen_test]
async fn r12_sign_off_settles_first_and_a_new_sign_in_ends_old_sessions() {
    let tid = &fresh_terminal().await;
    let t = signed_in(tid, r#","storage":"memory""#).await;
    ok(t.sale(sale_req("1000", CARD))).await;
    let off = ok(t.sign_off(JsValue::UNDEFINED)).await;
    assert_eq!(text(&off, "settlement.outcome"), "balanced");
    assert_eq!(t.state(), "signed_off");
    assert!(t.operator().is_none());
    assert_eq!(
        refused(t.sale(sale_req("100", CARD))).await,
        "NOT_SIGNED_IN"
    );
    // A session the host ended answers SESSION_EXPIRED: sign in twice on one terminal.
    ok(t.sign_in("01".into(), OPERATOR_PASSWORD.into())).await;
    let other = open(tid).await;
    ok(other.sign_in("01".into(), OPERATOR_PASSWORD.into())).await;
    assert_eq!(
        refused(t.sale(sale_req("100", CARD))).await,
        "SESSION_EXPIRED"
    );
    assert_eq!(t.state(), "signed_off");
    let off = ok(other.sign_off(json(r#"{"settle":false}"#))).await;
    assert!(get(&off, "settlement").is_null());
}

#[wasm_bindgen_test]
async fn r14_a_reload_mid_batch_reports_not_signed_off_and_leads_to_a_clean_state() {
    let tid = &fresh_terminal().await;
    let t = signed_in(tid, r#","storage":"browser""#).await;
    ok(t.sale(sale_req("1000", CARD))).await;
    ok(t.sale(sale_req("250", CARD))).await;
    drop(t);
    // The browser closes: the tab's session goes with it (a reload keeps it: the next test).
    close_tab(&format!("softpos:session:{MERCHANT}/{tid}"));
    let again = open_with(tid, r#","storage":"browser""#).await;
    assert_eq!(
        again.state(),
        "signed_off",
        "session tokens are not persisted"
    );
    let r = again.recovery();
    assert_eq!(text(&r, "kind"), "not_signed_off");
    assert_eq!(text(&r, "operator"), "01");
    assert_eq!(num(&r, "totals.sale.amount"), 1250.0);
    assert_eq!(
        num(&again.totals(), "sale.count"),
        2.0,
        "finished transactions stay"
    );
    ok(again.sign_in("01".into(), OPERATOR_PASSWORD.into())).await;
    let off = ok(again.sign_off(JsValue::UNDEFINED)).await;
    assert_eq!(text(&off, "settlement.outcome"), "balanced");
    assert!(again.recovery().is_null());
}

#[wasm_bindgen_test]
async fn r14_a_reload_of_the_same_tab_keeps_the_session_in_sessionstorage_only() {
    let tid = &fresh_terminal().await;
    let key = format!("softpos:session:{MERCHANT}/{tid}");
    let t = signed_in(tid, r#","storage":"browser""#).await;
    ok(t.sale(sale_req("1000", CARD))).await;
    let kept = tab_session(&key).expect("kept in the tab's sessionStorage");
    let dump = JSON::stringify(&ok(idb_dump()).await).unwrap();
    // The record's fixed-width fields end at 38; the token follows (src/wasm/tab_session.rs).
    assert!(
        kept[26..].starts_with("20"),
        "the business date at 26: {kept}"
    );
    let token = &kept[38..];
    assert!(token.len() > 16, "a token at 38");
    assert!(
        !dump.as_string().unwrap().contains(token),
        "never in IndexedDB"
    );
    assert!(
        !local_storage_keys().contains("softpos"),
        "never in localStorage"
    );
    drop(t); // the page reloads
    let again = open_with(tid, r#","storage":"browser""#).await;
    assert_eq!(again.state(), "signed_in");
    assert_eq!(again.operator().as_deref(), Some("01"));
    assert!(again.recovery().is_null(), "a same-day reload is no alarm");
    ok(again.sale(sale_req("250", CARD))).await;
    assert_eq!(num(&again.totals(), "sale.amount"), 1250.0);
    ok(again.sign_off(json(r#"{"settle":false}"#))).await;
    assert_eq!(tab_session(&key), None, "dropped at sign-off");
    // Signed off, a reload stays signed off with nothing to report.
    drop(again);
    let off = open_with(tid, r#","storage":"browser""#).await;
    assert_eq!(off.state(), "signed_off");
    assert!(off.recovery().is_null());
}

#[wasm_bindgen_test]
async fn r13_r14_the_kept_session_moves_its_clock_in_10_s_steps_so_sales_in_a_row_write_it_once() {
    let tid = &fresh_terminal().await;
    let key = format!("softpos:session:{MERCHANT}/{tid}");
    let t = signed_in(tid, r#","storage":"browser""#).await;
    ok(t.sale(sale_req("1000", CARD))).await;
    let kept = tab_session(&key).expect("kept in the tab's sessionStorage");
    // The last activity, at 10..26 of the record (src/wasm/tab_session.rs).
    let clock = |k: &str| k[10..26].parse::<i64>().expect("digits");
    assert_eq!(clock(&kept) % 10_000, 0, "kept to the 10 s below: {kept}");
    assert!(
        clock(&kept) <= js_sys::Date::now() as i64,
        "never ahead of the terminal"
    );
    ok(t.sale(sale_req("1000", CARD))).await;
    let after = tab_session(&key).expect("still kept");
    // The same record, unless the two sales fell either side of a 10 s step.
    assert!(
        after == kept || clock(&after) == clock(&kept) + 10_000,
        "{kept} then {after}"
    );
    ok(t.sign_off(json(r#"{"settle":false}"#))).await;
    assert_eq!(tab_session(&key), None, "dropped at sign-off");
}

#[wasm_bindgen_test]
async fn r18_a_reload_with_a_request_in_flight_queues_its_reversal() {
    let tid = &fresh_terminal().await;
    let t = signed_in(tid, r#","storage":"browser""#).await;
    ok(t.sale(sale_req("1000", CARD))).await;
    // The page "reloads" while the held sale is in flight, once its write-ahead record is
    // stored (the request leaves right after).
    let in_flight = t.sale(sale_req("700", HELD_CARD));
    let mut written = false;
    for _ in 0..100 {
        let dump = ok(idb_dump()).await;
        written = Array::from(&get(&dump, "meta")).iter().any(|row| {
            let row = Array::from(&row);
            row.get(0).as_string() == Some(format!("{MERCHANT}/{tid}"))
                && get(&row.get(1), "in_flight").is_object()
        });
        if written {
            break;
        }
        ok(sleep(20)).await;
    }
    assert!(written, "the sale was written ahead");
    // A reload ends the old page and with it its Web Lock on the terminal.
    drop(t);
    let again = open_with(tid, r#","storage":"browser""#).await;
    assert_eq!(again.pending_reversals(), 1);
    assert_eq!(num(&again.totals(), "sale.amount"), 1000.0);
    let signed = ok(again.sign_in("01".into(), OPERATOR_PASSWORD.into())).await;
    assert_eq!(
        num(&signed, "pendingReversals"),
        0.0,
        "reversed right after sign-in"
    );
    let s = ok(again.settle()).await;
    assert_eq!(text(&s, "outcome"), "balanced");
    assert_eq!(num(&s, "hostTotals.sale.amount"), 1000.0);
    drop(in_flight);
}

#[wasm_bindgen_test]
async fn r19_a_tampered_journal_is_refused_on_open() {
    let tid = &fresh_terminal().await;
    let t = signed_in(tid, r#","storage":"browser""#).await;
    ok(t.sale(sale_req("1000", CARD))).await;
    ok(t.sale(sale_req("2000", CARD))).await;
    let batch = t.batch_no().unwrap();
    drop(t);
    let key = format!("{MERCHANT}/{tid}/{batch:06}/{:010}", 1);
    ok(idb_edit("journal", &key, "amount", JsValue::from(1))).await;
    let _ = JsFuture::from(lock_free(&format!("softpos:{MERCHANT}/{tid}"))).await;
    let config = json(&format!(
        r#"{{"hostUrl":"{HOST}","merchantId":"{MERCHANT}","terminalId":"{tid}","storage":"browser"}}"#
    ));
    assert_eq!(refused(Terminal::open(config)).await, "JOURNAL_TAMPERED");
}

#[wasm_bindgen_test]
async fn r16_three_wrong_passwords_lock_the_operator() {
    // Operator 02 is this test's alone: a lock is per operator of the merchant.
    let tid = &fresh_terminal().await;
    let t = open(tid).await;
    ok(t.activate(code(tid))).await;
    for _ in 0..2 {
        assert_eq!(
            refused(t.sign_in("02".into(), "wrong".into())).await,
            "BAD_CREDENTIALS"
        );
    }
    let third = refused(t.sign_in("02".into(), "wrong".into())).await;
    assert!(
        ["BAD_CREDENTIALS", "OPERATOR_LOCKED"].contains(&third.as_str()),
        "{third}"
    );
    assert_eq!(
        refused(t.sign_in("02".into(), OPERATOR_PASSWORD.into())).await,
        "OPERATOR_LOCKED",
        "even the right password waits out the lock"
    );
}

#[wasm_bindgen_test]
async fn events_reach_subscribers_until_they_unsubscribe() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"memory""#).await;
    let seen = Array::new();
    let sink = seen.clone();
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&get(&e, "type"));
    });
    let listener_fn: Function = listener.as_ref().clone().unchecked_into();
    let unsubscribe: Function = t.subscribe(listener_fn).unchecked_into();
    ok(t.sale(sale_req("100", CARD))).await;
    let kinds: Vec<String> = seen.iter().filter_map(|v| v.as_string()).collect();
    assert!(kinds.contains(&"transaction".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"state".to_owned()), "{kinds:?}");
    unsubscribe.call0(&JsValue::NULL).unwrap();
    let before = seen.length();
    ok(t.sale(sale_req("100", CARD))).await;
    assert_eq!(seen.length(), before);
}

#[wasm_bindgen_test]
async fn open_refuses_a_bad_config_with_bad_request() {
    for extra in [
        r#""hostUrl":"ftp://x","merchantId":"898310048160001","terminalId":"20000017""#,
        r#""hostUrl":"http://x","merchantId":"123","terminalId":"20000017""#,
        r#""hostUrl":"http://x","merchantId":"898310048160001","terminalId":"2000001!""#,
        r#""hostUrl":"http://x","merchantId":"898310048160001","terminalId":"20000017","storage":"disk""#,
        r#""hostUrl":"http://x","merchantId":"898310048160001","terminalId":"20000017","colour":"red""#,
    ] {
        let config = json(&format!("{{{extra}}}"));
        assert_eq!(
            refused(Terminal::open(config)).await,
            "BAD_REQUEST",
            "{extra}"
        );
    }
}

#[wasm_bindgen_test]
async fn totals_match_the_hosts_current_batch() {
    let tid = &fresh_terminal().await;
    let t = signed_in(tid, r#","storage":"browser""#).await;
    let s = ok(t.sale(sale_req("1000", CARD))).await;
    ok(t.sale(sale_req("2500", CARD))).await;
    ok(t.void_sale(void_req(num(&s, "traceNo"), SUPERVISOR_PASSWORD))).await;
    // Ask the host with a second session, then let the terminal settle.
    let dump = ok(idb_dump()).await;
    let meta = Array::from(&get(&dump, "meta"))
        .iter()
        .find(|row| Array::from(row).get(0).as_string() == Some(format!("{MERCHANT}/{tid}")))
        .map(|row| Array::from(&row).get(1))
        .expect("stored state");
    let body = json(&format!(
        r#"{{"operator":"01","password":"{OPERATOR_PASSWORD}"}}"#
    ));
    let signed = ok(host_post(
        HOST,
        "/v1/sign-in",
        &text(&meta, "terminal_key"),
        body,
    ))
    .await;
    let token = text(&signed, "body.session_token");
    let current = ok(host_get(HOST, "/v1/batches/current", &token)).await;
    let host = get(&current, "body.host_totals");
    let mine = t.totals();
    for (h, m) in [
        ("sale.count", "sale.count"),
        ("sale.amount", "sale.amount"),
        ("void.amount", "void.amount"),
        ("net_amount", "netAmount"),
    ] {
        assert_eq!(num(&host, h), num(&mine, m), "{h}");
    }
}

fn hold_req(amount: i64) -> JsValue {
    json(&format!(
        r#"{{"amount":{amount},"card":{{"pan":"{CARD}","expiry":"{EXPIRY}"}}}}"#
    ))
}

fn completion_req(hold: &JsValue, amount: i64) -> JsValue {
    json(&format!(
        r#"{{"rrn":"{}","authCode":"{}","amount":{amount},"card":{{"pan":"{CARD}","expiry":"{EXPIRY}"}}}}"#,
        text(hold, "rrn"),
        text(hold, "authCode")
    ))
}

fn release_req(hold: &JsValue, amount: i64) -> JsValue {
    json(&format!(
        r#"{{"rrn":"{}","authCode":"{}","amount":{amount},"supervisorPassword":"{SUPERVISOR_PASSWORD}"}}"#,
        text(hold, "rrn"),
        text(hold, "authCode")
    ))
}

#[wasm_bindgen_test]
async fn r20_preauth_complete_at_110_percent_then_refused_then_completion_void_against_the_host() {
    let t = signed_in(&fresh_terminal().await, r#","storage":"memory""#).await;
    let a = ok(t.pre_auth(hold_req(10_000))).await;
    assert_eq!(
        (text(&a, "kind"), text(&a, "status")),
        ("preauth".into(), "approved".into())
    );
    let b = ok(t.pre_auth(hold_req(2_000))).await;
    // The open batch holds them: the terminal refuses 120 % itself.
    assert_eq!(
        refused(t.complete(completion_req(&a, 12_000))).await,
        "INVALID_AMOUNT"
    );
    // A release is for the whole hold, with the supervisor.
    let c = ok(t.pre_auth(hold_req(500))).await;
    assert_eq!(
        refused(t.pre_auth_void(release_req(&c, 400))).await,
        "INVALID_AMOUNT"
    );
    let r = ok(t.pre_auth_void(release_req(&c, 500))).await;
    assert_eq!(text(&r, "kind"), "preauth_void");
    assert_eq!(
        num(&t.totals(), "netAmount"),
        0.0,
        "holds count in no total"
    );
    assert_eq!(text(&ok(t.settle()).await, "outcome"), "balanced");

    // A new batch: the holds are the host's to judge.
    let done = ok(t.complete(completion_req(&a, 11_000))).await;
    assert_eq!(
        (text(&done, "kind"), text(&done, "status")),
        ("completion".into(), "approved".into())
    );
    assert_eq!(
        refused(t.complete(completion_req(&a, 12_000))).await,
        "PREAUTH_COMPLETED"
    );
    assert_eq!(
        refused(t.complete(completion_req(&b, 2_400))).await,
        "INVALID_AMOUNT"
    );
    let totals = t.totals();
    assert_eq!(num(&totals, "completion.amount"), 11_000.0);
    assert_eq!(num(&totals, "netAmount"), 11_000.0);

    let cv = json(&format!(
        r#"{{"traceNo":{},"supervisorPassword":"{SUPERVISOR_PASSWORD}"}}"#,
        num(&done, "traceNo")
    ));
    let v = ok(t.completion_void(cv)).await;
    assert_eq!(
        (text(&v, "kind"), text(&v, "status")),
        ("completion_void".into(), "approved".into())
    );
    let totals = t.totals();
    assert_eq!(num(&totals, "void.amount"), 11_000.0);
    assert_eq!(num(&totals, "netAmount"), 0.0);
    // The void opened the hold again; 115 % of it is the most.
    ok(t.complete(completion_req(&a, 11_500))).await;
    let kinds: Vec<String> = Array::from(&t.journal())
        .iter()
        .map(|e| text(&e, "kind"))
        .collect();
    assert_eq!(kinds, ["completion", "completion_void", "completion"]);
    let s = ok(t.settle()).await;
    assert_eq!(text(&s, "outcome"), "balanced");
    assert_eq!(num(&s, "hostTotals.completion.amount"), 22_500.0);
    assert_eq!(num(&s, "hostTotals.netAmount"), 11_500.0);
}
