//! JSON bodies whose rejections speak the contract and repeat nothing the client sent.
//!
//! serde's messages quote the offending value (``invalid type: integer `4111111111111111` ``,
//! ``unknown variant `hunter22` ``), and that value may be a card number or a password. A
//! parse error is answered with the field's path and the type expected there, never the
//! value, in any quoting (docs/host-limits.md).

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_path_to_error::Segment;

/// A JSON body: 415 for another content type, 413 over the size limit, 422 `BAD_REQUEST`
/// for anything malformed or unknown.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(
                ApiError::bad_request("send Content-Type: application/json").with_status(415)
            );
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::bad_request("the body is too large").with_status(413)
            } else {
                ApiError::bad_request("the body could not be read")
            }
        })?;
        parse(&bytes).map(ApiJson).map_err(ApiError::bad_request)
    }
}

/// `application/json`, with parameters or without, or any `application/…+json`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a whole body; the error is the message to answer.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| describe(&e))?;
    de.end().map_err(|e| not_json(&e))?;
    Ok(value)
}

fn not_json(e: &serde_json::Error) -> String {
    format!(
        "the body is not valid JSON (line {}, column {})",
        e.line(),
        e.column()
    )
}

/// A name the client sent (an object key, a variant) is shown only when it looks like one of
/// ours: lowercase letters and underscores. Anything else could be a value sent as a key.
fn plain_name(name: &str) -> Option<&str> {
    (!name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    .then_some(name)
}

/// `card.pan`, `entries[3].kind`; `?` for a key that is not a plain name.
fn path_of(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(plain_name(key).unwrap_or("?"));
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// The message of a failed parse: where, and what was expected there.
fn describe(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let inner = e.inner();
    if inner.classify() != Category::Data {
        return not_json(inner);
    }
    // serde_json appends the position; the message proper is what precedes it.
    let full = inner.to_string();
    let message = full
        .rfind(" at line ")
        .map_or(full.as_str(), |at| &full[..at]);
    let field = path_of(e.path());
    let here = if field.is_empty() {
        "the body".to_owned()
    } else {
        field
    };
    // A named field the type declares (serde quotes them with backticks): safe to repeat.
    let declared = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('`'))
            .and_then(|rest| rest.split('`').next())
            .and_then(plain_name)
    };
    if message.starts_with("unknown field ") {
        return match declared("unknown field ") {
            Some(name) => format!("{here}: unknown field `{name}`"),
            None => format!("{here}: an unknown field"),
        };
    }
    for (prefix, what) in [
        ("missing field ", "missing field"),
        ("duplicate field ", "duplicate field"),
    ] {
        if let Some(name) = declared(prefix) {
            return format!("{here}: {what} `{name}`");
        }
    }
    // serde's own messages end with `expected …`, written by the type, never by the client;
    // the value, when quoted, comes before it.
    match message.rfind(", expected ") {
        Some(at) => format!("{here}: expected {}", &message[at + ", expected ".len()..]),
        // An id's own refusal (softpos::ids): our text, naming the kind of id, never the value.
        None if softpos::ids::is_refusal(message) => format!("{here}: {message}"),
        None if message.starts_with("data did not match any variant") => {
            format!("{here}: not one of the shapes it takes")
        }
        None => format!("{here}: not accepted here"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use softpos::protocol::{SignInRequest, TransactionRequest};

    fn error_of<T: DeserializeOwned>(body: &str) -> String {
        match parse::<T>(body.as_bytes()) {
            Ok(_) => panic!("{body} parsed"),
            Err(message) => message,
        }
    }

    #[test]
    fn r17_only_json_content_types_are_taken() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, value.parse().expect("a header value"));
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/problem+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/jsonx"));
        assert!(!with("text/x+json"));
        assert!(!is_json(&HeaderMap::new()), "no content type");
    }

    #[test]
    fn r4_parse_errors_name_the_field_and_the_type_never_the_value() {
        let m = error_of::<SignInRequest>(r#"{"operator":"01","password":4111111111111111}"#);
        assert_eq!(m, "password: expected a string");
        let m = error_of::<SignInRequest>(r#"{"operator":"01","password":"x","hunter22":1}"#);
        assert!(!m.contains("hunter22"), "{m}");
        let m = error_of::<SignInRequest>(r#"{"operator":"01","password":"x","colour":1}"#);
        assert!(m.contains("`colour`"), "{m}");
        let m = error_of::<SignInRequest>(r#"{"operator":"01"}"#);
        assert!(m.contains("missing field `password`"), "{m}");
        let m = error_of::<TransactionRequest>(r#"{"kind":"hunter22"}"#);
        assert!(
            m.starts_with("kind: expected one of") && !m.contains("hunter22"),
            "{m}"
        );
        let m = error_of::<TransactionRequest>(r#"{"original":{"trace":"4412"}}"#);
        assert_eq!(m, "original: not one of the shapes it takes");
        let m = error_of::<TransactionRequest>(r#"{"kind":"sale","amount":'4412'}"#);
        assert!(m.starts_with("the body is not valid JSON"), "{m}");
        assert!(!m.contains("4412"), "{m}");
    }
}
