//! What a merchant sets up and what a person asks for: the terminal's configuration, its
//! state as the UI sees it, and the commands that start an operation.

use crate::error::{Error, ErrorCode};
use crate::ids::{MerchantId, TerminalId};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// Default for [`Config::max_batch_entries`].
pub const DEFAULT_MAX_BATCH_ENTRIES: u32 = 20_000;
/// The most [`Config::max_batch_entries`] may be: a batch never holds more transactions than
/// there are trace numbers (999 999), and a million entries of the largest amount stay far
/// inside i64, so the totals cannot overflow (R10).
pub const MAX_BATCH_ENTRIES: u32 = 1_000_000;

/// How a terminal is set up by its merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// 15 digits.
    pub merchant_id: String,
    /// 8 ASCII letters or digits.
    pub terminal_id: String,
    /// R13: sign off right after every settlement.
    pub auto_sign_off_after_settle: bool,
    /// R13: sign off after this many minutes without an operation; 0 = never.
    pub idle_sign_off_minutes: u32,
    /// R11: entries a batch may hold before sales fail with `BATCH_FULL`.
    pub max_batch_entries: u32,
}

impl Config {
    /// A configuration with the contract's defaults.
    pub fn new(merchant_id: &str, terminal_id: &str) -> Config {
        Config {
            merchant_id: merchant_id.to_owned(),
            terminal_id: terminal_id.to_owned(),
            auto_sign_off_after_settle: false,
            idle_sign_off_minutes: 0,
            max_batch_entries: DEFAULT_MAX_BATCH_ENTRIES,
        }
    }

    /// Checks the identifiers (docs/rules.md, "Identifiers and amounts").
    pub fn validate(&self) -> Result<(), Error> {
        // The shapes are the ids' (src/ids.rs); the messages name the JS API's keys.
        if MerchantId::parse(&self.merchant_id).is_err() {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "merchantId must be 15 digits",
            ));
        }
        if TerminalId::parse(&self.terminal_id).is_err() {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "terminalId must be 8 letters or digits",
            ));
        }
        if !(1..=MAX_BATCH_ENTRIES).contains(&self.max_batch_entries) {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                format_args!("maxBatchEntries must be 1 to {MAX_BATCH_ENTRIES}"),
            ));
        }
        Ok(())
    }
}

/// What the terminal can do right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No terminal key yet: only `activate`.
    Unactivated,
    /// Activated, nobody signed in: only `signIn`.
    SignedOff,
    /// An operator may transact.
    SignedIn,
    /// An operation is in flight (R2).
    Busy,
}

/// An operation a person asks for. Secrets in it live only until the request is built.
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    /// Exchange a single-use activation code for the terminal key (R17).
    Activate {
        /// As printed by `softpos-host terminal add`.
        code: String,
    },
    /// 签到.
    SignIn {
        /// `"01"`..`"99"`, `"00"` for the supervisor.
        operator: String,
        /// Never stored.
        password: Secret,
    },
    /// 签到 of a storefront's lane of a checkout terminal (R23): no operator and no password;
    /// the host grants the lane's key an unattended session that takes sales only.
    SignInCheckout,
    /// 消费.
    Sale {
        /// Minor units, already known to be an integer.
        amount: i64,
        /// As typed.
        pan: String,
        /// `MM/YY`.
        expiry: String,
        /// The storefront's order reference, sent with the sale and echoed in its answer
        /// (R23); 1 to 64 of `A-Z a-z 0-9 . _ : / # -`.
        reference: Option<String>,
    },
    /// 撤销.
    Void {
        /// The sale's trace number in the open batch.
        trace_no: u32,
        /// Never stored.
        supervisor_password: Secret,
    },
    /// 退货.
    Refund {
        /// The sale's RRN.
        rrn: String,
        /// Minor units.
        amount: i64,
        /// Never stored.
        supervisor_password: Secret,
    },
    /// 预授权 (R20): holds an amount on a card; counts in no total.
    PreAuth {
        /// Minor units.
        amount: i64,
        /// As typed.
        pan: String,
        /// `MM/YY`.
        expiry: String,
    },
    /// 预授权撤销 (R20): releases a hold, for its whole amount.
    PreAuthVoid {
        /// The hold's RRN.
        rrn: String,
        /// The hold's auth code.
        auth_code: String,
        /// Minor units: the held amount.
        amount: i64,
        /// Never stored.
        supervisor_password: Secret,
    },
    /// 预授权完成 (R20): turns a hold into a sale of at most 115 % of it.
    Complete {
        /// The hold's RRN.
        rrn: String,
        /// The hold's auth code.
        auth_code: String,
        /// Minor units.
        amount: i64,
        /// As typed.
        pan: String,
        /// `MM/YY`.
        expiry: String,
    },
    /// 预授权完成撤销 (R20): voids a completion of the open batch.
    CompletionVoid {
        /// The completion's trace number in the open batch.
        trace_no: u32,
        /// Never stored.
        supervisor_password: Secret,
    },
    /// 结算.
    Settle,
    /// 签退.
    SignOff {
        /// Settle the open batch first when it has transactions (default `true`).
        settle: bool,
    },
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Activate { .. } => f.write_str("Activate"),
            Command::SignIn { operator, .. } => write!(f, "SignIn({operator})"),
            Command::SignInCheckout => f.write_str("SignInCheckout"),
            Command::Sale { amount, .. } => write!(f, "Sale({amount})"),
            Command::Void { trace_no, .. } => write!(f, "Void({trace_no})"),
            Command::Refund { rrn, amount, .. } => write!(f, "Refund({rrn}, {amount})"),
            Command::PreAuth { amount, .. } => write!(f, "PreAuth({amount})"),
            Command::PreAuthVoid { rrn, amount, .. } => write!(f, "PreAuthVoid({rrn}, {amount})"),
            Command::Complete { rrn, amount, .. } => write!(f, "Complete({rrn}, {amount})"),
            Command::CompletionVoid { trace_no, .. } => write!(f, "CompletionVoid({trace_no})"),
            Command::Settle => f.write_str("Settle"),
            Command::SignOff { settle } => write!(f, "SignOff(settle: {settle})"),
        }
    }
}
