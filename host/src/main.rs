//! The softpos reference acquirer host (CONTRACT.md sections 4 and 5).
//!
//! | module | what |
//! |---|---|
//! | [`api`] | the HTTP API: router, extractors, handlers, OpenAPI |
//! | [`ledger`] | the rules on the host side: R5–R12, R16 |
//! | [`store`] | SQLite / PostgreSQL, provisioning, the cut-off (R15) |
//! | [`authorizer`] | the issuer trait and its simulator |
//! | [`secrets`] | tokens, hashes, Argon2id |
#![deny(missing_docs)]

mod api;
mod authorizer;
mod conn;
mod db;
mod error;
mod json;
mod ledger;
mod limits;
mod secrets;
mod store;

use api::{AppState, HttpConfig};
use authorizer::IssuerSimulator;
use axum::http::HeaderValue;
use clap::{Args, Parser, Subcommand};
use conn::{ClientAddr, TimedListener, Timeouts};
use limits::{Limiter, RateLimits, DEFAULT_LIMITS};
use secrets::{FingerprintKey, PasswordChecks};
use softpos::terminal::money::Currency;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use store::{CutoffClock, Store};

const DEFAULT_DB: &str = "sqlite://softpos.db";
const DEMO_MERCHANT: &str = "898310048160001";
const DEMO_TERMINAL: &str = "10000001";
/// The demo storefront's own terminal (www/checkout.html): a web shop is a terminal too.
const DEMO_CHECKOUT_TERMINAL: &str = "10000002";
const DEMO_OPERATOR_PASSWORD: &str = "0101";
const DEMO_SUPERVISOR_PASSWORD: &str = "123456";

/// The softpos reference acquirer host.
#[derive(Parser, Debug)]
// A flag given twice takes its last value, so a script can append to a default command line.
#[command(name = "softpos-host", version, about, args_override_self = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
struct CutoffArgs {
    /// `sqlite://FILE` or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
    /// Local time of the daily cut-off, HH:MM (as given to `serve`): it decides the new
    /// business date.
    #[arg(long, default_value = "23:00")]
    cutoff: String,
    /// IANA time zone of the business day (as given to `serve`).
    #[arg(long, default_value = "Asia/Shanghai")]
    timezone: String,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// `sqlite://FILE` or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve this directory at `/` (and the built `pkg/` beside its parent at `/pkg/`).
    #[arg(long)]
    www: Option<PathBuf>,
    /// Serve this directory at `/pkg/` instead of the one found from `--www`.
    #[arg(long)]
    pkg: Option<PathBuf>,
    /// An origin allowed to call the API from a browser (CORS); repeat for more.
    #[arg(long = "allow-origin")]
    allow_origin: Vec<String>,
    /// Local time of the daily cut-off, HH:MM.
    #[arg(long, default_value = "23:00")]
    cutoff: String,
    /// IANA time zone of the cut-off.
    #[arg(long, default_value = "Asia/Shanghai")]
    timezone: String,
    /// Password checks (Argon2id, 19 MiB each) run at once; more wait their turn.
    #[arg(long, default_value_t = secrets::DEFAULT_PASSWORD_CHECKS)]
    password_checks: usize,
    /// How long a password check waits for its turn before the host answers 503 BUSY.
    #[arg(long, default_value_t = 3000)]
    password_wait_ms: u64,
    /// Key for the card's part of idempotency fingerprints (at least 32 bytes), kept out of
    /// the database; without it the host uses a key it generated and keeps in the database.
    #[arg(long)]
    fingerprint_key_file: Option<PathBuf>,
    /// First wait before a failed scheduled cut-off is tried again, in seconds; it doubles on
    /// each further failure up to 30 minutes.
    #[arg(
        long,
        default_value_t = 60,
        hide = true,
        env = "SOFTPOS_CUTOFF_RETRY_SECS"
    )]
    cutoff_retry_secs: u64,
    /// Seconds a client has to send a request's headers; then the connection is closed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Activations per minute per client address (0: no limit).
    #[arg(long, default_value_t = DEFAULT_LIMITS.activate_per_address, env = "SOFTPOS_ACTIVATE_PER_MINUTE")]
    activate_per_minute: u32,
    /// Sign-ins per minute per client address (0: no limit).
    #[arg(long, default_value_t = DEFAULT_LIMITS.sign_in_per_address, env = "SOFTPOS_SIGN_IN_PER_MINUTE")]
    sign_in_per_minute: u32,
    /// Sign-ins per minute per terminal key (0: no limit).
    #[arg(long, default_value_t = DEFAULT_LIMITS.sign_in_per_key, env = "SOFTPOS_SIGN_IN_PER_KEY_PER_MINUTE")]
    sign_in_per_key_per_minute: u32,
}

#[derive(Subcommand, Debug)]
enum TerminalCommand {
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
        /// `sqlite://FILE` or `postgres://…`.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Subcommand, Debug)]
enum OperatorCommand {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("softpos-host: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(args, None).await,
        Command::Demo(args) => {
            let clock = clock_of(&args)?;
            let store = Store::open(&args.db, &clock).await?;
            let banner = demo_setup(&store).await?;
            serve(args, Some((store, banner))).await
        }
        Command::Terminal {
            command:
                TerminalCommand::Add {
                    merchant,
                    terminal,
                    currency,
                    db,
                },
        } => {
            let currency = Currency::parse(&currency).map_err(|e| e.message)?;
            let store = Store::open(&db, &CutoffClock::default_clock()).await?;
            let (code, currency) = store
                .add_terminal(&merchant, &terminal, currency)
                .await
                .map_err(|e| e.message)?;
            println!("terminal {terminal} of merchant {merchant} ({currency})");
            println!("activation code, single use, valid 24 h:");
            println!("{code}");
            Ok(())
        }
        Command::Operator {
            command:
                OperatorCommand::Add {
                    merchant,
                    operator,
                    db,
                },
        } => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let store = Store::open(&db, &CutoffClock::default_clock()).await?;
            store
                .add_operator(&merchant, &operator, password)
                .await
                .map_err(|e| e.message)?;
            println!("operator {operator} of merchant {merchant} saved");
            Ok(())
        }
        Command::Operator {
            command:
                OperatorCommand::Unlock {
                    merchant,
                    operator,
                    terminal,
                    db,
                },
        } => {
            let store = Store::open(&db, &CutoffClock::default_clock()).await?;
            let cleared = store
                .unlock_operator(&merchant, &operator, terminal.as_deref())
                .await
                .map_err(|e| e.message)?;
            let scope = terminal.map_or("every terminal".to_owned(), |t| format!("terminal {t}"));
            tracing::info!(%merchant, %operator, %scope, cleared, "operator unlocked");
            println!("operator {operator} of merchant {merchant} unlocked on {scope}");
            Ok(())
        }
        Command::Cutoff(args) => {
            let clock = CutoffClock::parse(&args.cutoff, &args.timezone)?;
            let store = Store::open(&args.db, &clock).await?;
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
    }
}

fn clock_of(args: &ServeArgs) -> Result<CutoffClock, String> {
    CutoffClock::parse(&args.cutoff, &args.timezone)
}

/// Makes the demo merchant idempotently and returns what to print.
async fn demo_setup(store: &Store) -> Result<String, String> {
    let (code, currency) = store
        .add_terminal(DEMO_MERCHANT, DEMO_TERMINAL, Currency::Cny)
        .await
        .map_err(|e| e.message)?;
    let (checkout_code, _) = store
        .add_terminal(DEMO_MERCHANT, DEMO_CHECKOUT_TERMINAL, Currency::Cny)
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
    Ok(format!(
        "softpos demo (demo passwords only: never use them for real money)\n\
         merchant id:      {DEMO_MERCHANT}\n\
         terminal id:      {DEMO_TERMINAL} ({currency})\n\
         operator 01:      password {DEMO_OPERATOR_PASSWORD}\n\
         supervisor 00:    password {DEMO_SUPERVISOR_PASSWORD}\n\
         test cards:       4111111111111111 approved, 4000000000000002 declined 05,\n\
         \x20                 4000000000009995 declined 51, 4000000000003220 answers after 30 s\n\
         checkout page:    terminal {DEMO_CHECKOUT_TERMINAL}, activation code {checkout_code}\n\
         activation code:  {code}"
    ))
}

async fn serve(args: ServeArgs, prepared: Option<(Store, String)>) -> Result<(), String> {
    let clock = clock_of(&args)?;
    let (store, banner) = match prepared {
        Some((store, banner)) => (store, Some(banner)),
        None => (Store::open(&args.db, &clock).await?, None),
    };
    let mut store = store.with_password_checks(PasswordChecks::new(
        args.password_checks,
        Duration::from_millis(args.password_wait_ms),
    ));
    if let Some(path) = &args.fingerprint_key_file {
        store = store.with_fingerprint_key(FingerprintKey::from_file(path)?);
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;

    let mut origins = Vec::new();
    // The host's own origin is always allowed (CONTRACT.md section 5).
    for own in [
        format!("http://{addr}"),
        format!("http://localhost:{}", addr.port()),
    ] {
        origins.push(own);
    }
    origins.extend(args.allow_origin.iter().cloned());
    if origins.iter().any(|o| o.trim() == "*") {
        // Answering every origin would let any web page drive the terminal API.
        return Err("--allow-origin takes explicit origins, not *".into());
    }
    let allow_origins = origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o.trim_end_matches('/'))
                .map_err(|_| format!("--allow-origin {o:?} is not a valid origin"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pkg = args.pkg.clone().or_else(|| {
        let www = std::fs::canonicalize(args.www.as_ref()?).ok()?;
        // The build's `pkg/` beside the pages (this repository's layout), else a copy
        // deployed inside them.
        let beside = www.parent()?.join("pkg");
        Some(if beside.is_dir() {
            beside
        } else {
            www.join("pkg")
        })
    });
    let limiter = Limiter::new(RateLimits {
        activate_per_address: args.activate_per_minute,
        sign_in_per_address: args.sign_in_per_minute,
        sign_in_per_key: args.sign_in_per_key_per_minute,
    });
    let config = HttpConfig {
        allow_origins,
        www: args.www.clone(),
        pkg,
        limiter: limiter.clone(),
    };
    let state = AppState {
        store: store.clone(),
        authorizer: Arc::new(IssuerSimulator::default()),
    };
    let app = api::router(state, &config);

    let retry = Duration::from_secs(args.cutoff_retry_secs.max(1));
    let scheduler = tokio::spawn(cutoff_scheduler(store.clone(), clock, retry));
    let forgetting = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            limiter.forget_idle();
        }
    });

    if let Some(banner) = banner {
        println!("{banner}");
    }
    println!("listening on http://{addr}");
    // Tests and scripts wait for this line; a pipe would otherwise hold it back.
    std::io::stdout()
        .flush()
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    tracing::info!(%addr, "serving");
    let listener = TimedListener::new(
        listener,
        Timeouts {
            header: Duration::from_secs(args.header_timeout),
            idle: Duration::from_secs(args.idle_timeout),
        },
    );
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<ClientAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    scheduler.abort();
    forgetting.abort();
    // Closing the pool lets SQLite checkpoint its WAL into the database file.
    store.close().await;
    served.map_err(|e| format!("server error: {e}"))
}

/// Longest wait between two tries of a failed cut-off.
const CUTOFF_RETRY_MAX: Duration = Duration::from_secs(30 * 60);

/// The wait before try `failures + 1` of a cut-off that failed `failures` times: `first`,
/// doubled each time, at most [`CUTOFF_RETRY_MAX`].
fn cutoff_backoff(first: Duration, failures: u32) -> Duration {
    first
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
        .min(CUTOFF_RETRY_MAX)
}

/// R15: runs the cut-off at the configured local time every day. A host that was down at
/// cut-off time catches up at start, so yesterday's batches do not stay open into today. A
/// failed run (or a failed check for a missed one: the database unreachable, a bad row) is
/// tried again after `retry`, doubling up to 30 minutes, until it succeeds, instead of a day
/// later.
async fn cutoff_scheduler(store: Store, clock: CutoffClock, retry: Duration) {
    let mut failures = 0u32;
    let mut catching_up = true;
    loop {
        if failures > 0 {
            tokio::time::sleep(cutoff_backoff(retry, failures)).await;
        } else if !catching_up {
            tokio::time::sleep(clock.until_next()).await;
        }
        let result = if catching_up {
            match store.cutoff_overdue(&clock).await {
                Ok(false) => {
                    catching_up = false;
                    failures = 0;
                    continue;
                }
                Ok(true) => store.cutoff(&clock, true).await,
                Err(e) => Err(e),
            }
        } else {
            store.cutoff(&clock, true).await
        };
        match result {
            Ok(report) => {
                failures = 0;
                catching_up = false;
                tracing::info!(
                    closed_date = ?report.closed_date,
                    closed_batches = report.closed_batches,
                    business_date = %report.business_date,
                    "cut-off"
                );
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(
                    code = %e.code,
                    message = %e.message,
                    failures,
                    retry_in_s = cutoff_backoff(retry, failures).as_secs(),
                    "cut-off failed; trying again"
                );
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r15_a_failed_cutoff_is_tried_again_within_minutes_not_a_day_later() {
        let minute = Duration::from_secs(60);
        let waits: Vec<u64> = (1..=7)
            .map(|n| cutoff_backoff(minute, n).as_secs() / 60)
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(cutoff_backoff(minute, u32::MAX), CUTOFF_RETRY_MAX);
    }
}
