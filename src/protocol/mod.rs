//! The wire types of the host's HTTP API (docs/api.md), one definition for the
//! terminal and the host so the two sides cannot drift.
//!
//! Everything is JSON with snake_case names. Amounts are integers of the currency's minor
//! unit. Secrets (PAN, expiry, passwords, tokens) have a `Debug` that redacts them, so a
//! `tracing` line or a panic message can never carry one.
//!
//! Each shape is declared once, in a [`wire!`](shape) block: the serde type, the browser's
//! codec ([`codec`]) and the TypeScript of `pkg/softpos.d.ts` all come from that declaration.

mod answers;
mod checks;
pub mod codec;
mod journal;
mod requests;
pub mod shape;

pub use answers::*;
pub use checks::{check_reference, check_request_body, check_upload_path, BODY_ROUTES};
pub use journal::*;
pub use requests::*;
use std::fmt;

/// Every TypeScript declaration the wire shapes, the error codes and the terminal's results
/// put into `pkg/softpos.d.ts` (`tests/typescript.rs` looks for each there).
pub fn typescript() -> impl Iterator<Item = &'static str> {
    const OTHERS: &[&str] = &[
        shape::declaration!(OriginalRef),
        shape::declaration!(crate::error::ErrorCode),
    ];
    [
        journal::TYPESCRIPT,
        requests::TYPESCRIPT,
        answers::TYPESCRIPT,
        codec::TYPESCRIPT,
        OTHERS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardData { .. }")
    }
}

impl fmt::Debug for TransactionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionRequest")
            .field("request_id", &self.request_id)
            .field("kind", &self.kind)
            .field("trace_no", &self.trace_no)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("original", &self.original)
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}

macro_rules! redacted_debug {
    ($($ty:ident { $($shown:ident),* })*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    .finish_non_exhaustive()
            }
        }
    )*};
}

redacted_debug! {
    ActivateRequest { merchant_id, terminal_id }
    ActivateResponse {}
    SignInRequest { operator }
    LaneResponse { lane_id, origin }
    SignInResponse { operator, business_date, batch_no, next_trace_no, currency, closed_batches, confirm_above }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r4_debug_never_shows_card_or_password() {
        let req = TransactionRequest {
            request_id: crate::ids::RequestId::from_random([7; 16]),
            kind: TxKind::Sale,
            trace_no: crate::ids::TraceNo::FIRST,
            amount: 100,
            currency: "CNY".into(),
            card: Some(CardData {
                pan: "6212345678901232".into(),
                expiry: "12/30".into(),
            }),
            original: None,
            supervisor_password: Some("s3cret".into()),
            reference: None,
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("6212345678901232"), "{shown}");
        assert!(!shown.contains("12/30"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let sign_in = SignInRequest {
            operator: "01".into(),
            password: "pw123456".into(),
        };
        assert!(!format!("{sign_in:?}").contains("pw123456"));
    }

    #[test]
    fn r23_a_reference_is_1_to_64_characters_safe_in_a_url() {
        for good in [
            "a",
            "order-1042",
            "shop.example:2026/11#7_x",
            &"R".repeat(64),
        ] {
            assert_eq!(check_reference(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "order 1042",
            "订单1",
            "a?b=c",
            "a&b",
            "a\0",
            &"R".repeat(65),
        ] {
            let e = check_reference(bad).unwrap_err();
            assert_eq!(e.code, crate::error::ErrorCode::BadRequest, "{bad:?}");
            assert!(bad.is_empty() || !e.message.contains(bad), "{}", e.message);
        }
    }

    #[test]
    fn original_ref_is_either_form() {
        let t: OriginalRef = serde_json::from_str(r#"{"trace_no": 7}"#).unwrap();
        assert_eq!(
            t,
            OriginalRef::Trace {
                trace_no: crate::ids::TraceNo::try_from(7u32).unwrap()
            }
        );
        let r: OriginalRef = serde_json::from_str(r#"{"rrn": "000000000001"}"#).unwrap();
        assert_eq!(
            r,
            OriginalRef::Rrn {
                rrn: "000000000001".into()
            }
        );
        // R20: a pre-auth void or a completion names the hold by RRN and auth code.
        let h: OriginalRef =
            serde_json::from_str(r#"{"rrn": "000000000001", "auth_code": "123456"}"#).unwrap();
        assert_eq!(
            h,
            OriginalRef::Hold {
                rrn: "000000000001".into(),
                auth_code: "123456".into()
            }
        );
    }

    #[test]
    fn r7_a_sales_query_is_an_rrn_a_trace_number_or_the_last_4() {
        assert_eq!(SaleQuery::parse(""), Ok(SaleQuery::Newest));
        assert_eq!(
            SaleQuery::parse("000000000042"),
            Ok(SaleQuery::Rrn("000000000042".into()))
        );
        assert_eq!(
            SaleQuery::parse("0042"),
            Ok(SaleQuery::Digits {
                trace_no: 42,
                last4: Some("0042".into())
            })
        );
        assert_eq!(
            SaleQuery::parse("123456"),
            Ok(SaleQuery::Digits {
                trace_no: 123_456,
                last4: None
            })
        );
        for bad in [
            "1234567",
            "12345678901",
            "4111111111111111",
            " 12",
            "12a",
            "１２",
        ] {
            let e = SaleQuery::parse(bad).unwrap_err();
            assert_eq!(e.code, crate::error::ErrorCode::BadRequest, "{bad:?}");
            assert!(!e.message.contains(bad), "{}", e.message);
        }
    }

    /// `as_str` reads a variant's name by its place; serde names it by its attribute.
    #[test]
    fn every_wire_enum_names_its_variants_as_serde_does() {
        fn same<T: serde::Serialize>(v: T, name: &str) {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{name}\""));
        }
        for v in [
            BatchStatus::Open,
            BatchStatus::AwaitingUpload,
            BatchStatus::Settled,
        ] {
            same(v, v.as_str());
        }
        same(
            BatchStatus::ClosedByHost,
            BatchStatus::ClosedByHost.as_str(),
        );
        for v in [
            TxKind::Sale,
            TxKind::Void,
            TxKind::Refund,
            TxKind::Preauth,
            TxKind::PreauthVoid,
            TxKind::Completion,
            TxKind::CompletionVoid,
        ] {
            same(v, v.as_str());
        }
        for v in [
            EntryStatus::Approved,
            EntryStatus::Unknown,
            EntryStatus::Voided,
        ] {
            same(v, v.as_str());
        }
        for v in [
            DiscrepancyKind::MissingOnHost,
            DiscrepancyKind::StatusMismatch,
        ] {
            same(v, v.as_str());
        }
    }
}
