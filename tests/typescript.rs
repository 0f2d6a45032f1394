//! The TypeScript of every wire shape, error code and result comes from its one declaration
//! (src/protocol/shape.rs) and must reach `pkg/softpos.d.ts`, the types storefronts compile
//! against. The package is built by `scripts/build-pkg.sh`; without it the last test says so
//! and checks nothing (set `SOFTPOS_REQUIRE_PKG=1` to make that a failure).

use std::collections::HashSet;

#[test]
fn every_declaration_names_one_type_once() {
    let mut names = HashSet::new();
    for decl in softpos::protocol::typescript() {
        let name = decl
            .strip_prefix("export interface ")
            .or_else(|| decl.strip_prefix("export type "))
            .and_then(|rest| rest.split([' ', '=']).next())
            .unwrap_or_else(|| panic!("not a declaration: {decl}"));
        assert!(names.insert(name), "{name} declared twice");
        assert!(decl.ends_with('}') || decl.ends_with(';'), "{decl}");
    }
    for name in [
        "ErrorCode",
        "JournalEntry",
        "TxResult",
        "SignInResponse",
        "OriginalRef",
    ] {
        assert!(names.contains(name), "{name} has no declaration");
    }
}

#[test]
fn keys_are_camel_case_and_optional_fields_are_marked() {
    let decls: Vec<&str> = softpos::protocol::typescript().collect();
    assert!(decls.contains(&"export interface Totals { count: number; amount: number; }"));
    assert!(decls.contains(
        &"export type TxKind = \"sale\" | \"void\" | \"refund\" | \"preauth\" | \"preauth_void\" | \"completion\" | \"completion_void\";"
    ));
    assert!(decls.contains(
        &"export type OriginalRef = { traceNo: number } | { rrn: string; authCode: string } | { rrn: string };"
    ));
    let sign_in = decls
        .iter()
        .find(|d| d.starts_with("export interface SignInResponse "))
        .expect("SignInResponse");
    assert!(
        sign_in.contains(" closedBatches: ClosedBatch[];"),
        "{sign_in}"
    );
    assert!(sign_in.contains(" timezone?: string | null;"), "{sign_in}");
    assert!(sign_in.contains(" confirmAbove: number;"), "{sign_in}");
    let codes = decls
        .iter()
        .find(|d| d.starts_with("export type ErrorCode "))
        .expect("ErrorCode");
    for code in softpos::ErrorCode::ALL {
        assert!(codes.contains(&format!("\"{}\"", code.as_str())), "{code}");
    }
}

#[test]
fn every_declaration_is_in_the_built_package() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg/softpos.d.ts");
    let Ok(dts) = std::fs::read_to_string(path) else {
        assert!(
            std::env::var_os("SOFTPOS_REQUIRE_PKG").is_none(),
            "{path} is missing: run scripts/build-pkg.sh"
        );
        eprintln!("{path} not built (scripts/build-pkg.sh): nothing to check");
        return;
    };
    for decl in softpos::protocol::typescript() {
        assert!(dts.contains(decl), "missing from softpos.d.ts: {decl}");
    }
    // R20's methods, named as the contract names them, with their request types.
    for method in [
        "preAuth(req: PreAuthRequest): Promise<TxResult>;",
        "preAuthVoid(req: PreAuthVoidRequest): Promise<TxResult>;",
        "complete(req: CompletionRequest): Promise<TxResult>;",
        "completionVoid(req: CompletionVoidRequest): Promise<TxResult>;",
        "export type PreAuthVoidRequest = { rrn: string; authCode: string; amount: number; supervisorPassword: string };",
    ] {
        assert!(dts.contains(method), "missing from softpos.d.ts: {method}");
    }
    // The terminal's getters that are not wire shapes: a number, never a BigInt (i64).
    assert!(
        dts.contains("readonly confirmAbove: number;"),
        "the Terminal's confirmAbove getter"
    );
}

/// R21: the slips' and reports' API, as storefronts and counters compile against it.
#[test]
fn r21_slip_and_history_api_is_declared() {
    let decls: Vec<&str> = softpos::protocol::typescript().collect();
    for name in ["export interface Slip ", "export interface SettledBatch "] {
        assert!(decls.iter().any(|d| d.starts_with(name)), "{name}");
    }
    let sign_in = decls
        .iter()
        .find(|d| d.starts_with("export interface SignInResponse "))
        .expect("SignInResponse");
    assert!(
        sign_in.contains(" merchantName?: string | null;"),
        "{sign_in}"
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg/softpos.d.ts");
    let Ok(dts) = std::fs::read_to_string(path) else {
        assert!(std::env::var_os("SOFTPOS_REQUIRE_PKG").is_none(), "{path}");
        return;
    };
    for method in [
        "slip(trace_no?: number | null): Slip | null;",
        "settledBatches(): SettlementResult[];",
        "settlementHistory(since?: string | null): Promise<SettledBatch[]>;",
        "readonly merchantName: string | undefined;",
        "paper?: \"58mm\" | \"80mm\" | \"a4\"",
    ] {
        assert!(dts.contains(method), "softpos.d.ts lacks {method}");
    }
}
