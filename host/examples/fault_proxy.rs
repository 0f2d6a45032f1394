//! A fault-injecting HTTP proxy for the browser tests (issue 7): it sits between the terminal
//! and a real host and breaks chosen requests the way a real counter's network does.
//!
//! ```text
//! fault_proxy --upstream 127.0.0.1:PORT        # prints "listening on http://ADDR"
//! fault_proxy --host-bin softpos-host --db URL --allow-origin ORIGIN
//!                                              # starts (and may kill) its own host
//! POST /__fault {"path":"/v1/transactions","action":"drop_answer","times":1}
//! POST /__fault {"action":"clear"}
//! ```
//!
//! Actions, each for the next `times` requests whose path starts with `path`:
//! - `drop_request`: close the connection without forwarding (the host never sees it);
//! - `drop_answer`: forward, let the host commit, then close without answering;
//! - `delay`: wait `delay_ms` before forwarding;
//! - `duplicate`: forward the same bytes twice (a retransmission), answer with the second reply;
//! - `cut_body`: forward, then send the answer's head and half its body and close;
//! - `kill_host` (own host only): forward, then SIGKILL the host before it answers, restart
//!   it on the same port and database, and close the connection unanswered;
//! - `kill_host_mid` (own host only): forward, and SIGKILL the host `delay_ms` later while it
//!   is still working on the request (the held-back card keeps a sale inside the host, booked
//!   and waiting on the issuer), then restart it and close the connection unanswered;
//! - `cutoff` (own host only): run `softpos-host cutoff --db URL` just before forwarding;
//! - `bare_status`: forward, let the host commit, then answer `status` with an empty body (a
//!   proxy's own 404/408/429/499), keeping the host's CORS headers so the page can read it.
//!
//! A rule with `after` lets that many matching requests through before it starts.
//! `POST /__fault {"action":"uploads"}` answers what each batch upload that reached the host
//! was (`path`, `from`, `more`, number of `entries`) since it was last asked, and forgets it.
//!
//! And one for the host itself, not for a request: `exit_after_group_commit` (own host only)
//! arms the host's fault hook (`SOFTPOS_FAULT_GROUP_EXIT_FILE`, debug builds), so its next
//! group commit of two sales or more ends the process before any of them is answered. A host
//! found gone when a request fails is restarted on the same port and database.
//!
//! It works on raw HTTP/1.1 bytes, not through an HTTP library, so a fault can happen at any
//! byte: one request per client connection, `Connection: close` both ways. CORS passes
//! through untouched (the host decides; preflights are never faulted), except for `/__fault`
//! itself, which any page may call.
//! It listens on 127.0.0.1 only and stops when its parent kills it.

use serde::Deserialize;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Deserialize, Clone, Debug)]
struct Rule {
    #[serde(default)]
    path: String,
    action: String,
    #[serde(default = "one")]
    times: u32,
    #[serde(default)]
    delay_ms: u64,
    /// The status `bare_status` answers with.
    #[serde(default)]
    status: u16,
    /// Matching requests let through untouched before the rule starts.
    #[serde(default)]
    after: u32,
}

/// What each batch upload that reached the host was: its path, `from`, `more` and number of
/// entries (R11's chunks), until `{"action":"uploads"}` reads and empties the list.
static UPLOADS: Mutex<Vec<serde_json::Value>> = Mutex::new(Vec::new());

/// Notes a batch upload the host is about to see.
fn note_upload(path: &str, request: &[u8]) {
    if !path.ends_with("/upload") {
        return;
    }
    let body = &request[find(request, b"\r\n\r\n").map_or(request.len(), |e| e + 4)..];
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let seen = serde_json::json!({
        "path": path,
        "from": body["from"],
        "more": body["more"],
        "entries": body["entries"].as_array().map(Vec::len),
    });
    UPLOADS.lock().unwrap_or_else(|p| p.into_inner()).push(seen);
}

fn one() -> u32 {
    1
}

type Rules = Arc<Mutex<Vec<Rule>>>;

/// The host this proxy started itself, so a scenario can kill it like a power cut.
/// std::process, not tokio's: the host's tokio is built without "process", and a blocking
/// pause of the proxy while the host restarts is what a client would see anyway.
struct OwnHost {
    bin: String,
    db: String,
    origin: String,
    addr: String,
    child: Option<std::process::Child>,
    /// The file whose presence arms the host's group-commit exit.
    group_exit: std::path::PathBuf,
    /// The proxy armed that exit and has not seen the host take it yet.
    armed: bool,
}

impl OwnHost {
    /// Starts the host on `addr` (port 0 the first time) and learns the address it bound.
    fn start(&mut self) -> std::io::Result<()> {
        use std::io::BufRead;
        let listen = if self.addr.is_empty() {
            "127.0.0.1:0".to_owned()
        } else {
            self.addr.clone()
        };
        let mut child = std::process::Command::new(&self.bin)
            .args(["serve", "--db", &self.db, "--listen", &listen])
            .args(["--allow-origin", &self.origin])
            .env("SOFTPOS_FAULT_GROUP_EXIT_FILE", &self.group_exit)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut bound = None;
        for line in lines.by_ref() {
            if let Some(addr) = line?.strip_prefix("listening on http://") {
                bound = Some(addr.to_owned());
                break;
            }
        }
        let Some(bound) = bound else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("the host did not start"));
        };
        self.addr = bound;
        // Keep reading so the host never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        self.child = Some(child);
        Ok(())
    }

    /// Restarts the host if it ended by itself (the group-commit exit). The host removes the
    /// arming file as it takes the exit, and its sockets close before the process can be
    /// waited for: a host that took it is waited for, so that the requests it dropped are
    /// the only ones that fail.
    fn restart_if_gone(&mut self) -> std::io::Result<()> {
        let exiting = self.armed && !self.group_exit.exists();
        if exiting {
            self.armed = false;
        }
        let gone = match self.child.as_mut() {
            Some(child) if exiting => {
                child.wait()?;
                true
            }
            Some(child) => child.try_wait()?.is_some(),
            None => true,
        };
        if gone {
            eprintln!("fault_proxy: the host is gone; restarting it");
            self.kill_and_restart()?;
        }
        Ok(())
    }

    /// SIGKILL, as a power cut: no shutdown handler runs. Then the same port and database.
    fn kill_and_restart(&mut self) -> std::io::Result<()> {
        if let Some(mut child) = self.child.take() {
            // An error here is a host that already ended by itself.
            child.kill().ok();
            child.wait()?;
        }
        // The port may linger for a moment after the kill; the database does not.
        for _ in 0..50 {
            if self.start().is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(std::io::Error::other("the host did not come back"))
    }

    fn cutoff(&self) -> std::io::Result<()> {
        let status = std::process::Command::new(&self.bin)
            .args(["cutoff", "--db", &self.db])
            .stdout(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other("cutoff failed"))
        }
    }
}

impl Drop for OwnHost {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.group_exit);
    }
}

type Own = Arc<tokio::sync::Mutex<Option<OwnHost>>>;

/// Bodies here are small JSON; anything bigger is not a terminal's request.
const MAX_MESSAGE: usize = 4 << 20;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let (mut upstream, mut bin, mut db, mut origin) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--upstream" => upstream = args.next(),
            "--host-bin" => bin = args.next(),
            "--db" => db = args.next(),
            "--allow-origin" => origin = args.next(),
            _ => {}
        }
    }
    let own: Own = Arc::default();
    if let (Some(bin), Some(db), Some(origin)) = (bin, db, origin) {
        let mut host = OwnHost {
            bin,
            db,
            origin,
            addr: String::new(),
            child: None,
            group_exit: std::env::temp_dir()
                .join(format!("softpos-fault-group-exit-{}", std::process::id())),
            armed: false,
        };
        host.start()?;
        eprintln!("fault_proxy: own host at {}", host.addr);
        *own.lock().await = Some(host);
    } else if upstream.is_none() {
        eprintln!(
            "usage: fault_proxy --upstream HOST:PORT | --host-bin BIN --db URL --allow-origin O"
        );
        std::process::exit(2);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    let rules: Rules = Arc::default();
    // Stopped by its PID with SIGTERM: take the host it started down with it.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let client = tokio::select! {
            accepted = listener.accept() => accepted?.0,
            _ = term.recv() => {
                own.lock().await.take();
                return Ok(());
            }
        };
        let (rules, own, upstream) = (rules.clone(), own.clone(), upstream.clone());
        tokio::spawn(async move {
            let upstream = match (&*own.lock().await, upstream) {
                (Some(h), _) => h.addr.clone(),
                (None, Some(u)) => u,
                (None, None) => return,
            };
            if let Err(e) = serve(client, &upstream, &rules, &own).await {
                eprintln!("fault_proxy: {e}");
            }
        });
    }
}

/// Reads one HTTP/1.1 message (head and a Content-Length body) or up to EOF when
/// `to_eof` (an answer sent with `Connection: close`).
async fn read_message(s: &mut TcpStream, to_eof: bool) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let len = content_length(&buf[..end]).unwrap_or(0);
            if !to_eof && buf.len() >= end + 4 + len {
                buf.truncate(end + 4 + len);
                return Ok(Some(buf));
            }
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(if buf.is_empty() { None } else { Some(buf) });
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_MESSAGE {
            return Err(std::io::Error::other("message too large"));
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> Option<usize> {
    String::from_utf8_lossy(head).lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })
}

/// The message with its `Connection` header replaced by `Connection: close`, so each side
/// closes after one exchange and a fault never leaves a half-used keep-alive connection.
fn close_after(msg: &[u8]) -> Vec<u8> {
    let Some(end) = find(msg, b"\r\n\r\n") else {
        return msg.to_vec();
    };
    let head = String::from_utf8_lossy(&msg[..end]);
    let mut out = String::new();
    for line in head.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut v = out.into_bytes();
    v.extend_from_slice(&msg[end + 4..]);
    v
}

async fn forward(upstream: &str, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(upstream).await?;
    s.write_all(request).await?;
    read_message(&mut s, true)
        .await?
        .ok_or_else(|| std::io::Error::other("the host closed without answering"))
}

/// Takes one use of the first rule matching `path`.
fn take_rule(rules: &Rules, path: &str) -> Option<Rule> {
    let mut rules = rules.lock().unwrap_or_else(|p| p.into_inner());
    let i = rules
        .iter()
        .position(|r| r.times > 0 && path.starts_with(&r.path))?;
    if rules[i].after > 0 {
        rules[i].after -= 1;
        return None;
    }
    rules[i].times -= 1;
    let rule = rules[i].clone();
    if rules[i].times == 0 {
        rules.remove(i);
    }
    Some(rule)
}

async fn serve(
    mut client: TcpStream,
    upstream: &str,
    rules: &Rules,
    own: &Own,
) -> std::io::Result<()> {
    let Some(request) = read_message(&mut client, false).await? else {
        return Ok(());
    };
    let line = String::from_utf8_lossy(&request[..find(&request, b"\r\n").unwrap_or(0)]);
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if path == "/__fault" {
        return control(client, method, &request, rules, own).await;
    }
    let request = close_after(&request);
    // A CORS preflight passes untouched: a fault is for the request itself, and a preflight
    // taking the rule would turn every fault into a request the host never saw.
    let rule = if method == "OPTIONS" {
        None
    } else {
        take_rule(rules, path)
    };
    let action = rule.as_ref().map_or("", |r| r.action.as_str());
    if !action.is_empty() {
        eprintln!("fault_proxy: {action} {method} {path}");
    }
    match action {
        // Dropping the socket unanswered is what the browser sees as a network error.
        "drop_request" => return Ok(()),
        "delay" => {
            let ms = rule.as_ref().map_or(0, |r| r.delay_ms);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        "cutoff" => {
            if let Some(h) = &*own.lock().await {
                h.cutoff()?;
            }
        }
        _ => {}
    }
    if method == "POST" {
        note_upload(path, &request);
    }
    if action == "kill_host_mid" {
        // The host's side of the call stays open until the kill, so the host is killed inside
        // its handler, not merely told that the client went away.
        let call = tokio::spawn({
            let (upstream, request) = (upstream.to_owned(), request.clone());
            async move { forward(&upstream, &request).await }
        });
        let ms = rule.as_ref().map_or(0, |r| r.delay_ms);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if let Some(h) = &mut *own.lock().await {
            h.kill_and_restart()?;
        }
        call.abort();
        return Ok(());
    }
    let answer = if action == "duplicate" {
        // The first delivery's answer is lost on the way, as after a retransmission.
        let _ = forward(upstream, &request).await;
        forward(upstream, &request).await
    } else {
        forward(upstream, &request).await
    };
    if action == "kill_host" {
        // The host has committed (it answered us); it dies before the answer leaves.
        if let Some(h) = &mut *own.lock().await {
            h.kill_and_restart()?;
        }
        return Ok(());
    }
    let answer = match answer {
        Ok(a) => close_after(&a),
        // The host is down: the terminal sees a broken connection, as it would without us.
        Err(_) => {
            if let Some(h) = &mut *own.lock().await {
                h.restart_if_gone()?;
            }
            return Ok(());
        }
    };
    match action {
        "drop_answer" => Ok(()),
        "bare_status" => {
            let status = rule.as_ref().map_or(502, |r| r.status);
            client.write_all(&bare(&answer, status)).await?;
            client.shutdown().await
        }
        "cut_body" => {
            let body_at = find(&answer, b"\r\n\r\n").map_or(answer.len(), |e| e + 4);
            let cut = body_at + (answer.len() - body_at) / 2;
            client.write_all(&answer[..cut]).await?;
            client.flush().await
        }
        _ => {
            client.write_all(&answer).await?;
            client.shutdown().await
        }
    }
}

/// An answer of `status` with no body, carrying over only the host answer's CORS headers: what
/// a proxy that adds them to every answer sends when it gives up on its own.
fn bare(answer: &[u8], status: u16) -> Vec<u8> {
    let end = find(answer, b"\r\n\r\n").unwrap_or(answer.len());
    let mut out = format!("HTTP/1.1 {status} Proxy Says No\r\n");
    for line in String::from_utf8_lossy(&answer[..end])
        .split("\r\n")
        .skip(1)
    {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        if name.starts_with("access-control-") || name == "vary" {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
    out.into_bytes()
}

async fn control(
    mut client: TcpStream,
    method: &str,
    request: &[u8],
    rules: &Rules,
    own: &Own,
) -> std::io::Result<()> {
    let body = &request[find(request, b"\r\n\r\n").map_or(request.len(), |e| e + 4)..];
    let (status, reply) = if method == "OPTIONS" {
        ("204 No Content", String::new())
    } else {
        match serde_json::from_slice::<Rule>(body) {
            Ok(r) if r.action == "exit_after_group_commit" => match &mut *own.lock().await {
                Some(h) => {
                    std::fs::write(&h.group_exit, b"")?;
                    h.armed = true;
                    ("200 OK", r#"{"ok":true}"#.to_owned())
                }
                None => ("400 Bad Request", r#"{"ok":false}"#.to_owned()),
            },
            Ok(r) if r.action == "uploads" => {
                let seen = std::mem::take(&mut *UPLOADS.lock().unwrap_or_else(|p| p.into_inner()));
                ("200 OK", serde_json::Value::from(seen).to_string())
            }
            Ok(r) if r.action == "clear" => {
                rules.lock().unwrap_or_else(|p| p.into_inner()).clear();
                if let Some(h) = &mut *own.lock().await {
                    // Disarmed too, if no group came.
                    let _ = std::fs::remove_file(&h.group_exit);
                    h.armed = false;
                }
                ("200 OK", r#"{"ok":true}"#.to_owned())
            }
            Ok(r)
                if [
                    "drop_request",
                    "drop_answer",
                    "delay",
                    "duplicate",
                    "cut_body",
                    "kill_host",
                    "kill_host_mid",
                    "cutoff",
                    "bare_status",
                ]
                .contains(&r.action.as_str()) =>
            {
                rules.lock().unwrap_or_else(|p| p.into_inner()).push(r);
                ("200 OK", r#"{"ok":true}"#.to_owned())
            }
            _ => ("400 Bad Request", r#"{"ok":false}"#.to_owned()),
        }
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nAccess-Control-Allow-Origin: *\r\n\
         Access-Control-Allow-Methods: POST, OPTIONS\r\nAccess-Control-Allow-Headers: content-type\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    );
    client.write_all(head.as_bytes()).await?;
    client.write_all(reply.as_bytes()).await?;
    client.shutdown().await
}
