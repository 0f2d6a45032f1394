//! Migration 0005 (every merchant's row and key carry the merchant id) on a database made by
//! migrations 0001–0004 with rows in every table, on SQLite and (when configured) PostgreSQL:
//! every row is kept as it was, gets its terminal's merchant, and the host goes on with it.

mod common;

use common::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection, Row};

const OTHER_MERCHANT: &str = "898310048160002";
const OLD_KEY: &str = "a-terminal-key-from-before-0005";

/// Each table of the old schema with the columns it had.
const TABLES: [(&str, &str); 13] = [
    ("host_state", "id, business_date"),
    ("cutoffs", "business_date, ran_at, closed_batches"),
    ("merchants", "merchant_id, created_at"),
    (
        "terminals",
        "id, merchant_id, terminal_id, currency, key_hash, created_at",
    ),
    (
        "activation_codes",
        "code_hash, terminal_ref, expires_at, used_at",
    ),
    ("operators", "merchant_id, operator, password_hash"),
    (
        "sessions",
        "token_hash, terminal_ref, operator, created_at, expires_at, ended_at, ended_by",
    ),
    (
        "batches",
        "id, terminal_ref, batch_no, business_date, status, opened_at, closed_at, \
         terminal_totals, host_totals, settle_answer, upload_answer",
    ),
    (
        "transactions",
        "id, terminal_ref, merchant_id, batch_id, request_id, kind, trace_no, amount, status, \
         response_code, auth_code, rrn, masked_pan, original_id, voided, refunded_amount, \
         operator, created_at",
    ),
    ("reversals", "terminal_ref, request_id, reversed, at"),
    (
        "answers",
        "terminal_ref, scope, request_id, fingerprint, status, body, at",
    ),
    (
        "operator_locks",
        "terminal_ref, operator, attempts, locked_until",
    ),
    ("host_secrets", "name, value"),
];

/// The tables that got a merchant id from their terminal.
const BY_TERMINAL: [&str; 7] = [
    "activation_codes",
    "sessions",
    "batches",
    "transactions",
    "reversals",
    "answers",
    "operator_locks",
];

fn old_rows(day_ago: i64) -> Vec<String> {
    let key_hash = format!("{:x}", Sha256::digest(OLD_KEY.as_bytes()));
    let (m1, m2) = (MERCHANT, OTHER_MERCHANT);
    vec![
        "INSERT INTO host_state (id, business_date) VALUES (1, '2099-01-01')".into(),
        "INSERT INTO cutoffs VALUES ('2026-01-01', 5, 1)".into(),
        format!("INSERT INTO merchants VALUES ('{m1}', 1), ('{m2}', 1)"),
        format!(
            "INSERT INTO terminals (id, merchant_id, terminal_id, currency, key_hash, created_at) \
             VALUES (1, '{m1}', '{TERMINAL}', 'CNY', '{key_hash}', 1), \
             (2, '{m2}', '20000001', 'CNY', NULL, 1)"
        ),
        "INSERT INTO activation_codes VALUES ('c1', 1, 9999999999999, NULL), ('c2', 2, 1, 5)"
            .into(),
        format!("INSERT INTO operators VALUES ('{m1}', '01', 'x'), ('{m2}', '01', 'y')"),
        "INSERT INTO sessions VALUES ('s1', 1, '01', 1, 2, NULL, NULL), \
         ('s2', 2, '01', 1, 2, 3, 'sign_off')"
            .into(),
        "INSERT INTO batches (id, terminal_ref, batch_no, business_date, status, opened_at, \
         closed_at, terminal_totals, host_totals, settle_answer, upload_answer) VALUES \
         (1, 1, 1, '2026-01-01', 'settled', 1, 2, '{}', '{}', '{}', NULL), \
         (2, 1, 2, '2026-01-02', 'open', 3, NULL, NULL, NULL, NULL, NULL), \
         (3, 2, 1, '2026-01-01', 'open', 1, NULL, NULL, NULL, NULL, NULL)"
            .into(),
        format!(
            "INSERT INTO transactions (id, terminal_ref, merchant_id, batch_id, request_id, kind, \
             trace_no, amount, status, response_code, auth_code, rrn, masked_pan, original_id, \
             voided, refunded_amount, operator, created_at) VALUES \
             (1, 1, '{m1}', 2, '00000000-0000-4000-8000-0000000000e1', 'sale', 1, 1000, 'approved', '00', '123456', \
              '000000000001', '411111******1111', NULL, 0, 0, '01', {day_ago}), \
             (2, 1, '{m1}', 1, '00000000-0000-4000-8000-0000000000e2', 'sale', 2, 500, 'approved', '00', '234567', \
              '000000000002', '411111******1111', NULL, 0, 0, '01', {day_ago}), \
             (3, 2, '{m2}', 3, '00000000-0000-4000-8000-0000000000e3', 'sale', 1, 700, 'declined', '05', NULL, \
              '000000000003', '400000******0002', NULL, 0, 0, '01', {day_ago})"
        ),
        "INSERT INTO reversals VALUES (1, '00000000-0000-4000-8000-0000000000e9', 0, 5), (2, '00000000-0000-4000-8000-0000000000e8', 1, 5)".into(),
        "INSERT INTO answers VALUES (1, 'tx', '00000000-0000-4000-8000-0000000000e2', 'fp', 200, '{}', 5), \
         (2, 'tx', '00000000-0000-4000-8000-0000000000e3', 'fp', 200, '{}', 5)"
            .into(),
        "INSERT INTO operator_locks VALUES (1, '00', 2, 0), (2, '01', 3, 99)".into(),
        format!(
            "INSERT INTO host_secrets VALUES ('fingerprint_key', '{}')",
            "ab".repeat(32)
        ),
    ]
}

/// Every row of the old columns, as text, in a stable order.
async fn snapshot(conn: &mut AnyConnection) -> Vec<String> {
    let mut out = Vec::new();
    for (table, columns) in TABLES {
        let cast: Vec<String> = columns
            .split(", ")
            .map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')"))
            .collect();
        let sql = format!(
            "SELECT {} AS line FROM {table} ORDER BY 1",
            cast.join(" || '|' || ")
        );
        for row in sqlx::query(&sql).fetch_all(&mut *conn).await.unwrap() {
            out.push(format!("{table}: {}", row.get::<String, _>("line")));
        }
    }
    out
}

/// The database as migrations 0001–0004 left it, with rows in every table.
async fn old_database(db: &Db, day_ago: i64) -> AnyConnection {
    let (dialect, url) = match db.backend {
        Backend::Sqlite => ("sqlite", format!("{}?mode=rwc", db.url)),
        Backend::Postgres => ("postgres", db.url.clone()),
    };
    let old = db.dir.path().join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0005" {
            std::fs::copy(&path, old.join(name)).unwrap();
        }
    }
    let mut conn = AnyConnection::connect(&url).await.unwrap();
    if db.backend == Backend::Sqlite {
        // 0004 rebuilds tables, which SQLite allows only with foreign keys off (as the host runs it).
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
    assert_eq!(migrator.iter().count(), 4);
    migrator.run(&mut conn).await.unwrap();
    for sql in old_rows(day_ago) {
        sqlx::query(&sql).execute(&mut conn).await.unwrap();
    }
    if db.backend == Backend::Postgres {
        // Rows made by the host drew their ids from the sequences; these were written with ids.
        for (table, last) in [("terminals", 2), ("batches", 3), ("transactions", 3)] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})"
            ))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
    conn
}

#[test]
fn schema_0005_keeps_every_row_and_gives_it_its_merchant() {
    each_backend(|b| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        sqlx::any::install_default_drivers();
        let db = Db::new(b);
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap();
        let day_ago = now - 24 * 3600 * 1000;
        let before = rt.block_on(async {
            let mut conn = old_database(&db, day_ago).await;
            let rows = snapshot(&mut conn).await;
            conn.close().await.unwrap();
            rows
        });
        // The host migrates as it starts.
        let host = Host::start(&db, &[]);
        let (after, mismatched) = rt.block_on(async {
            let mut conn = AnyConnection::connect(&db.url).await.unwrap();
            let rows = snapshot(&mut conn).await;
            let mut mismatched = 0;
            for table in BY_TERMINAL {
                let row = sqlx::query(&format!(
                    "SELECT COUNT(*) AS n FROM {table} x LEFT JOIN terminals t \
                     ON t.id = x.terminal_ref AND t.merchant_id = x.merchant_id \
                     WHERE t.id IS NULL"
                ))
                .fetch_one(&mut conn)
                .await
                .unwrap();
                mismatched += row.get::<i64, _>("n");
            }
            conn.close().await.unwrap();
            (rows, mismatched)
        });
        assert_eq!(before, after, "{b:?}: every row as it was");
        assert_eq!(before.len(), 25, "{b:?}: {before:#?}");
        assert_eq!(
            mismatched, 0,
            "{b:?}: every row has its terminal's merchant"
        );

        // The terminal goes on: its key signs in, the sale of before is refunded by its RRN,
        // and a new sale's row id (and RRN) follows the old ones.
        db.add_operator(MERCHANT, "01", OPERATOR_PW);
        db.add_operator(MERCHANT, "00", SUPERVISOR_PW);
        let (st, s) = host.sign_in(OLD_KEY, "01", OPERATOR_PW);
        assert_eq!(st, 200, "{b:?}: {s}");
        assert_eq!(s["next_trace_no"], 3, "{s}");
        // Migration 0006 gives a terminal made before it the default threshold.
        assert_eq!(s["confirm_above"], 1_000_000, "{s}");
        let token = s["session_token"].as_str().unwrap();
        let refund = json!({"request_id": rid(), "kind": "refund", "trace_no": 3, "amount": 300,
            "currency": "CNY", "original": {"rrn": "000000000001"},
            "supervisor_password": SUPERVISOR_PW});
        let (st, r) = host.post("/v1/transactions", Some(token), &refund);
        assert_eq!(
            (st, r["rrn"].as_str()),
            (200, Some("000000000004")),
            "{b:?}: {r}"
        );
        let (st, sale) = host.post(
            "/v1/transactions",
            Some(token),
            &sale_body(&rid(), 4, 100, CARD),
        );
        assert_eq!(
            (st, sale["rrn"].as_str()),
            (200, Some("000000000005")),
            "{b:?}: {sale}"
        );
        let (_, cur) = host.get("/v1/batches/current", Some(token));
        assert_eq!(cur["batch_no"], 2, "{cur}");
        assert_eq!(
            sums(&cur["host_totals"]),
            totals(2, (2, 1100), (0, 0), (1, 300)),
            "{cur}"
        );
    });
}
