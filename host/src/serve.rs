//! `serve` and `demo`: the store with its password-check bound and fingerprint key, the
//! listener with its timeouts, CORS origins and pages, the background cut-off, the webhooks'
//! delivery (R23), and a graceful shutdown that lets SQLite checkpoint.

use crate::acquirer::{Acquirer, AcquirerSimulator, DesKey, IsoAcquirer, MacMode};
use crate::api::{self, AppState, HttpConfig};
use crate::cli::ServeArgs;
use crate::cli::{AcquirerArgs, AcquirerAt};
use crate::conn::{ClientAddr, TimedListener, Timeouts};
use crate::forward::{forwarder, DataKey, Forwarding};
use crate::limits::{Limiter, RateLimits};
use crate::link::LinkConfig;
use crate::merchant::{deliverer, Delivery};
use crate::scheduler::cutoff_scheduler;
use crate::secrets::{FingerprintKey, PasswordChecks};
use crate::store::{CutoffClock, Store};
use axum::http::HeaderValue;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The cut-off clock `serve` and `demo` run on.
pub(crate) fn clock_of(args: &ServeArgs) -> Result<CutoffClock, String> {
    CutoffClock::parse(&args.cutoff, &args.timezone)
}

/// The acquirer `--acquirer` names; refused when the MAC is on without its master key.
fn acquirer_of(args: &AcquirerArgs) -> Result<Arc<dyn Acquirer>, String> {
    let tmk = match (args.acquirer_mac, &args.acquirer_tmk_file) {
        (MacMode::None, _) => None,
        (MacMode::X919, Some(path)) => Some(DesKey::from_file(path)?),
        (MacMode::X919, None) => {
            return Err("--acquirer-mac x919 needs the terminal master key: --acquirer-tmk-file PATH (32 hex digits)".into())
        }
    };
    Ok(match &args.acquirer {
        AcquirerAt::Simulator => Arc::new(AcquirerSimulator::default()),
        AcquirerAt::Iso8583(addr) => {
            tracing::info!(%addr, mode = ?args.acquirer_mode, mac = ?args.acquirer_mac, "forwarding to an ISO 8583 acquirer");
            let config = LinkConfig {
                addr: addr.clone(),
                tpdu: args.acquirer_tpdu,
                header: args.acquirer_header,
                timeout: Duration::from_millis(args.acquirer_timeout_ms),
            };
            let acquirer = IsoAcquirer::new(config, args.acquirer_mode);
            match tmk {
                Some(tmk) => Arc::new(acquirer.with_mac(tmk)),
                None => Arc::new(acquirer),
            }
        }
    })
}

/// Where the demo shop's page (`www/shop/index.html`) names the host: `make demo`'s default
/// address, which the shop's listener replaces with the host's own.
pub(crate) const DEMO_HOST_URL: &str = "http://127.0.0.1:8080";

/// The demo shop's listener: a storefront on an origin of its own (R23).
pub(crate) struct Shop {
    listener: tokio::net::TcpListener,
    /// `http://ADDR`, as a browser on it sends it in `Origin`.
    pub(crate) origin: String,
}

impl Shop {
    /// Listens on `given`, else on the host's port + 1 (port 0 when the host's is 0, or when
    /// port + 1 is taken: the demo starts anyway, and prints where the shop is).
    pub(crate) async fn bind(host: SocketAddr, given: Option<SocketAddr>) -> Result<Shop, String> {
        let listener = match given {
            Some(addr) => tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr} for the shop: {e}"))?,
            None => {
                let next = match host.port() {
                    0 => None,
                    port => port.checked_add(1),
                };
                let beside = match next {
                    Some(port) => tokio::net::TcpListener::bind(SocketAddr::new(host.ip(), port))
                        .await
                        .ok(),
                    None => None,
                };
                match beside {
                    Some(listener) => listener,
                    None => tokio::net::TcpListener::bind(SocketAddr::new(host.ip(), 0))
                        .await
                        .map_err(|e| format!("cannot listen for the shop: {e}"))?,
                }
            }
        };
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the shop's address: {e}"))?;
        Ok(Shop {
            listener,
            origin: format!("http://{addr}"),
        })
    }

    /// Serves `<www>/shop/` (the API's 404 for anything else, or for everything without it),
    /// its page naming the host at `host`.
    fn spawn(self, www: Option<&std::path::Path>, host: SocketAddr) -> tokio::task::JoinHandle<()> {
        let app = api::shop_router(www.map(|w| w.join("shop")), &format!("http://{host}"));
        tokio::spawn(async move {
            if let Err(e) = axum::serve(self.listener, app).await {
                tracing::warn!(error = %e, "the demo shop stopped");
            }
        })
    }
}

/// What `demo` prepared before serving: its store, its banner and the shop.
pub(crate) struct Demo {
    pub(crate) store: Store,
    pub(crate) banner: String,
    pub(crate) shop: Shop,
}

/// Serves until SIGINT or SIGTERM; `prepared` is the demo's.
pub(crate) async fn serve(args: ServeArgs, prepared: Option<Demo>) -> Result<(), String> {
    let clock = clock_of(&args)?;
    // Before anything is opened: a MAC without its master key, or an acquirer that reads
    // cards without the data key, is refused at once.
    let acquirer = acquirer_of(&args.acquirer)?;
    let forwarding = forwarding(&args, prepared.is_some())?;
    let (store, banner, shop) = match prepared {
        Some(demo) => (demo.store, Some(demo.banner), Some(demo.shop)),
        None => (Store::open(&args.db, &clock).await?, None, None),
    };
    let store = configured_store(store, &args)?.with_forwarding(forwarding);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    // The demo shop frames the checkout and loads its script: its origin is allowed.
    let config = http_config(&args, addr, shop.as_ref().map(|s| s.origin.as_str()))?;
    let limiter = config.limiter.clone();
    let state = AppState {
        store: store.clone(),
        acquirer,
    };
    let owed = senders(&store, state.acquirer.clone(), &args);
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

    announce(banner, addr, shop.as_ref())?;
    let shop = shop.map(|shop| shop.spawn(args.www.as_deref(), addr));
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
    owed.iter().for_each(JoinHandle::abort);
    if let Some(shop) = shop {
        shop.abort();
    }
    // Closing the pool lets SQLite checkpoint its WAL into the database file.
    store.close().await;
    served.map_err(|e| format!("server error: {e}"))
}

/// The lines tests and scripts wait for: the demo's banner, `listening on http://ADDR`, and
/// the demo's `shop on http://ADDR`.
fn announce(banner: Option<String>, addr: SocketAddr, shop: Option<&Shop>) -> Result<(), String> {
    if let Some(banner) = banner {
        println!("{banner}");
    }
    println!("listening on http://{addr}");
    if let Some(shop) = shop {
        println!("shop on {}", shop.origin);
    }
    // A pipe would otherwise hold the lines back.
    std::io::stdout()
        .flush()
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    tracing::info!(%addr, "serving");
    Ok(())
}

/// The tasks that send what the host owes others: the messages owed to the acquirer (R8,
/// R11) and the webhook events owed to the shops' servers (R23).
fn senders(store: &Store, acquirer: Arc<dyn Acquirer>, args: &ServeArgs) -> [JoinHandle<()>; 2] {
    let delivery = Delivery {
        first_retry: Duration::from_millis(args.webhook_first_retry_ms),
        ..Delivery::default()
    };
    [
        tokio::spawn(forwarder(store.clone(), acquirer)),
        tokio::spawn(deliverer(store.clone(), delivery)),
    ]
}

/// The store with `serve`'s bound on password checks and, when given, its fingerprint key.
fn configured_store(store: Store, args: &ServeArgs) -> Result<Store, String> {
    let mut store = store.with_password_checks(PasswordChecks::new(
        args.password_checks,
        Duration::from_millis(args.password_wait_ms),
    ));
    if let Some(path) = &args.fingerprint_key_file {
        store = store.with_fingerprint_key(FingerprintKey::from_file(path)?);
    }
    Ok(store)
}

/// The data key of the cards owed to the acquirer (R4, R8 upstream), from `--data-key-file`;
/// the demo makes one when the file is missing, and without a file holds one in memory. An
/// acquirer that reads cards (any but the simulator) is sent a sale's card again in its
/// reversal, which after a restart only the sealed copy has, so without a key `serve` refuses to
/// start rather than lose it.
fn forwarding(args: &ServeArgs, demo: bool) -> Result<Forwarding, String> {
    let reads_cards = !matches!(args.acquirer.acquirer, AcquirerAt::Simulator);
    let key = match &args.data_key_file {
        Some(path) => {
            if demo {
                DataKey::create_if_missing(path)?;
            }
            Some(Arc::new(DataKey::from_file(path)?))
        }
        None if reads_cards && demo => {
            tracing::warn!(
                "no --data-key-file: the demo seals owed cards with a key it forgets at exit"
            );
            Some(Arc::new(DataKey::ephemeral()?))
        }
        None if reads_cards => {
            return Err(
                "--acquirer iso8583://… needs --data-key-file PATH (32 bytes): the card \
                        of a reversal owed to the acquirer is kept only sealed with that key"
                    .into(),
            )
        }
        None => None,
    };
    Ok(Forwarding {
        key,
        lease: Forwarding::lease_for(Duration::from_millis(args.acquirer.acquirer_timeout_ms)),
        ..Forwarding::default()
    })
}

/// The router's settings: origins (with `shop`'s, the demo's), pages and rate limits.
fn http_config(
    args: &ServeArgs,
    addr: SocketAddr,
    shop: Option<&str>,
) -> Result<HttpConfig, String> {
    let mut given = args.allow_origin.clone();
    given.extend(shop.map(str::to_owned));
    Ok(HttpConfig {
        allow_origins: allowed_origins(addr, &given)?,
        www: args.www.clone(),
        pkg: pkg_dir(args),
        limiter: Limiter::new(RateLimits {
            activate_per_address: args.activate_per_minute,
            sign_in_per_address: args.sign_in_per_minute,
            sign_in_per_key: args.sign_in_per_key_per_minute,
        }),
    })
}

/// The CORS origins: the host's own (always allowed, so its own pages work) and those given
/// with `--allow-origin`.
fn allowed_origins(addr: SocketAddr, given: &[String]) -> Result<Vec<HeaderValue>, String> {
    let mut origins = vec![
        format!("http://{addr}"),
        format!("http://localhost:{}", addr.port()),
    ];
    origins.extend(given.iter().cloned());
    if origins.iter().any(|o| o.trim() == "*") {
        // Answering every origin would let any web page drive the terminal API.
        return Err("--allow-origin takes explicit origins, not *".into());
    }
    origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o.trim_end_matches('/'))
                .map_err(|_| format!("--allow-origin {o:?} is not a valid origin"))
        })
        .collect()
}

/// The directory served at `/pkg/`: `--pkg`, else the build's `pkg/` beside the pages (this
/// repository's layout), else a copy deployed inside them.
fn pkg_dir(args: &ServeArgs) -> Option<PathBuf> {
    args.pkg.clone().or_else(|| {
        let www = std::fs::canonicalize(args.www.as_ref()?).ok()?;
        let beside = www.parent()?.join("pkg");
        Some(if beside.is_dir() {
            beside
        } else {
            www.join("pkg")
        })
    })
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
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn args(extra: &[&str]) -> ServeArgs {
        let mut line = vec!["softpos-host", "serve"];
        line.extend_from_slice(extra);
        match Cli::parse_from(line).command {
            Command::Serve(args) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn r4_an_acquirer_that_reads_cards_needs_a_data_key_and_the_demo_makes_one() {
        let iso = ["--acquirer", "iso8583://127.0.0.1:9"];
        let refused = forwarding(&args(&iso), false).unwrap_err();
        assert!(refused.contains("--data-key-file"), "{refused}");
        assert!(
            forwarding(&args(&[]), false).unwrap().key.is_none(),
            "the simulator"
        );
        assert!(
            forwarding(&args(&iso), true).unwrap().key.is_some(),
            "the demo's own"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.key");
        let mut line = iso.to_vec();
        line.extend(["--data-key-file", path.to_str().unwrap()]);
        assert!(
            forwarding(&args(&line), false).is_err(),
            "serve makes no key"
        );
        assert!(forwarding(&args(&line), true).unwrap().key.is_some());
        assert!(forwarding(&args(&line), false).unwrap().key.is_some());
        // A job is held while its message is asked far longer than the longest wait allowed.
        let held = forwarding(&args(&line), false).unwrap().armed_for;
        assert!(held > Duration::from_millis(15_000) * 4);
        // A job being sent is held for two exchanges and a margin, no longer: a host that died
        // sending it holds up its terminal only that long.
        line.extend(["--acquirer-timeout-ms", "500"]);
        let lease = forwarding(&args(&line), false).unwrap().lease;
        assert_eq!(lease, Duration::from_millis(6_000));
    }

    fn acquirer_args(extra: &[&str]) -> AcquirerArgs {
        let argv = ["softpos-host", "serve"].iter().chain(extra);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Serve(args) => args.acquirer,
            _ => unreachable!(),
        }
    }

    #[tokio::test]
    async fn mac_x919_without_a_master_key_is_refused_at_start_and_none_is_the_default() {
        let args = acquirer_args(&[
            "--acquirer",
            "iso8583://127.0.0.1:9",
            "--acquirer-mac",
            "x919",
        ]);
        let Err(e) = acquirer_of(&args) else {
            panic!("started without a TMK")
        };
        assert!(e.contains("--acquirer-tmk-file"), "{e}");
        assert_eq!(acquirer_args(&[]).acquirer_mac, MacMode::None);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tmk");
        std::fs::write(&path, "not a key").unwrap();
        let path = path.to_str().unwrap();
        let args = acquirer_args(&["--acquirer-mac", "x919", "--acquirer-tmk-file", path]);
        let Err(e) = acquirer_of(&args) else {
            panic!("started with a bad TMK")
        };
        assert!(
            e.contains("32 hex digits") && !e.contains("not a key"),
            "{e}"
        );
        std::fs::write(dir.path().join("tmk"), "00112233445566778899aabbccddeeff").unwrap();
        assert!(acquirer_of(&args).is_ok());
    }
}
