//! The harness of the host's tests: the real binary on an ephemeral port, over HTTP, on a fresh
//! SQLite file, and again on its own PostgreSQL database when `SOFTPOS_TEST_DATABASE_URL` is set.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_softpos-host");
pub const MERCHANT: &str = "898310048160001";
pub const TERMINAL: &str = "10000001";
pub const OPERATOR_PW: &str = "op-Secret-4711";
pub const SUPERVISOR_PW: &str = "sv-Secret-0815";
pub const CARD: &str = "4111111111111111";
pub const EXPIRY: &str = "12/39";

/// Which database a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database: an SQLite file in a temp dir, or a PostgreSQL database made for this
/// test and dropped after it.
pub struct Db {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}_{:x}_{n}", std::process::id(), t & 0xffff_ffff_ffff)
}

fn pg_exec(admin_url: &str, sql: &str) {
    use sqlx::{Connection, Executor};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
        conn.execute(sql).await.unwrap();
        conn.close().await.unwrap();
    });
}

impl Db {
    pub fn new(backend: Backend) -> Db {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => Db {
                backend,
                url: format!("sqlite://{}", dir.path().join("host.db").display()),
                dir,
                pg: None,
            },
            Backend::Postgres => {
                let admin = std::env::var("SOFTPOS_TEST_DATABASE_URL").unwrap();
                let name = format!("softpos_t_{}", unique());
                pg_exec(&admin, &format!("CREATE DATABASE {name}"));
                let base = admin.rsplit_once('/').unwrap().0;
                Db {
                    backend,
                    url: format!("{base}/{name}"),
                    dir,
                    pg: Some((admin, name)),
                }
            }
        }
    }

    /// Runs a CLI subcommand against this database; returns its stdout.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg("--db")
            .arg(&self.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
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
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "softpos-host {args:?} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// `terminal add`; returns the activation code (the last line).
    pub fn add_terminal(&self, merchant: &str, terminal: &str) -> String {
        let out = self.cli(
            &[
                "terminal",
                "add",
                "--merchant",
                merchant,
                "--terminal",
                terminal,
            ],
            None,
        );
        out.lines().last().unwrap().trim().to_owned()
    }

    /// `operator add`, password on stdin.
    pub fn add_operator(&self, merchant: &str, operator: &str, password: &str) {
        self.cli(
            &[
                "operator",
                "add",
                "--merchant",
                merchant,
                "--operator",
                operator,
            ],
            Some(&format!("{password}\n")),
        );
    }

    pub fn cutoff(&self) -> String {
        self.cli(&["cutoff"], None)
    }

    /// Runs SQL straight on the database, as someone with access to it would.
    pub fn exec(&self, sql: &str) -> Result<(), String> {
        use sqlx::{Connection, Executor};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let result = match self.backend {
                Backend::Sqlite => {
                    let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                    let r = conn.execute(sql).await.map(|_| ());
                    conn.close().await.unwrap();
                    r
                }
                Backend::Postgres => {
                    let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                    let r = conn.execute(sql).await.map(|_| ());
                    conn.close().await.unwrap();
                    r
                }
            };
            result.map_err(|e| e.to_string())
        })
    }
}

impl Db {
    /// The one integer `sql` selects (as `n`), read straight from the database.
    pub fn count(&self, sql: &str) -> i64 {
        use sqlx::{Connection, Row};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&self.url).await.unwrap();
            let n = sqlx::query(sql)
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get("n");
            conn.close().await.unwrap();
            n
        })
    }

    /// Every row of every host table as text (PostgreSQL), to search for secrets.
    pub fn pg_dump_text(&self) -> String {
        use sqlx::{Connection, Row};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
            let tables: Vec<String> = sqlx::query(
                "SELECT table_name::text AS t FROM information_schema.tables \
                 WHERE table_schema = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("t"))
            .collect();
            assert!(tables.len() >= 10, "{tables:?}");
            let mut out = String::new();
            for t in tables {
                let rows = sqlx::query(&format!("SELECT x::text AS row FROM {t} x"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                for r in rows {
                    out.push_str(r.get::<&str, _>("row"));
                    out.push('\n');
                }
            }
            out
        })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            pg_exec(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// Runs `f` on SQLite and, when `SOFTPOS_TEST_DATABASE_URL` is set, on PostgreSQL too (in
/// parallel threads, so a slow test does not take twice as long).
pub fn each_backend(f: impl Fn(Backend) + Send + Sync + 'static) {
    let f = Arc::new(f);
    let mut runs = vec![Backend::Sqlite];
    if pg_enabled() {
        runs.push(Backend::Postgres);
    }
    let handles: Vec<_> = runs
        .into_iter()
        .map(|b| {
            let f = f.clone();
            std::thread::Builder::new()
                .name(format!("{b:?}"))
                .spawn(move || f(b))
                .unwrap()
        })
        .collect();
    let mut failed = false;
    for h in handles {
        failed |= h.join().is_err();
    }
    assert!(!failed, "a backend failed (see above)");
}

pub fn pg_enabled() -> bool {
    static NOTICE: Once = Once::new();
    let on = std::env::var("SOFTPOS_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty());
    if !on {
        NOTICE.call_once(|| {
            eprintln!(
                "notice: SOFTPOS_TEST_DATABASE_URL is not set; PostgreSQL runs skipped \
                 (scripts/with-postgres.sh sets it)"
            )
        });
    }
    on
}

/// `serve` and `demo` flags that turn the rate limits off.
pub const NO_RATE_LIMITS: [&str; 6] = [
    "--activate-per-minute",
    "0",
    "--sign-in-per-minute",
    "0",
    "--sign-in-per-key-per-minute",
    "0",
];

/// A running host process, killed when dropped.
pub struct Host {
    child: Child,
    pub base: String,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
    pub http: reqwest::blocking::Client,
}

fn drain(
    r: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
    first: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let mut first = first;
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("listening on ") {
                if let Some(tx) = first.take() {
                    let _ = tx.send(addr.to_owned());
                }
            }
            let mut s = into.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
}

impl Host {
    pub fn start(db: &Db, extra: &[&str]) -> Host {
        Host::start_command(db, "serve", extra)
    }

    /// `softpos-host SUBCOMMAND --listen 127.0.0.1:0 --db URL EXTRA...`, once it listens.
    ///
    /// The rate limits are off unless `extra` sets them (a later flag wins): the tests sign in
    /// and activate far more often than a shop does, and tests/edge.rs tests the limits.
    pub fn start_command(db: &Db, subcommand: &str, extra: &[&str]) -> Host {
        Host::start_command_env(db, subcommand, extra, &[])
    }

    /// [`Host::start_command`] with extra environment variables for the process.
    pub fn start_command_env(
        db: &Db,
        subcommand: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Host {
        let mut child = Command::new(BIN)
            .args([subcommand, "--listen", "127.0.0.1:0", "--db", &db.url])
            .args(NO_RATE_LIMITS)
            .args(extra)
            .env("RUST_LOG", "debug,sqlx=warn,hyper=info,h2=info,tower=info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        drain(child.stdout.take().unwrap(), stdout.clone(), Some(tx));
        drain(child.stderr.take().unwrap(), stderr.clone(), None);
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("the host did not start: {}", stderr.lock().unwrap());
            }
        };
        Host {
            child,
            base,
            stdout,
            stderr,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(90))
                .build()
                .unwrap(),
        }
    }

    /// The host's process id (for `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        answer(req.send().unwrap())
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        answer(req.send().unwrap())
    }

    pub fn activate(&self, merchant: &str, terminal: &str, code: &str) -> String {
        let (st, body) = self.post(
            "/v1/activate",
            None,
            &json!({"merchant_id": merchant, "terminal_id": terminal, "activation_code": code}),
        );
        assert_eq!(st, 200, "{body}");
        body["terminal_key"].as_str().unwrap().to_owned()
    }

    pub fn sign_in(&self, key: &str, operator: &str, password: &str) -> (u16, Value) {
        self.post(
            "/v1/sign-in",
            Some(key),
            &json!({"operator": operator, "password": password}),
        )
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn logs(&self) -> String {
        format!(
            "{}{}",
            self.stdout.lock().unwrap(),
            self.stderr.lock().unwrap()
        )
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn answer(res: reqwest::blocking::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The error code of an error answer.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

pub fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A signed-in terminal on a fresh host.
pub struct Counter {
    pub db: Db,
    pub host: Host,
    pub key: String,
    pub token: String,
    next_trace: Mutex<u32>,
}

impl Counter {
    /// Merchant, terminal `10000001`, operator `01`, supervisor `00`, activated and signed in.
    pub fn new(backend: Backend) -> Counter {
        Counter::with_args(backend, &[])
    }

    pub fn with_args(backend: Backend, args: &[&str]) -> Counter {
        let db = Db::new(backend);
        let code = db.add_terminal(MERCHANT, TERMINAL);
        db.add_operator(MERCHANT, "01", OPERATOR_PW);
        db.add_operator(MERCHANT, "00", SUPERVISOR_PW);
        let host = Host::start(&db, args);
        let key = host.activate(MERCHANT, TERMINAL, &code);
        let (st, body) = host.sign_in(&key, "01", OPERATOR_PW);
        assert_eq!(st, 200, "{body}");
        Counter {
            token: body["session_token"].as_str().unwrap().to_owned(),
            next_trace: Mutex::new(body["next_trace_no"].as_u64().unwrap() as u32),
            db,
            host,
            key,
        }
    }

    pub fn trace(&self) -> u32 {
        let mut t = self.next_trace.lock().unwrap();
        let n = *t;
        *t += 1;
        n
    }

    pub fn tx(&self, body: &Value) -> (u16, Value) {
        self.host.post("/v1/transactions", Some(&self.token), body)
    }

    pub fn sale(&self, amount: i64, pan: &str) -> (u16, Value) {
        self.tx(&sale_body(&rid(), self.trace(), amount, pan))
    }

    pub fn current(&self) -> Value {
        let (st, body) = self.host.get("/v1/batches/current", Some(&self.token));
        assert_eq!(st, 200, "{body}");
        body
    }

    pub fn resign_in(&mut self) -> Value {
        let (st, body) = self.host.sign_in(&self.key, "01", OPERATOR_PW);
        assert_eq!(st, 200, "{body}");
        self.token = body["session_token"].as_str().unwrap().to_owned();
        body
    }
}

pub fn sale_body(request_id: &str, trace_no: u32, amount: i64, pan: &str) -> Value {
    json!({
        "request_id": request_id, "kind": "sale", "trace_no": trace_no, "amount": amount,
        "currency": "CNY", "card": {"pan": pan, "expiry": EXPIRY}
    })
}

/// A terminal's totals as its sums alone: a settlement that sends them is compared on its sums
/// (totals without halves, as before the split, R21); an answer's totals compare with them
/// through [`sums`].
pub fn totals(batch_no: u64, sale: (u64, i64), void: (u64, i64), refund: (u64, i64)) -> Value {
    json!({
        "batch_no": batch_no, "currency": "CNY",
        "sale": {"count": sale.0, "amount": sale.1},
        "completion": {"count": 0, "amount": 0},
        "void": {"count": void.0, "amount": void.1},
        "refund": {"count": refund.0, "amount": refund.1},
        "net_amount": sale.1 - void.1 - refund.1
    })
}

/// An answer's totals without their domestic/foreign halves (R21), after checking that the
/// halves sum to the lines.
pub fn sums(totals: &Value) -> Value {
    let mut t = totals.clone();
    if let Some(o) = t.as_object_mut() {
        let (d, f) = (o.remove("domestic"), o.remove("foreign"));
        if let (Some(d), Some(f)) = (d, f) {
            for line in ["sale", "completion", "void", "refund"] {
                for part in ["count", "amount"] {
                    let sum = d[line][part].as_i64().unwrap() + f[line][part].as_i64().unwrap();
                    assert_eq!(o[line][part].as_i64(), Some(sum), "{line}.{part}: {totals}");
                }
            }
        }
    }
    t
}

/// `terminal add` and what `softpos-host` says on its standard error, failing.
pub fn terminal_add_refused(db: &Db, extra: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .args([
            "terminal",
            "add",
            "--merchant",
            MERCHANT,
            "--terminal",
            TERMINAL,
        ])
        .args(extra)
        .args(["--db", &db.url])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{extra:?} was taken");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Appends an approved-card entry of `kind` to a terminal's journal, as the terminal would.
pub fn entry(
    journal: &mut softpos::terminal::journal::Journal,
    id: &str,
    kind: softpos::protocol::EntryKind,
    trace: u32,
    amount: i64,
    status: softpos::protocol::EntryStatus,
) {
    journal
        .append(softpos::terminal::journal::EntryDraft {
            request_id: softpos::ids::RequestId::parse(id).expect("a UUID"),
            kind,
            trace_no: softpos::ids::TraceNo::try_from(trace).expect("a trace number"),
            amount,
            currency: "CNY".into(),
            status,
            response_code: Some("00".into()),
            rrn: None,
            auth_code: None,
            masked_pan: Some("411111******1111".into()),
            original_trace_no: None,
            original_rrn: None,
            operator: "01".into(),
            at: "2026-11-28T08:00:00.000Z".into(),
        })
        .expect("an entry in range");
}
