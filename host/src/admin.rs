//! The commands that act on the database and exit: provisioning terminals, operators and
//! console users (R22), lifting a lockout (R16), a cut-off now (R15), the merchant API's keys
//! and webhook (R23), and the demo merchant `demo` serves with.
//! Each prints what an operator needs on standard output (`terminal add` its activation code
//! alone on the last line, which scripts read).

use crate::store::{CutoffClock, Store};
use softpos::terminal::money::{ConfirmAbove, Currency};
use std::io::BufRead;

const DEMO_MERCHANT: &str = "898310048160001";
const DEMO_TERMINAL: &str = "10000001";
/// What the demo merchant's slips print (R21).
const DEMO_MERCHANT_NAME: &str = "示例茶叶店 Demo Tea Shop";
/// The demo storefront's own terminal (www/checkout.html): a web shop is a terminal too.
const DEMO_CHECKOUT_TERMINAL: &str = "10000002";
/// The demo shop's checkout terminal (www/shop/, R23): each customer browser a lane of it.
const DEMO_SHOP_TERMINAL: &str = "20000001";
const DEMO_OPERATOR_PASSWORD: &str = "0101";
const DEMO_SUPERVISOR_PASSWORD: &str = "123456";
/// The demo merchant's console user (R22), at `/console/`.
const DEMO_CONSOLE_USER: &str = "owner";
const DEMO_CONSOLE_PASSWORD: &str = "demo-console";

/// `terminal add`: creates the terminal, or re-issues its activation code (and sets its
/// confirmation threshold when given).
pub(crate) async fn add_terminal(
    db: &str,
    merchant: &str,
    terminal: &str,
    currency: &str,
    confirm_above: Option<i64>,
) -> Result<(), String> {
    let currency = Currency::parse(currency).map_err(|e| e.message)?;
    let confirm_above = confirm_above
        .map(ConfirmAbove::try_from)
        .transpose()
        .map_err(str::to_owned)?;
    let store = Store::open(db, &CutoffClock::default_clock()).await?;
    let added = store
        .add_terminal(merchant, terminal, currency, confirm_above)
        .await
        .map_err(|e| e.message)?;
    let (code, currency) = (added.code, added.currency);
    println!(
        "terminal {terminal} of merchant {merchant} ({currency}), confirms sales above {} minor units",
        added.confirm_above.get()
    );
    println!("activation code, single use, valid 24 h:");
    println!("{code}");
    Ok(())
}

/// `terminal add --merchant-name`: the merchant's name on its slips (R21), the merchant made
/// if it is new.
pub(crate) async fn set_merchant_name(db: &str, merchant: &str, name: &str) -> Result<(), String> {
    let store = Store::open(db, &CutoffClock::default_clock()).await?;
    store
        .set_merchant_name(merchant, name)
        .await
        .map_err(|e| e.message)?;
    println!("merchant {merchant} prints as {name}");
    Ok(())
}

/// What `terminal add` is told about the terminal.
pub(crate) struct NewTerminal<'a> {
    pub(crate) merchant: &'a str,
    pub(crate) terminal: &'a str,
    pub(crate) currency: &'a str,
    pub(crate) confirm_above: Option<i64>,
}

/// `terminal add --checkout-origin`: a checkout terminal bound to the storefront origin
/// (R23). Its last line names the origin as stored, the form browsers send.
pub(crate) async fn add_checkout_terminal(
    db: &str,
    t: &NewTerminal<'_>,
    origin: &str,
) -> Result<(), String> {
    let currency = Currency::parse(t.currency).map_err(|e| e.message)?;
    let confirm_above = t
        .confirm_above
        .map(ConfirmAbove::try_from)
        .transpose()
        .map_err(str::to_owned)?;
    let store = Store::open(db, &CutoffClock::default_clock()).await?;
    let added = store
        .add_checkout_terminal(t.merchant, t.terminal, currency, confirm_above, origin)
        .await
        .map_err(|e| e.message)?;
    println!(
        "terminal {} of merchant {} ({}), confirms sales above {} minor units; \
         each customer browser becomes a lane of it (no activation code)",
        t.terminal,
        t.merchant,
        added.currency,
        added.confirm_above.get()
    );
    println!("checkout terminal {} bound to {}", t.terminal, added.origin);
    Ok(())
}

/// The first line of standard input, so a password never shows in a process list or a
/// shell's history.
fn password_from_stdin() -> Result<String, String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// `operator add`: the password is the first line of standard input.
pub(crate) async fn add_operator(db: &str, merchant: &str, operator: &str) -> Result<(), String> {
    let password = password_from_stdin()?;
    let store = Store::open(db, &CutoffClock::default_clock()).await?;
    store
        .add_operator(merchant, operator, password)
        .await
        .map_err(|e| e.message)?;
    println!("operator {operator} of merchant {merchant} saved");
    Ok(())
}

/// `admin add`: a merchant user of the console (R22); the password is the first line of
/// standard input.
pub(crate) async fn add_merchant_user(db: &str, merchant: &str, user: &str) -> Result<(), String> {
    let password = password_from_stdin()?;
    let store = Store::open(db, &CutoffClock::default_clock()).await?;
    store
        .add_merchant_user(merchant, user, password)
        .await
        .map_err(|e| e.message)?;
    println!("console user {user} of merchant {merchant} saved");
    Ok(())
}

/// `operator unlock`: lifts an R16 lock on one terminal, or on every terminal of the merchant.
pub(crate) async fn unlock_operator(
    db: &str,
    merchant: &str,
    operator: &str,
    terminal: Option<String>,
) -> Result<(), String> {
    let store = Store::open(db, &CutoffClock::default_clock()).await?;
    let cleared = store
        .unlock_operator(merchant, operator, terminal.as_deref())
        .await
        .map_err(|e| e.message)?;
    let scope = terminal.map_or("every terminal".to_owned(), |t| format!("terminal {t}"));
    tracing::info!(%merchant, %operator, %scope, cleared, "operator unlocked");
    println!("operator {operator} of merchant {merchant} unlocked on {scope}");
    Ok(())
}

/// `apikey add`: the key alone on the last line, shown this once.
pub(crate) async fn add_api_key(db: &str, merchant: &str) -> Result<(), String> {
    let store = Store::open(db, &CutoffClock::default_clock()).await?;
    let key = store.add_api_key(merchant).await.map_err(|e| e.message)?;
    println!("API key of merchant {merchant} (shown once; the host keeps only its hash):");
    println!("{key}");
    Ok(())
}

/// `webhook set`: the signing secret alone on the last line, shown this once.
pub(crate) async fn set_webhook(db: &str, merchant: &str, url: &str) -> Result<(), String> {
    let store = Store::open(db, &CutoffClock::default_clock()).await?;
    let secret = store
        .set_webhook(merchant, url)
        .await
        .map_err(|e| e.message)?;
    println!(
        "webhook of merchant {merchant} set; events are signed with this secret (shown once):"
    );
    println!("{secret}");
    Ok(())
}

/// `cutoff`: closes the current business date now (R15), on the clock `serve` is given.
pub(crate) async fn cutoff_now(db: &str, cutoff: &str, timezone: &str) -> Result<(), String> {
    let clock = CutoffClock::parse(cutoff, timezone)?;
    let store = Store::open(db, &clock).await?;
    let report = store.cutoff(&clock, false).await.map_err(|e| e.message)?;
    match report.closed_date {
        Some(date) => println!(
            "cut-off of business date {date}: {} batches closed; business date now {}",
            report.closed_batches, report.business_date
        ),
        None => println!("business date {} was already cut off", report.business_date),
    }
    Ok(())
}

/// Makes the demo merchant idempotently and returns what to print; `shop_origin` is the demo
/// shop's, which its checkout terminal is bound to (again at every start: its port may change).
pub(crate) async fn demo_setup(store: &Store, shop_origin: &str) -> Result<String, String> {
    let demo = store
        .add_terminal(DEMO_MERCHANT, DEMO_TERMINAL, Currency::Cny, None)
        .await
        .map_err(|e| e.message)?;
    let (code, currency) = (demo.code, demo.currency);
    store
        .set_merchant_name(DEMO_MERCHANT, DEMO_MERCHANT_NAME)
        .await
        .map_err(|e| e.message)?;
    let checkout_code = store
        .add_terminal(DEMO_MERCHANT, DEMO_CHECKOUT_TERMINAL, Currency::Cny, None)
        .await
        .map_err(|e| e.message)?
        .code;
    let shop = store
        .add_checkout_terminal(
            DEMO_MERCHANT,
            DEMO_SHOP_TERMINAL,
            Currency::Cny,
            None,
            shop_origin,
        )
        .await
        .map_err(|e| e.message)?;
    for (op, pw) in [
        ("01", DEMO_OPERATOR_PASSWORD),
        ("00", DEMO_SUPERVISOR_PASSWORD),
    ] {
        store
            .add_operator(DEMO_MERCHANT, op, pw.to_owned())
            .await
            .map_err(|e| e.message)?;
    }
    store
        .add_merchant_user(
            DEMO_MERCHANT,
            DEMO_CONSOLE_USER,
            DEMO_CONSOLE_PASSWORD.to_owned(),
        )
        .await
        .map_err(|e| e.message)?;
    Ok(format!(
        "softpos demo (demo passwords only: never use them for real money)\n\
         merchant id:      {DEMO_MERCHANT}\n\
         terminal id:      {DEMO_TERMINAL} ({currency})\n\
         operator 01:      password {DEMO_OPERATOR_PASSWORD}\n\
         supervisor 00:    password {DEMO_SUPERVISOR_PASSWORD}\n\
         test cards:       4111111111111111 approved, 4000000000000002 declined 05,\n\
         \x20                 4000000000009995 declined 51, 4000000000003220 answers after 30 s\n\
         checkout page:    terminal {DEMO_CHECKOUT_TERMINAL}, activation code {checkout_code}\n\
         shop checkout:    terminal {DEMO_SHOP_TERMINAL} bound to {}, a lane per customer\n\
         console:          /console/ user {DEMO_CONSOLE_USER}, password {DEMO_CONSOLE_PASSWORD}\n\
         activation code:  {code}",
        shop.origin
    ))
}
