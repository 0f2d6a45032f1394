//! Load benchmark of the host: approved sales per second and p50/p99 latency with 1, 8 and 64
//! terminals selling at once, on SQLite and (with `SOFTPOS_TEST_DATABASE_URL`) PostgreSQL, and
//! beside it the raw rate of single-row committed inserts on the same database, so the host's
//! cost reads as a ratio to the database's own limit. Then the business-day cut-off (R15) of
//! 10 000 open batches, each holding a sale, timed as `softpos-host cutoff` runs it.
//! Two edge tables: one terminal's sales with and without 50 connections of another terminal
//! reading `GET /v1/batches/current` in a loop beside them (reads must not queue the sales), and
//! `GET /healthz` beside 100 slow clients that send part of a request line and stall (they must
//! not delay it, and the host must close them after its header timeout).
//!
//! ```text
//! cargo build --profile host -p softpos-host --examples
//! target/host/examples/load --bin target/host/softpos-host [--seconds 8] [--only flood,slow]
//! ```
//!
//! `--only` takes any of `load`, `http`, `flood`, `slow`, `gateway`, `cutoff` (comma-separated).
//! `gateway` is one terminal's sales with the built-in simulator, then forwarded over ISO 8583
//! to the acquirer peer (tests/acquirer/peer.py, from `target/acquirer-venv`: run
//! `scripts/tools.sh acquirer` first) per exchange and on a persistent link: the difference is
//! what the link and the peer add to a sale.
//!
//! Everything runs on 127.0.0.1; each level stops after `--seconds`. A benchmark program:
//! any failure (a host that does not start, an answer that is not JSON) panics on purpose.

use serde_json::{json, Value};
use sqlx::any::AnyPoolOptions;
use sqlx::Row;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MERCHANT: &str = "898310048160001";
const PASSWORD: &str = "bench-pw-01";
/// Open batches closed by the timed cut-off.
const CUTOFF_BATCHES: u32 = 10_000;

struct Args {
    bin: String,
    seconds: u64,
    /// The tables to run (`--only`); all of them by default.
    only: Vec<String>,
}

impl Args {
    fn runs(&self, table: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|t| t == table)
    }
}

fn parse_args() -> Args {
    let mut bin = "target/host/softpos-host".to_owned();
    let mut seconds = 8;
    let mut only = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bin" => bin = it.next().expect("--bin PATH"),
            "--seconds" => seconds = it.next().and_then(|s| s.parse().ok()).expect("--seconds N"),
            "--only" => only.extend(
                it.next()
                    .expect("--only load,http,flood,slow,gateway,cutoff")
                    .split(',')
                    .map(str::to_owned),
            ),
            // Kept for the commands written down before `--only`.
            "--cutoff-only" => only.push("cutoff".to_owned()),
            other => panic!("unknown argument {other}"),
        }
    }
    Args { bin, seconds, only }
}

struct HostProcess(Child);

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cli(bin: &str, db: &str, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args(args)
        .args(["--db", db])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the host binary");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Flags that turn the rate limits off, for a binary that has them: the load activates and
/// signs in far more often than a shop does, and an older binary, run for a before-and-after,
/// has no such flags.
fn no_rate_limits(bin: &str) -> Vec<&'static str> {
    let help = Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .expect("run the host binary");
    if String::from_utf8_lossy(&help.stdout).contains("--sign-in-per-minute") {
        vec![
            "--activate-per-minute",
            "0",
            "--sign-in-per-minute",
            "0",
            "--sign-in-per-key-per-minute",
            "0",
        ]
    } else {
        Vec::new()
    }
}

fn start_host(bin: &str, db: &str) -> (HostProcess, String) {
    start_host_with(bin, db, &[])
}

/// The host with more `serve` options (`--acquirer …`).
fn start_host_with(bin: &str, db: &str, extra: &[String]) -> (HostProcess, String) {
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .args(no_rate_limits(bin))
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the host");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("host output").unwrap();
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.to_owned();
        }
    };
    (HostProcess(child), base)
}

struct Level {
    terminals: usize,
    approved: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Operator 01 of the benchmark merchant; the first command on a fresh database also creates
/// its schema and the merchant.
fn add_operator(args: &Args, db: &str) {
    cli(
        &args.bin,
        db,
        &[
            "operator",
            "add",
            "--merchant",
            MERCHANT,
            "--operator",
            "01",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
}

/// Creates the terminals through the CLI; returns their activation codes.
fn provision(args: &Args, db: &str, ids: &[String]) -> Vec<String> {
    add_operator(args, db);
    ids.iter()
        .map(|t| {
            let out = cli(
                &args.bin,
                db,
                &["terminal", "add", "--merchant", MERCHANT, "--terminal", t],
                None,
            );
            out.lines().last().unwrap().trim().to_owned()
        })
        .collect()
}

/// Activates a terminal and signs operator 01 in; returns the session token.
async fn signed_in(http: &reqwest::Client, base: &str, terminal: &str, code: &str) -> String {
    let key: Value = http
        .post(format!("{base}/v1/activate"))
        .json(&json!({"merchant_id": MERCHANT, "terminal_id": terminal, "activation_code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["terminal_key"].as_str().unwrap().to_owned();
    let s: Value = http
        .post(format!("{base}/v1/sign-in"))
        .bearer_auth(&key)
        .json(&json!({"operator": "01", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    s["session_token"].as_str().unwrap().to_owned()
}

/// One terminal selling, one sale after the other from trace number `trace`, until the
/// deadline: approved sales, every sale's latency, and the next trace number.
async fn sell_until(
    http: reqwest::Client,
    base: String,
    token: String,
    deadline: Instant,
    mut trace: u32,
) -> (u64, Vec<Duration>, u32) {
    let mut latencies = Vec::new();
    let mut approved = 0u64;
    let mut refused = 0u64;
    while Instant::now() < deadline {
        let body = json!({
            "request_id": uuid::Uuid::new_v4().to_string(), "kind": "sale",
            "trace_no": trace, "amount": 100, "currency": "CNY",
            "card": {"pan": "4111111111111111", "expiry": "12/39"}
        });
        trace += 1;
        let t0 = Instant::now();
        let res = http
            .post(format!("{base}/v1/transactions"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let ok = res.status() == 200;
        let ans: Value = res.json().await.unwrap();
        latencies.push(t0.elapsed());
        if ok && ans["status"] == "approved" {
            approved += 1;
        } else if refused == 0 {
            // Once per terminal: a refused sale is not counted, and says why.
            eprintln!("load: a sale was not approved: {ans}");
            refused += 1;
        }
    }
    (approved, latencies, trace)
}

async fn run_level(args: &Args, db: &str, terminals: usize) -> Level {
    let ids: Vec<String> = (0..terminals).map(|i| format!("3000{i:04}")).collect();
    let codes = provision(args, db, &ids);
    let (_host, base) = start_host(&args.bin, db);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(terminals)
        .build()
        .unwrap();
    let mut tokens = Vec::new();
    for (t, code) in ids.iter().zip(&codes) {
        tokens.push(signed_in(&http, &base, t, code).await);
    }
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| tokio::spawn(sell_until(http.clone(), base.clone(), token, deadline, 1)))
        .collect();
    let mut approved = 0;
    let mut all = Vec::new();
    for t in tasks {
        let (a, l, _) = t.await.unwrap();
        approved += a;
        all.extend(l);
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort();
    Level {
        terminals,
        approved,
        seconds,
        p50_ms: percentile_ms(&all, 0.50),
        p99_ms: percentile_ms(&all, 0.99),
    }
}

/// Connections of the reader flood.
const FLOOD_READERS: usize = 50;

/// Terminals selling in the reader-flood table.
const FLOOD_SELLERS: usize = 8;

/// `FLOOD_SELLERS` terminals sell for `--seconds` alone, then again while `FLOOD_READERS`
/// connections of another terminal ask for its open batch in a loop: a read must never queue a
/// sale.
async fn flood_table(args: &Args, backends: &[(&str, Option<String>)], dir: &std::path::Path) {
    println!("| database | beside {FLOOD_SELLERS} selling terminals | sale p50 ms | sale p99 ms | sales/s | reads/s |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, admin) in backends {
        let db = match admin {
            None => format!("sqlite://{}", dir.join("flood.db").display()),
            Some(a) => pg_database(a, "softpos_bench_flood", true).await,
        };
        // The sellers, then the reader.
        let ids: Vec<String> = (0..=FLOOD_SELLERS)
            .map(|i| format!("4000{:04}", i + 1))
            .collect();
        let codes = provision(args, &db, &ids);
        let (_host, base) = start_host(&args.bin, &db);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(FLOOD_READERS + FLOOD_SELLERS + 4)
            .build()
            .unwrap();
        let mut sellers = Vec::new();
        for (id, code) in ids.iter().zip(&codes).take(FLOOD_SELLERS) {
            sellers.push((signed_in(&http, &base, id, code).await, 1));
        }
        let reader = signed_in(&http, &base, &ids[FLOOD_SELLERS], &codes[FLOOD_SELLERS]).await;
        for flood in [false, true] {
            let deadline = Instant::now() + Duration::from_secs(args.seconds);
            let readers: Vec<_> = (0..if flood { FLOOD_READERS } else { 0 })
                .map(|_| {
                    let (http, token) = (http.clone(), reader.clone());
                    let url = format!("{base}/v1/batches/current");
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        while Instant::now() < deadline {
                            let res = http.get(&url).bearer_auth(&token).send().await.unwrap();
                            assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
                            res.bytes().await.unwrap();
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            let started = Instant::now();
            let selling: Vec<_> = sellers
                .iter()
                .map(|(token, trace)| {
                    tokio::spawn(sell_until(
                        http.clone(),
                        base.clone(),
                        token.clone(),
                        deadline,
                        *trace,
                    ))
                })
                .collect();
            let (mut approved, mut latencies) = (0, Vec::new());
            for (seller, task) in sellers.iter_mut().zip(selling) {
                let (n, mut l, next) = task.await.unwrap();
                approved += n;
                latencies.append(&mut l);
                seller.1 = next;
            }
            let mut reads = 0;
            for r in readers {
                reads += r.await.unwrap();
            }
            let seconds = started.elapsed().as_secs_f64();
            latencies.sort();
            let beside = if flood {
                format!("{FLOOD_READERS} connections reading a batch")
            } else {
                "nothing".to_owned()
            };
            println!(
                "| {name} | {beside} | {:.1} | {:.1} | {:.0} | {:.0} |",
                percentile_ms(&latencies, 0.50),
                percentile_ms(&latencies, 0.99),
                approved as f64 / seconds,
                reads as f64 / seconds
            );
        }
        if let Some(a) = admin {
            pg_database(a, "softpos_bench_flood", false).await;
        }
    }
    println!();
}

/// Slow clients of the slow-clients table.
const SLOW_CLIENTS: usize = 100;

/// `SLOW_CLIENTS` sockets each send part of a request line and stall; meanwhile `GET /healthz`
/// on fresh connections is timed, and after the header timeout (10 s by default, plus a
/// margin) the slow sockets the host closed are counted.
async fn slow_clients_table(args: &Args, dir: &std::path::Path) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = format!("sqlite://{}", dir.join("slow.db").display());
    add_operator(args, &db);
    let (_host, base) = start_host(&args.bin, &db);
    let addr = base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..SLOW_CLIENTS {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HT").await.unwrap();
        slow.push(s);
    }
    let mut latencies = Vec::new();
    for _ in 0..200 {
        // A fresh connection each time: a client arriving while the slow ones hold theirs.
        let http = reqwest::Client::new();
        let t0 = Instant::now();
        let res = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.bytes().await.unwrap();
        latencies.push(t0.elapsed());
    }
    latencies.sort();
    tokio::time::sleep(Duration::from_secs(12).saturating_sub(started.elapsed())).await;
    let waited = started.elapsed().as_secs_f64();
    let mut closed = 0;
    for s in &mut slow {
        let mut buf = [0u8; 256];
        // Closed: end of stream, a reset or a last answer. Still open: nothing within the wait.
        let read = tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await;
        closed += usize::from(read.is_ok());
    }
    println!(
        "| slow clients | `GET /healthz` p50 ms | p99 ms | slow sockets closed by the host after {waited:.0} s |"
    );
    println!("|---:|---:|---:|---:|");
    println!(
        "| {SLOW_CLIENTS} | {:.2} | {:.2} | {closed} of {SLOW_CLIENTS} |",
        percentile_ms(&latencies, 0.50),
        percentile_ms(&latencies, 0.99)
    );
    println!();
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The HTTP alone: `clients` callers each doing `GET /healthz` (no database, no session) one
/// after the other, as the terminals above do sales. A sale cannot be faster than this round
/// trip plus one commit, so it bounds the ratio the host can reach: sequentially, at most
/// `http / (http + raw)`.
async fn http_floor(base: &str, clients: usize, seconds: u64) -> (f64, f64) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url) = (http.clone(), format!("{base}/healthz"));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let res = http.get(&url).send().await.unwrap();
                    assert_eq!(res.status(), 200);
                    res.bytes().await.unwrap();
                    latencies.push(t0.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, percentile_ms(&all, 0.50))
}

/// Single-row committed inserts, one connection, one after the other: the database's own
/// limit for what the host does (a sale the issuer answers at once commits once).
async fn raw_inserts(url: &str, seconds: u64) -> f64 {
    sqlx::any::install_default_drivers();
    let url = if url.starts_with("sqlite:") {
        format!("{url}?mode=rwc")
    } else {
        url.to_owned()
    };
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    if url.starts_with("sqlite:") {
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS raw_insert_bench (id BIGINT PRIMARY KEY, v TEXT NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    // One connection held for the whole run: taking it from the pool per insert would add the
    // pool's ping to every insert and make the database look slower than it is.
    let mut conn = pool.acquire().await.unwrap();
    let started = Instant::now();
    let mut n: i64 = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        sqlx::query("INSERT INTO raw_insert_bench (id, v) VALUES ($1, $2)")
            .bind(n)
            .bind("0123456789abcdef0123456789abcdef")
            .execute(&mut *conn)
            .await
            .unwrap();
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Fills a fresh database with `batches` terminals, each with an open batch holding one
/// approved sale, then times `softpos-host cutoff` on it (the whole process: start, open the
/// database, close every batch, exit). The rows are written with set-based SQL, not through the
/// API: 10 000 sign-ins would spend minutes in Argon2 and measure nothing about the cut-off.
async fn cutoff_seconds(args: &Args, db: &str, batches: u32) -> f64 {
    // Creates the schema and the merchant (terminals reference it).
    add_operator(args, db);
    sqlx::any::install_default_drivers();
    let url = if db.starts_with("sqlite:") {
        format!("{db}?mode=rwc")
    } else {
        db.to_owned()
    };
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let date: String = sqlx::query("SELECT business_date FROM host_state WHERE id = 1")
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get("business_date")
        .unwrap();
    let now = 1_700_000_000_000_i64;
    // `WITH RECURSIVE` counts on both SQLite and PostgreSQL.
    sqlx::query(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {batches}) \
         INSERT INTO terminals (merchant_id, terminal_id, currency, created_at) \
         SELECT $1, CAST(50000000 + i AS TEXT), 'CNY', $2 FROM n"
    ))
    .bind(MERCHANT)
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO batches (merchant_id, terminal_ref, batch_no, business_date, status, \
         opened_at) SELECT merchant_id, id, 1, $1, 'open', $2 FROM terminals",
    )
    .bind(&date)
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO transactions (terminal_ref, merchant_id, batch_id, request_id, kind, \
         trace_no, amount, status, response_code, masked_pan, operator, created_at) \
         SELECT terminal_ref, $1, id, 'bench-' || CAST(id AS TEXT), 'sale', 1, 100, \
         'approved', '00', '411111******1111', '01', $2 FROM batches",
    )
    .bind(MERCHANT)
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let started = Instant::now();
    let out = cli(&args.bin, db, &["cutoff"], None);
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.contains(&format!(": {batches} batches closed")),
        "cut-off did not close {batches} batches: {out}"
    );
    seconds
}

async fn pg_database(admin: &str, name: &str, create: bool) -> String {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
    if create {
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
    }
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![("SQLite", None)];
    match std::env::var("SOFTPOS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => backends.push(("PostgreSQL", Some(url))),
        _ => eprintln!("notice: SOFTPOS_TEST_DATABASE_URL not set, PostgreSQL skipped"),
    }
    if args.runs("load") {
        load_tables(&args, &backends, dir.path()).await;
    }
    if args.runs("http") {
        http_table(&args, dir.path()).await;
    }
    if args.runs("flood") {
        flood_table(&args, &backends, dir.path()).await;
    }
    if args.runs("slow") {
        slow_clients_table(&args, dir.path()).await;
    }
    if args.runs("gateway") {
        gateway_table(&args, dir.path()).await;
    }
    if !args.runs("cutoff") {
        return;
    }
    println!("| database | open batches, one sale each | `softpos-host cutoff` s |");
    println!("|---|---:|---:|");
    for (name, admin) in &backends {
        let db = match admin {
            None => format!("sqlite://{}", dir.path().join("cutoff.db").display()),
            Some(a) => pg_database(a, "softpos_bench_cutoff", true).await,
        };
        let seconds = cutoff_seconds(&args, &db, CUTOFF_BATCHES).await;
        println!("| {name} | {CUTOFF_BATCHES} | {seconds:.2} |");
        if let Some(a) = admin {
            pg_database(a, "softpos_bench_cutoff", false).await;
        }
    }
}

async fn http_table(args: &Args, dir: &std::path::Path) {
    let db = format!("sqlite://{}", dir.join("http.db").display());
    add_operator(args, &db);
    let (_host, base) = start_host(&args.bin, &db);
    println!("| clients | `GET /healthz` requests/s | p50 ms |");
    println!("|---:|---:|---:|");
    for clients in [1, 8, 64] {
        let (rate, p50) = http_floor(&base, clients, args.seconds.min(5)).await;
        println!("| {clients} | {rate:.0} | {p50:.2} |");
    }
    println!();
}

async fn load_tables(args: &Args, backends: &[(&str, Option<String>)], dir: &std::path::Path) {
    println!("| database | terminals | approved sales/s | p50 ms | p99 ms | raw inserts/s | sales/s ÷ raw inserts/s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, admin) in backends {
        let raw_url = match admin {
            None => format!("sqlite://{}", dir.join("raw.db").display()),
            Some(a) => pg_database(a, "softpos_bench_raw", true).await,
        };
        let raw = raw_inserts(&raw_url, args.seconds.min(5)).await;
        for terminals in [1, 8, 64] {
            let db = match admin {
                None => format!(
                    "sqlite://{}",
                    dir.join(format!("bench{terminals}.db")).display()
                ),
                Some(a) => pg_database(a, &format!("softpos_bench_{terminals}"), true).await,
            };
            let l = run_level(args, &db, terminals).await;
            let rate = l.approved as f64 / l.seconds;
            println!(
                "| {name} | {} | {rate:.0} | {:.1} | {:.1} | {raw:.0} | {:.2} |",
                l.terminals,
                l.p50_ms,
                l.p99_ms,
                rate / raw
            );
            if let Some(a) = admin {
                pg_database(a, &format!("softpos_bench_{terminals}"), false).await;
            }
        }
        if let Some(a) = admin {
            pg_database(a, "softpos_bench_raw", false).await;
        }
    }
    println!();
}

/// The acquirer peer, stopped by its PID.
struct PeerProcess(Child);

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts tests/acquirer/peer.py on a free loopback port; returns it and its `HOST:PORT`.
fn start_peer() -> (PeerProcess, String) {
    let mut child = Command::new("target/acquirer-venv/bin/python")
        .args(["tests/acquirer/peer.py", "--listen", "127.0.0.1:0"])
        .env("TZ", "Asia/Shanghai")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the peer (scripts/tools.sh acquirer makes its venv)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("peer output").unwrap();
    let addr = line
        .strip_prefix("listening on ")
        .expect("its address")
        .to_owned();
    (PeerProcess(child), addr)
}

/// One terminal's sales through the simulator, then through the ISO 8583 link to the peer.
async fn gateway_table(args: &Args, dir: &std::path::Path) {
    println!("| acquirer | link | sale p50 ms | sale p99 ms | sales/s |");
    println!("|---|---|---:|---:|---:|");
    for (i, (acquirer, mode)) in [
        ("built-in simulator", None),
        ("pyiso8583 peer", Some("per-request")),
        ("pyiso8583 peer", Some("persistent")),
    ]
    .into_iter()
    .enumerate()
    {
        let db = format!("sqlite://{}", dir.join(format!("gateway{i}.db")).display());
        let codes = provision(args, &db, &["40000001".to_owned()]);
        let peer = mode.map(|_| start_peer());
        // An acquirer that reads cards needs the key its owed reversals' cards are sealed with.
        let key = dir.join("data.key");
        let random = [
            uuid::Uuid::new_v4().into_bytes(),
            uuid::Uuid::new_v4().into_bytes(),
        ];
        std::fs::write(&key, random.concat()).unwrap();
        let extra: Vec<String> = match (&peer, mode) {
            (Some((_, addr)), Some(mode)) => vec![
                "--acquirer".into(),
                format!("iso8583://{addr}"),
                "--acquirer-mode".into(),
                mode.into(),
                "--data-key-file".into(),
                key.display().to_string(),
            ],
            _ => Vec::new(),
        };
        let (_host, base) = start_host_with(&args.bin, &db, &extra);
        let http = reqwest::Client::new();
        let token = signed_in(&http, &base, "40000001", &codes[0]).await;
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let started = Instant::now();
        let (approved, mut latencies, _) = sell_until(http, base, token, deadline, 1).await;
        let rate = approved as f64 / started.elapsed().as_secs_f64();
        latencies.sort();
        println!(
            "| {acquirer} | {} | {:.2} | {:.2} | {rate:.0} |",
            mode.unwrap_or("none"),
            percentile_ms(&latencies, 0.50),
            percentile_ms(&latencies, 0.99)
        );
    }
    println!();
}
