//! R22 the merchant's console: the wire shapes of `/v1/console/*` (docs/api.md) and the CSV
//! of its history. The console is the merchant's, not a terminal's: these shapes live in the
//! host alone, never in the terminal's `softpos::protocol`.

use serde::{Deserialize, Serialize};
use softpos::protocol::{AcquirerVerdict, BatchTotals, Discrepancy, Outcome};
use softpos::secret::Secret;
use std::fmt::Write as _;
use utoipa::ToSchema;

/// What starts a console token: a terminal route knows it at once and refuses it, and a
/// console route refuses anything else, before any database lookup.
pub const TOKEN_PREFIX: &str = "console_";

/// Whether a bearer credential is a console token (by its form only).
pub fn is_console_token(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
}

/// `POST /v1/console/sign-in`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSignInRequest {
    /// The merchant's 15 digits.
    #[schema(pattern = r"^[0-9]{15}$", example = "898310048160001")]
    pub merchant_id: String,
    /// The merchant user's name (`softpos-host admin add --user`).
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,32}$", example = "owner")]
    pub user: String,
    /// The user's password.
    #[schema(value_type = String, min_length = 1)]
    pub password: Secret,
}

/// Answer to `POST /v1/console/sign-in`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleSignInResponse {
    /// The console token: `Authorization: Bearer …` on the console's routes only.
    pub console_token: String,
    /// When it stops working (30 minutes after sign-in), RFC 3339.
    pub expires_at: String,
}

/// Where a terminal stands now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TerminalState {
    /// An operator's session is live.
    SignedIn,
    /// Activated, no live session.
    SignedOff,
    /// Never activated (no terminal key).
    Unactivated,
    /// A checkout terminal (R23): never signed in itself; each customer browser trades in a
    /// lane of its own, unattended, sales only. Nothing to sign off, so never flagged.
    Checkout,
}

/// A risk the console flags (docs/rules.md, R22, defines each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// 未签退: the operator never signed off.
    NotSignedOff,
    /// 未结算: a batch closed at the cut-off is not settled by its terminal.
    NotSettledPastCutoff,
    /// Reversals the host still owes the acquirer.
    PendingReversals,
    /// 对账不平: the last settlement did not balance.
    UnbalancedLastSettlement,
}

/// The terminal's open batch as the host counts it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OpenBatch {
    /// The batch.
    pub batch_no: u32,
    /// Its business date, `YYYY-MM-DD`.
    pub business_date: String,
    /// Transactions booked in it, counted or not.
    pub entries: u64,
    /// The host's totals (R10).
    pub totals: BatchTotals,
}

/// The terminal's last settlement with the host.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LastSettlement {
    /// The batch.
    pub batch_no: u32,
    /// Balanced or not (after the batch upload, when there was one).
    pub outcome: Outcome,
    /// When the terminal settled it, RFC 3339.
    pub settled_at: Option<String>,
}

/// One terminal on the console's "Now".
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleTerminal {
    /// 8 characters.
    pub terminal_id: String,
    /// Signed in, signed off or never activated.
    pub state: TerminalState,
    /// The operator of its newest session.
    pub operator: Option<String>,
    /// Since when it is in `state` (sign-in, or the end of its newest session), RFC 3339.
    pub since: Option<String>,
    /// Its newest sign-in or transaction, RFC 3339.
    pub last_seen: Option<String>,
    /// Its open batch.
    pub open_batch: Option<OpenBatch>,
    /// Reversals the host still owes the acquirer for it.
    pub pending_reversals: u64,
    /// Its last settlement, if any.
    pub last_settlement: Option<LastSettlement>,
    /// The risks it carries; empty when none.
    pub flags: Vec<Flag>,
}

/// Answer to `GET /v1/console/terminals`: flagged terminals first, then by terminal id.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleTerminals {
    /// The merchant's terminals.
    pub terminals: Vec<ConsoleTerminal>,
}

/// Answer to `POST /v1/console/terminals/{terminal_id}/sign-off`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleSignOffResponse {
    /// The terminal.
    pub terminal_id: String,
    /// Sessions ended (0: it was signed off already).
    pub ended_sessions: u64,
    /// When, RFC 3339.
    pub signed_off_at: String,
}

/// One settlement in the console's history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleSettlement {
    /// Its business date, `YYYY-MM-DD`.
    pub business_date: String,
    /// The terminal.
    pub terminal_id: String,
    /// The batch.
    pub batch_no: u32,
    /// When the terminal settled it, RFC 3339.
    pub settled_at: Option<String>,
    /// Balanced or not (after the batch upload, when there was one).
    pub outcome: Outcome,
    /// Whether the host still waits for the terminal's batch upload.
    pub awaiting_upload: bool,
    /// What the terminal counted.
    pub terminal_totals: Option<BatchTotals>,
    /// What the host counted; this stands.
    pub host_totals: Option<BatchTotals>,
    /// Every difference the batch upload found, entry by entry.
    pub discrepancies: Vec<Discrepancy>,
    /// The acquirer's verdict on the host's record, when asked.
    pub acquirer_outcome: Option<AcquirerVerdict>,
}

/// A cut-off the host ran.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleCutoff {
    /// The business date it closed.
    pub business_date: String,
    /// When, RFC 3339.
    pub ran_at: String,
    /// Batches it closed (of every merchant).
    pub closed_batches: u64,
}

/// Answer to `GET /v1/console/settlements`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleSettlements {
    /// First business date, `YYYY-MM-DD`.
    pub from: String,
    /// Last business date, `YYYY-MM-DD`.
    pub to: String,
    /// By business date, terminal and batch.
    pub settlements: Vec<ConsoleSettlement>,
    /// The host's cut-offs of those dates.
    pub cutoffs: Vec<ConsoleCutoff>,
}

/// The query of `GET /v1/console/settlements`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SettlementsQuery {
    /// First business date; default 30 days before `to`.
    pub from: Option<String>,
    /// Last business date; default the host's business date.
    pub to: Option<String>,
    /// One terminal only.
    pub terminal_id: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// The query of `GET /v1/console/daily`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DailyQuery {
    /// Business days up to the host's business date, 1 to 366; default 30.
    pub days: Option<String>,
}

/// One terminal's net amount on one business day.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DailyNet {
    /// The business date, `YYYY-MM-DD`.
    pub business_date: String,
    /// The terminal.
    pub terminal_id: String,
    /// ISO 4217.
    pub currency: String,
    /// Approved sales − voids − refunds of that day's batches, minor units.
    pub net_amount: i64,
}

/// Answer to `GET /v1/console/daily`: the net amount per business day and terminal.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleDaily {
    /// First business date, `YYYY-MM-DD`.
    pub from: String,
    /// Last business date (the host's business date), `YYYY-MM-DD`.
    pub to: String,
    /// By business date and terminal; a terminal without approved transactions on a day
    /// has no entry for it.
    pub nets: Vec<DailyNet>,
}

/// The query of `GET /v1/console/hourly`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct HourlyQuery {
    /// The local date, `YYYY-MM-DD`; default today in the host's time zone.
    pub date: Option<String>,
}

/// Approved sales of one hour in one currency.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HourSales {
    /// ISO 4217.
    pub currency: String,
    /// Approved sales (voided ones included, as in the totals).
    pub count: u64,
    /// Their amount, minor units.
    pub amount: i64,
}

/// One hour of the local day.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleHour {
    /// The local hour, 0 to 23 (twice on the day daylight saving ends).
    pub hour: u8,
    /// When it starts, RFC 3339 with the local offset.
    pub starts_at: String,
    /// Its sales per currency; empty when none.
    pub sales: Vec<HourSales>,
}

/// Answer to `GET /v1/console/hourly`: approved sales per local hour of one day.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConsoleHourly {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// The host's time zone (`--timezone`), IANA name.
    pub timezone: Option<String>,
    /// Every hour of that day in order (23 or 25 on a daylight-saving change).
    pub hours: Vec<ConsoleHour>,
}

/// A CSV field: quoted when it holds a comma, quote or line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Balanced => "balanced",
        Outcome::Unbalanced => "unbalanced",
    }
}

fn verdict_text(v: Option<AcquirerVerdict>) -> &'static str {
    match v {
        Some(AcquirerVerdict::Balanced) => "balanced",
        Some(AcquirerVerdict::Unbalanced) => "unbalanced",
        Some(AcquirerVerdict::Error) => "error",
        Some(AcquirerVerdict::Pending) => "pending",
        None => "",
    }
}

/// The history as CSV (RFC 4180, CRLF): one row per settlement, totals of both sides in minor
/// units, and the discrepancies as `trace_no:kind` separated by spaces.
pub fn settlements_csv(s: &ConsoleSettlements) -> String {
    let mut out = String::from(
        "business_date,terminal_id,batch_no,settled_at,outcome,acquirer_outcome,currency,\
         terminal_sale_count,terminal_sale_amount,terminal_net_amount,host_sale_count,\
         host_sale_amount,host_net_amount,discrepancies\r\n",
    );
    let totals = |t: &Option<BatchTotals>| match t {
        Some(t) => [
            t.sale.count.to_string(),
            t.sale.amount.to_string(),
            t.net_amount.to_string(),
        ],
        None => Default::default(),
    };
    for row in &s.settlements {
        let [tc, ta, tn] = totals(&row.terminal_totals);
        let [hc, ha, hn] = totals(&row.host_totals);
        let currency = row
            .host_totals
            .as_ref()
            .map(|t| t.currency.clone())
            .unwrap_or_default();
        let discrepancies: Vec<String> = row
            .discrepancies
            .iter()
            .map(|d| {
                let kind = serde_json::to_value(d.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                format!("{}:{kind}", d.trace_no.get())
            })
            .collect();
        let fields = [
            row.business_date.clone(),
            row.terminal_id.clone(),
            row.batch_no.to_string(),
            row.settled_at.clone().unwrap_or_default(),
            outcome_text(row.outcome).to_owned(),
            verdict_text(row.acquirer_outcome).to_owned(),
            currency,
            tc,
            ta,
            tn,
            hc,
            ha,
            hn,
            discrepancies.join(" "),
        ];
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        // Writing to a String cannot fail.
        let _ = write!(out, "{}\r\n", line.join(","));
    }
    out
}
