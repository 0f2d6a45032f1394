//! The OpenAPI document served at `/v1/openapi.json`: derived from the wire types and the
//! handlers' annotations in [`crate::api`], with one schema per kind of transaction added by
//! hand. docs/api.md is rendered from it (host/tests/api_doc.rs keeps the two equal).

use crate::{api, api_console, api_history, checkout, merchant};
use utoipa::OpenApi;

/// Declares the bearer credential: the terminal key for sign-in, the session token after.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    modifiers(&BearerAuth),
    info(
        title = "softpos reference acquirer host",
        description = "The HTTP API of the softpos reference host (docs/api.md)"
    ),
    paths(
        api::activate,
        api::sign_in,
        api::transactions,
        api::reversals,
        api::current_batch,
        api_history::sales,
        api::settlements,
        api_history::settlement_history,
        api::upload,
        api::sign_off,
        checkout::checkout_terminal,
        checkout::lanes,
        checkout::sign_in,
        api::healthz,
        api_console::console_sign_in,
        api_console::console_terminals,
        api_console::console_sign_off,
        api_console::console_settlements,
        api_console::console_daily,
        api_console::console_hourly,
        merchant::http::payments
    )
)]
struct ApiDoc;

/// The answer to `POST /v1/settlements/{batch_no}/upload` (R11): the upload's, or, to a chunk
/// that does not end the journal (and to one that does not start where the host's part ends),
/// how much of the journal the host holds.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum UploadAnswer {
    /// The upload's answer, to the body that ends the journal.
    Done(softpos::protocol::UploadResponse),
    /// How far the host holds the journal: the next chunk's `from`.
    Progress(softpos::protocol::UploadProgress),
}

/// The OpenAPI document, generated from the wire types.
pub fn openapi_json() -> String {
    let Ok(mut doc) = serde_json::to_value(ApiDoc::openapi()) else {
        return "{}".to_owned();
    };
    transaction_per_kind(&mut doc);
    doc.to_string()
}

/// The variant of the derived `OriginalRef` whose properties are exactly `names`.
fn original(doc_original: Option<&serde_json::Value>, names: &[&str]) -> serde_json::Value {
    use serde_json::{json, Value};
    let exactly = |v: &&Value| {
        v.get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| p.len() == names.len() && names.iter().all(|n| p.contains_key(*n)))
    };
    doc_original
        .and_then(|o| o.get("oneOf"))
        .and_then(Value::as_array)
        .and_then(|variants| variants.iter().find(exactly))
        .cloned()
        .unwrap_or_else(|| json!({"type": "object", "required": names}))
}

/// The derived `TransactionRequest` leaves `card`, `original` and `supervisor_password`
/// optional whatever the kind, but the host requires them by kind (`TransactionRequest::check`):
/// a sale a card, a void `original.trace_no` and a refund `original.rrn`, both with the
/// supervisor's password; R20's pre-authorisation a card, a completion a card and
/// `original.{rrn, auth_code}`, a pre-auth void the same original and a completion void
/// `original.trace_no`, both with the supervisor's password. One schema per kind says so, so
/// that clients (and schemathesis) send what the host takes instead of sales without cards.
fn transaction_per_kind(doc: &mut serde_json::Value) {
    use serde_json::{json, Value};
    let Some(base) = doc
        .pointer("/components/schemas/TransactionRequest")
        .cloned()
    else {
        return;
    };
    let refs = doc.pointer("/components/schemas/OriginalRef").cloned();
    let variant = |kind: &str, required: &[&str], fields: Value| -> Value {
        let mut v = base.clone();
        if let Some(props) = v.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert("kind".into(), json!({"type": "string", "enum": [kind]}));
            if let Some(fields) = fields.as_object() {
                for (k, f) in fields {
                    props.insert(k.clone(), f.clone());
                }
            }
        }
        if let Some(req) = v.get_mut("required").and_then(Value::as_array_mut) {
            req.extend(required.iter().map(|r| json!(r)));
        }
        v
    };
    let password = json!({"type": "string", "minLength": 1});
    let card = json!({"$ref": "#/components/schemas/CardData"});
    let by_trace = original(refs.as_ref(), &["trace_no"]);
    let by_hold = original(refs.as_ref(), &["rrn", "auth_code"]);
    let supervised = ["original", "supervisor_password"];
    let one_of = json!([
        variant("sale", &["card"], json!({ "card": card })),
        variant(
            "void",
            &supervised,
            json!({"original": by_trace, "supervisor_password": password}),
        ),
        variant(
            "refund",
            &supervised,
            json!({"original": original(refs.as_ref(), &["rrn"]), "supervisor_password": password}),
        ),
        variant("preauth", &["card"], json!({ "card": card })),
        variant(
            "preauth_void",
            &supervised,
            json!({"original": by_hold, "supervisor_password": password}),
        ),
        variant(
            "completion",
            &["card", "original"],
            json!({"card": card, "original": by_hold}),
        ),
        variant(
            "completion_void",
            &supervised,
            json!({"original": by_trace, "supervisor_password": password}),
        ),
    ]);
    if let Some(slot) = doc.pointer_mut("/components/schemas/TransactionRequest") {
        *slot = json!({"description": base.get("description"), "oneOf": one_of});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_names_every_route() {
        let doc = openapi_json();
        for path in [
            "/v1/activate",
            "/v1/transactions",
            "/v1/settlements/{batch_no}/upload",
        ] {
            assert!(doc.contains(path), "{path}");
        }
        assert!(doc.contains("TransactionRequest"));
        assert!(doc.contains("\"bearer\""));
    }

    #[test]
    fn openapi_says_what_each_kind_of_transaction_needs() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).expect("JSON");
        let kinds = doc
            .pointer("/components/schemas/TransactionRequest/oneOf")
            .and_then(|v| v.as_array())
            .expect("one schema per kind");
        let needs = |kind: &str| -> Vec<String> {
            let v = kinds
                .iter()
                .find(|v| v.pointer("/properties/kind/enum/0") == Some(&kind.into()))
                .expect(kind);
            serde_json::from_value(v["required"].clone()).expect("required")
        };
        assert!(needs("sale").contains(&"card".to_owned()));
        assert!(needs("preauth").contains(&"card".to_owned()));
        assert!(needs("completion").contains(&"card".to_owned()));
        assert!(!needs("completion").contains(&"supervisor_password".to_owned()));
        for kind in ["void", "refund", "preauth_void", "completion_void"] {
            assert!(needs(kind).contains(&"original".to_owned()), "{kind}");
            assert!(
                needs(kind).contains(&"supervisor_password".to_owned()),
                "{kind}"
            );
        }
        // The ranges of the host's checks are in the schema.
        let amount = &kinds[0]["properties"]["amount"];
        assert_eq!(amount["minimum"], 1);
        assert_eq!(amount["maximum"], 99_999_999_999i64);
    }

    #[test]
    fn r22_openapi_documents_the_console_routes_and_their_csv() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).expect("JSON");
        for path in [
            "/v1/console/sign-in",
            "/v1/console/terminals",
            "/v1/console/terminals/{terminal_id}/sign-off",
            "/v1/console/settlements",
            "/v1/console/daily",
            "/v1/console/hourly",
        ] {
            let route = path.replace('~', "~0").replace('/', "~1");
            assert!(doc.pointer(&format!("/paths/{route}")).is_some(), "{path}");
        }
        let ok = doc
            .pointer("/paths/~1v1~1console~1settlements/get/responses/200/content")
            .expect("content");
        assert!(ok.get("application/json").is_some(), "{ok}");
        assert!(ok.get("text/csv").is_some(), "{ok}");
    }

    #[test]
    fn r7_openapi_documents_the_sales_query_the_host_takes() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).expect("JSON");
        let q = doc
            .pointer("/paths/~1v1~1sales/get/parameters/0")
            .expect("q");
        assert_eq!(q["name"], "q");
        assert_eq!(q["in"], "query");
        assert_eq!(
            q["schema"]["pattern"],
            softpos::protocol::SALE_QUERY_PATTERN
        );
    }

    #[test]
    fn r8_openapi_documents_the_answer_a_reversal_leaves_standing() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_json()).expect("JSON");
        let rev = doc
            .pointer("/components/schemas/ReversalResponse")
            .expect("ReversalResponse");
        let required: Vec<String> =
            serde_json::from_value(rev["required"].clone()).expect("required");
        assert!(required.contains(&"reversed".to_owned()));
        assert!(
            !required.contains(&"transaction".to_owned()),
            "optional: older hosts leave it out"
        );
        let field = rev.pointer("/properties/transaction").expect("documented");
        assert!(
            field
                .to_string()
                .contains("#/components/schemas/TransactionResponse"),
            "{field}"
        );
    }
}
