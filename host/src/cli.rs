//! The command line: `serve`, `demo`, `terminal add [--checkout-origin]`, `operator add|unlock`,
//! `admin add`, `cutoff`, `apikey add` and `webhook set`
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
    /// Provision the merchant's console users (R22).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Create the demo merchant, terminal and operators, print them, and serve; the demo shop
    /// (`--www`'s `shop/`) on a second address.
    Demo(DemoArgs),
    /// Run the business-day cut-off [日切] now (R15): closes the current business date.
    Cutoff(CutoffArgs),
    /// Merchant API keys, for the shop's server (`GET /v1/merchant/payments`).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// The merchant's webhook: where the host posts its signed payment events.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum ApikeyCommand {
    /// Make a new API key of the merchant; prints it once, on the last line (the host keeps
    /// only its hash).
    Add {
        /// 15-digit merchant id (it has a terminal already).
        #[arg(long)]
        merchant: String,
        /// `sqlite://FILE` or `postgres://…`.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum WebhookCommand {
    /// Set the merchant's webhook URL and make a new signing secret, printed once on the last
    /// line; the old secret stops signing at once.
    Set {
        /// 15-digit merchant id (it has a terminal already).
        #[arg(long)]
        merchant: String,
        /// `http://` or `https://` URL of the shop's server that takes the events.
        #[arg(long)]
        webhook_url: String,
        /// `sqlite://FILE` or `postgres://…`.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
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
pub(crate) struct DemoArgs {
    /// Everything `serve` takes.
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
    /// Address of the demo shop, a storefront on an origin of its own that takes payments
    /// through the checkout frame (R23). Default: the host's port + 1 on the same address
    /// (port 0 when the host's is 0, and when port + 1 is taken).
    #[arg(long, value_name = "ADDR")]
    pub(crate) shop_listen: Option<SocketAddr>,
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
    /// First wait before a webhook not answered 2xx is posted again, in milliseconds; it
    /// doubles after each further try up to an hour.
    #[arg(
        long,
        default_value_t = 5000,
        hide = true,
        env = "SOFTPOS_WEBHOOK_FIRST_RETRY_MS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub(crate) webhook_first_retry_ms: u64,
    /// Sign-ins per minute per terminal key (0: no limit).
    #[arg(long, default_value_t = DEFAULT_LIMITS.sign_in_per_key, env = "SOFTPOS_SIGN_IN_PER_KEY_PER_MINUTE")]
    pub(crate) sign_in_per_key_per_minute: u32,
    /// The acquirer every operation is forwarded to.
    #[command(flatten)]
    pub(crate) acquirer: AcquirerArgs,
}

/// The terminal's own wait for an answer (its `timeoutMs` default): the host's wait for the
/// acquirer stays below it, so the host always answers the terminal first.
pub(crate) const TERMINAL_TIMEOUT_MS: u64 = 15_000;

/// `serve --acquirer …`: where the host sends what it forwards.
#[derive(Args, Debug, Clone)]
pub(crate) struct AcquirerArgs {
    /// `simulator` (the built-in issuer simulator) or `iso8583://HOST:PORT` (an acquirer's POS
    /// front-end speaking the default ISO 8583 profile).
    #[arg(long, default_value = "simulator", value_parser = parse_acquirer)]
    pub(crate) acquirer: AcquirerAt,
    /// The TPDU of every request, 10 hex digits.
    #[arg(long, default_value = "6000030000", value_parser = hex_bytes::<5>)]
    pub(crate) acquirer_tpdu: [u8; 5],
    /// The header of every request, 12 hex digits.
    #[arg(long, default_value = "603100000000", value_parser = hex_bytes::<6>)]
    pub(crate) acquirer_header: [u8; 6],
    /// How long the host waits for the acquirer, in milliseconds; below the terminal's own
    /// 15 000, so a terminal never gives up first.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..TERMINAL_TIMEOUT_MS))]
    pub(crate) acquirer_timeout_ms: u64,
    /// A TCP connection per exchange (as terminals do), or one persistent connection.
    #[arg(long, value_enum, default_value = "per-request")]
    pub(crate) acquirer_mode: crate::acquirer::LinkMode,
    /// `x919`: every message but sign-in, sign-off and echo carries an ANSI X9.19 MAC (field
    /// 64) under the working key each sign-in brings; needs `--acquirer-tmk-file`.
    #[arg(long, value_enum, default_value = "none")]
    pub(crate) acquirer_mac: crate::acquirer::MacMode,
    /// The terminal master key the working keys come under: a file holding 32 hex digits (a
    /// double-length DES key). Read once at start; never logged or stored.
    #[arg(long, value_name = "PATH")]
    pub(crate) acquirer_tmk_file: Option<PathBuf>,
}

/// Where the acquirer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AcquirerAt {
    /// The built-in simulator.
    Simulator,
    /// `HOST:PORT` of an ISO 8583 front-end.
    Iso8583(String),
}

fn parse_acquirer(s: &str) -> Result<AcquirerAt, String> {
    if s == "simulator" {
        return Ok(AcquirerAt::Simulator);
    }
    let addr = s
        .strip_prefix("iso8583://")
        .ok_or("expected `simulator` or `iso8583://HOST:PORT`")?;
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(AcquirerAt::Iso8583(addr.to_owned()))
        }
        _ => Err(format!("`{addr}` is not HOST:PORT")),
    }
}

fn hex_bytes<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let bad = || format!("expected {} hex digits", 2 * N);
    if s.len() != 2 * N {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = s.get(2 * i..2 * i + 2).ok_or_else(bad)?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[derive(Subcommand, Debug)]
pub(crate) enum TerminalCommand {
    /// Create a terminal (or re-issue its activation code); prints the code on the last line.
    /// With `--checkout-origin`, a checkout terminal bound to that storefront origin instead,
    /// with no code (R23).
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
        /// The merchant's name as its slips print it (R21), 1 to 40 characters; one per
        /// merchant, so it names every terminal of the merchant. Given again, it replaces it.
        #[arg(long, value_name = "NAME")]
        merchant_name: Option<String>,
        /// A checkout terminal for the storefront at this origin (`https://shop.example`,
        /// scheme, host and port only): each customer browser that opens its checkout frame
        /// becomes a lane of it. Given again, it replaces the origin.
        #[arg(long, value_name = "ORIGIN")]
        checkout_origin: Option<String>,
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

#[derive(Subcommand, Debug)]
pub(crate) enum AdminCommand {
    /// Create a merchant user of the console (R22) or set its password; the password is the
    /// first line of stdin (at least 4 characters, as an operator's).
    Add {
        /// 15-digit merchant id: the only merchant the user sees.
        #[arg(long)]
        merchant: String,
        /// 1 to 32 letters, digits, `.`, `_` or `-`.
        #[arg(long)]
        user: String,
        /// `sqlite://FILE` or `postgres://…`.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}
