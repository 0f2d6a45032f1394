//! The softpos reference acquirer host: the HTTP API of docs/api.md over the ledger of record,
//! keeping the host's side of the rules in docs/rules.md; docs/architecture.md shows where it
//! sits.
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | the command line |
//! | [`serve`] | `serve` and `demo`: listener, origins, pages, shutdown |
//! | [`admin`] | the commands that provision, unlock (R16) or cut off (R15) and exit |
//! | [`console`], [`api_console`] | the merchant's console (R22): its shapes and its routes |
//! | [`scheduler`] | the daily cut-off inside `serve` (R15) |
//! | [`api`] | the HTTP API: router, extractors, handlers, OpenAPI |
//! | [`checkout`] | the hosted checkout's routes: lanes, the frame page, the loader (R23) |
//! | [`ledger`] | the rules on the host side: R5–R12, R16 |
//! | [`store`] | SQLite / PostgreSQL, provisioning, the cut-off (R15) |
//! | [`acquirer`] | the acquirer every operation is forwarded to: its trait and its simulator |
//! | [`forward`] | store-and-forward: reversals and advices owed to the acquirer (R8) |
//! | [`link`] | the TCP link to an acquirer: ISO 8583 frames, per exchange or persistent |
//! | [`merchant`] | the shop's server: merchant API keys, payments by reference, signed webhooks (R23) |
//! | [`secrets`] | tokens, hashes, Argon2id |
#![deny(missing_docs)]
// Functions stay short enough to read whole (docs/architecture.md, "Code shape").
#![warn(clippy::too_many_lines)]

mod acquirer;
mod admin;
mod api;
mod api_auth;
mod api_console;
mod api_history;
mod checkout;
mod cli;
mod conn;
mod console;
mod db;
mod error;
mod forward;
mod json;
mod ledger;
mod limits;
mod link;
mod merchant;
mod openapi;
#[cfg(test)]
mod peer_process;
mod scheduler;
mod secrets;
mod serve;
mod store;

use clap::Parser;
use cli::{
    AdminCommand, ApikeyCommand, Cli, Command, DemoArgs, OperatorCommand, TerminalCommand,
    WebhookCommand,
};
use std::process::ExitCode;
use store::Store;

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

/// `demo`: the shop's listener first, since the demo's checkout terminal is bound to its
/// origin, then the demo merchant, then `serve`.
async fn run_demo(demo: DemoArgs) -> Result<(), String> {
    let args = demo.serve;
    let clock = serve::clock_of(&args)?;
    let shop = serve::Shop::bind(args.listen, demo.shop_listen).await?;
    let store = Store::open(&args.db, &clock).await?;
    let banner = admin::demo_setup(&store, &shop.origin).await?;
    let demo = serve::Demo {
        store,
        banner,
        shop,
    };
    serve::serve(args, Some(demo)).await
}

/// `terminal add`: a counter terminal with its activation code, or a checkout terminal bound to
/// its storefront's origin (R23).
async fn add_terminal(command: TerminalCommand) -> Result<(), String> {
    let TerminalCommand::Add {
        merchant,
        terminal,
        currency,
        confirm_above,
        merchant_name,
        checkout_origin,
        db,
    } = command;
    // The name first: a refused name leaves no terminal half made.
    if let Some(name) = &merchant_name {
        admin::set_merchant_name(&db, &merchant, name).await?;
    }
    match checkout_origin {
        Some(origin) => {
            let t = admin::NewTerminal {
                merchant: &merchant,
                terminal: &terminal,
                currency: &currency,
                confirm_above,
            };
            admin::add_checkout_terminal(&db, &t, &origin).await
        }
        None => admin::add_terminal(&db, &merchant, &terminal, &currency, confirm_above).await,
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve::serve(args, None).await,
        Command::Demo(demo) => run_demo(demo).await,
        Command::Terminal { command } => add_terminal(command).await,
        Command::Operator {
            command:
                OperatorCommand::Add {
                    merchant,
                    operator,
                    db,
                },
        } => admin::add_operator(&db, &merchant, &operator).await,
        Command::Operator {
            command:
                OperatorCommand::Unlock {
                    merchant,
                    operator,
                    terminal,
                    db,
                },
        } => admin::unlock_operator(&db, &merchant, &operator, terminal).await,
        Command::Admin {
            command: AdminCommand::Add { merchant, user, db },
        } => admin::add_merchant_user(&db, &merchant, &user).await,
        Command::Cutoff(args) => admin::cutoff_now(&args.db, &args.cutoff, &args.timezone).await,
        Command::Apikey {
            command: ApikeyCommand::Add { merchant, db },
        } => admin::add_api_key(&db, &merchant).await,
        Command::Webhook {
            command:
                WebhookCommand::Set {
                    merchant,
                    webhook_url,
                    db,
                },
        } => admin::set_webhook(&db, &merchant, &webhook_url).await,
    }
}
