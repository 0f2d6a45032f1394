//! The command line: `serve`, `demo`, `terminal add`, `operator add|unlock` and `cutoff`
//! (host/README.md lists them with what each option does).

use crate::limits::DEFAULT_LIMITS;
use crate::secrets;
use clap::{Args, Parser, Subcommand};
use softpos::terminal::money::MAX_AMOUNT;
use std::net::SocketAddr;
use std::path::PathBuf;

pub(crate) const DEFAULT_DB: &str = "sqlite://softpos.db";

/// The softpos reference acquirer host.
#[derive(Parser, Debug)]
// A flag given twice takes its last value, so a script can append to a default command line.
#[command(name = "softpos-host", version, about, args_override_self = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Serve the HTTP API.
    Serve(ServeArgs),
    /// Provision terminals.
    Terminal {
        #[command(subcommand)]
        command: TerminalCommand,
    },
    /// Provision operators.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Create the demo merchant, terminal and operators, print them, and serve.
    Demo(ServeArgs),
    /// Run the business-day cut-off [日切] now (R15): closes the current business date.
    Cutoff(CutoffArgs),
}

#[derive(Args, Debug)]
pub(crate) struct CutoffArgs {
    /// `sqlite://FILE` or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, default_value = DEFAULT_DB)]
    pub(crate) db: String,
    /// Local time of the daily cut-off, HH:MM (as given to `serve`): it decides the new
    /// business date.
    #[arg(long, default_value = "23:00")]
    pub(crate) cutoff: String,
    /// IANA time zone of the business day (as given to `serve`).
    #[arg(long, default_value = "Asia/Shanghai")]
    pub(crate) timezone: String,
}

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// `sqlite://FILE` or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, default_value = DEFAULT_DB)]
    pub(crate) db: String,
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Serve this directory at `/` (and the built `pkg/` beside its parent at `/pkg/`).
    #[arg(long)]
    pub(crate) www: Option<PathBuf>,
    /// Serve this directory at `/pkg/` instead of the one found from `--www`.
    #[arg(long)]
    pub(crate) pkg: Option<PathBuf>,
    /// An origin allowed to call the API from a browser (CORS); repeat for more.
    #[arg(long = "allow-origin")]
    pub(crate) allow_origin: Vec<String>,
    /// Local time of the daily cut-off, HH:MM.
    #[arg(long, default_value = "23:00")]
    pub(crate) cutoff: String,
    /// IANA time zone of the cut-off.
    #[arg(long, default_value = "Asia/Shanghai")]
    pub(crate) timezone: String,
    /// Password checks (Argon2id, 19 MiB each) run at once; more wait their turn.
    #[arg(long, default_value_t = secrets::DEFAULT_PASSWORD_CHECKS)]
    pub(crate) password_checks: usize,
    /// How long a password check waits for its turn before the host answers 503 BUSY.
    #[arg(long, default_value_t = 3000)]
    pub(crate) password_wait_ms: u64,
    /// Key for the card's part of idempotency fingerprints (at least 32 bytes), kept out of
    /// the database; without it the host uses a key it generated and keeps in the database.
    #[arg(long)]
    pub(crate) fingerprint_key_file: Option<PathBuf>,
    /// Key (exactly 32 bytes) the card of a reversal owed to the acquirer is sealed with until
    /// the acquirer answers it, kept out of the database; `demo` creates it (mode 0600) when
    /// missing. Required with an acquirer that reads cards; the simulator reads none.
    #[arg(long)]
    pub(crate) data_key_file: Option<PathBuf>,
    /// First wait before a failed scheduled cut-off is tried again, in seconds; it doubles on
    /// each further failure up to 30 minutes.
    #[arg(
        long,
        default_value_t = 60,
        hide = true,
        env = "SOFTPOS_CUTOFF_RETRY_SECS"
    )]
    pub(crate) cutoff_retry_secs: u64,
    /// Seconds a client has to send a request's headers; then the connection is closed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) header_timeout: u64,
    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) idle_timeout: u64,
    /// Activations per minute per client address (0: no limit).
    #[arg(long, default_value_t = DEFAULT_LIMITS.activate_per_address, env = "SOFTPOS_ACTIVATE_PER_MINUTE")]
    pub(crate) activate_per_minute: u32,
    /// Sign-ins per minute per client address (0: no limit).
    #[arg(long, default_value_t = DEFAULT_LIMITS.sign_in_per_address, env = "SOFTPOS_SIGN_IN_PER_MINUTE")]
    pub(crate) sign_in_per_minute: u32,
    /// Sign-ins per minute per terminal key (0: no limit).
    #[arg(long, default_value_t = DEFAULT_LIMITS.sign_in_per_key, env = "SOFTPOS_SIGN_IN_PER_KEY_PER_MINUTE")]
    pub(crate) sign_in_per_key_per_minute: u32,
}

#[derive(Subcommand, Debug)]
pub(crate) enum TerminalCommand {
    /// Create a terminal (or re-issue its activation code); prints the code on the last line.
    Add {
        /// 15-digit merchant id.
        #[arg(long)]
        merchant: String,
        /// 8-character terminal id.
        #[arg(long)]
        terminal: String,
        /// ISO 4217 currency of the terminal.
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Minor units (fen for CNY) above which the terminal asks the cashier to confirm a
        /// sale, showing the amount in words, before sending it: 1..=99999999999. Without it
        /// a new terminal gets 1000000 (¥10 000.00) and an existing one keeps its own.
        #[arg(
            long,
            value_name = "MINOR",
            allow_negative_numbers = true,
            value_parser = clap::value_parser!(i64).range(1..=MAX_AMOUNT)
        )]
        confirm_above: Option<i64>,
        /// `sqlite://FILE` or `postgres://…`.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum OperatorCommand {
    /// Create an operator or set its password; the password is the first line of stdin.
    Add {
        /// 15-digit merchant id.
        #[arg(long)]
        merchant: String,
        /// `01`..`99`, or `00` for the supervisor.
        #[arg(long)]
        operator: String,
        /// `sqlite://FILE` or `postgres://…`.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
    /// Lift an operator's lockout (R16) on one terminal, or on all terminals of the merchant.
    Unlock {
        /// 15-digit merchant id.
        #[arg(long)]
        merchant: String,
        /// `01`..`99`, or `00` for the supervisor.
        #[arg(long)]
        operator: String,
        /// 8-character terminal id; without it, every terminal of the merchant.
        #[arg(long)]
        terminal: Option<String>,
        /// `sqlite://FILE` or `postgres://…`.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}
