//! What the terminal sends: the bodies of the host's `POST` routes.

use crate::ids::{BatchNo, RequestId, TraceNo};
use crate::protocol::codec::{field, Decode, Encode, Unreadable, Value};
use crate::protocol::shape::{wire, Declared, Ts, TsRef};
use crate::protocol::{BatchTotals, JournalEntry, TxKind};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

wire! {
    /// `POST /v1/activate`.
    #[derive(Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct ActivateRequest {
        /// 15-digit merchant id.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^[0-9]{15}$", example = "898310048160001")
        )]
        pub merchant_id: String,
        /// 8-character terminal id.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^[0-9A-Za-z]{8}$", example = "10000001")
        )]
        pub terminal_id: String,
        /// The single-use code printed by `softpos-host terminal add`.
        #[cfg_attr(feature = "openapi", schema(min_length = 1))]
        pub activation_code: String,
    }

    /// `POST /v1/sign-in`, authorised with the terminal key.
    #[derive(Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct SignInRequest {
        /// `"01"`..`"99"`, or `"00"` for the supervisor.
        #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9]{2}$", example = "01"))]
        pub operator: String,
        /// The operator's password.
        #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1))]
        pub password: Secret,
    }

    /// Card data as keyed in. Only ever in flight: never stored, never logged.
    #[derive(Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct CardData {
        /// The full card number, digits only (13 to 19, passing the Luhn check).
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^[0-9]{13,19}$", example = "4111111111111111")
        )]
        pub pan: String,
        /// `MM/YY`, not in the past.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^(0[1-9]|1[0-2])/[0-9]{2}$", example = "12/30")
        )]
        pub expiry: String,
    }

    /// `POST /v1/transactions`.
    #[derive(Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct TransactionRequest {
        /// UUID v4, persisted by the terminal before sending (R9, R18).
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = String,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: RequestId,
        /// Sale, void, refund, or R20's preauth, preauth_void, completion, completion_void.
        pub kind: TxKind,
        /// The terminal's trace number for this transaction.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub trace_no: TraceNo,
        /// Minor units (R3).
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99_999_999_999_i64))]
        pub amount: i64,
        /// ISO 4217 code; must be the terminal's.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^(CNY|HKD|USD|EUR|GBP|JPY|KRW|KWD)$", example = "CNY")
        )]
        pub currency: String;
        /// For a sale, a pre-authorisation and a completion.
        pub card: Option<CardData>,
        /// For a void, refund, pre-auth void, completion or completion void.
        pub original: Option<OriginalRef>,
        /// For a void, refund, pre-auth void or completion void.
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, min_length = 1))]
        pub supervisor_password: Option<Secret>,
        /// The storefront's order reference (R23): stored with the transaction and echoed in
        /// its answer, so the shop's backend can find the payment by it.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^[A-Za-z0-9._:/#-]{1,64}$", example = "order-1042")
        )]
        pub reference: Option<String>,
    }

    /// `POST /v1/reversals`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct ReversalRequest {
        /// The request id of the transaction to reverse.
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = String,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: RequestId,
    }

    /// `POST /v1/settlements`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct SettlementRequest {
        /// UUID v4 (R9): a retried settlement answers what the first one did.
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = String,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: RequestId,
        /// The batch to settle.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// What the terminal counted.
        pub terminal_totals: BatchTotals,
    }

    /// `POST /v1/settlements/{batch_no}/upload`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct UploadRequest {
        /// UUID v4 (R9).
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = String,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: RequestId,
        /// The batch journal, oldest first, with hashes: the whole of it, or one chunk of it
        /// (R11: `from` and `more`).
        pub entries: Vec<JournalEntry>;
        /// Where in the journal this chunk's first entry is (0-based). Absent: 0.
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000))]
        pub from: Option<u32>,
        /// More chunks follow this one. Absent: `false`, this chunk ends the journal; a body
        /// without `from` and `more` is the whole journal.
        pub more: Option<bool>,
    }

    /// `POST /v1/checkout/lanes` (R23): a lane of this checkout terminal for one customer
    /// browser.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct LaneRequest {
        /// 15-digit merchant id.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^[0-9]{15}$", example = "898310048160001")
        )]
        pub merchant_id: String,
        /// The checkout terminal's id.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^[0-9A-Za-z]{8}$", example = "20000001")
        )]
        pub terminal_id: String,
    }

    /// `POST /v1/sign-off`.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    #[serde(deny_unknown_fields)]
    pub struct SignOffRequest {
        ;
        /// UUID v4 (R9).
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = Option<String>,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: Option<RequestId>,
        /// `false`: the batch stays open until cut-off. `true`: the host refuses while the open
        /// batch has unsettled transactions (the terminal settles first).
        pub settle: Option<bool>,
    }
}

/// `POST /v1/checkout/sign-in` (R23), authorised with a lane's terminal key: `{}`, no operator
/// and no password. Outside `wire!`, whose struct reader needs a field.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckoutSignInRequest {}

/// Any object (an unknown key is the host's to refuse).
impl Decode for CheckoutSignInRequest {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        if v.is_object() {
            Ok(CheckoutSignInRequest {})
        } else {
            Err(crate::protocol::codec::BAD)
        }
    }
    fn stand_in() -> Self {
        CheckoutSignInRequest {}
    }
}
impl Encode for CheckoutSignInRequest {
    fn encode<V: Value>(&self) -> V {
        V::object()
    }
}

// Untagged, so outside `wire!`: its codec and TypeScript are written here, next to it, and
// tests/codec.rs holds them to serde's.
/// The transaction a void or refund refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum OriginalRef {
    /// A void names the sale by its trace number in the open batch.
    Trace {
        /// The sale's trace number.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        trace_no: TraceNo,
    },
    /// A pre-auth void or a completion names the hold by its RRN and auth code (R20).
    Hold {
        /// The pre-authorisation's RRN.
        #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9A-Za-z]{12}$"))]
        rrn: String,
        /// The pre-authorisation's auth code.
        #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9A-Za-z]{6}$"))]
        auth_code: String,
    },
    /// A refund names the sale by its RRN.
    Rrn {
        /// The sale's RRN.
        #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9A-Za-z]{12}$"))]
        rrn: String,
    },
}

/// Untagged: `{trace_no}` for a void, `{rrn, auth_code}` for a pre-auth void or a
/// completion, `{rrn}` for a refund.
impl Decode for OriginalRef {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        if let Ok(trace_no) = field(v, "trace_no") {
            return Ok(OriginalRef::Trace { trace_no });
        }
        let rrn = field(v, "rrn")?;
        Ok(match field(v, "auth_code") {
            Ok(auth_code) => OriginalRef::Hold { rrn, auth_code },
            Err(_) => OriginalRef::Rrn { rrn },
        })
    }
    fn stand_in() -> Self {
        OriginalRef::Trace {
            trace_no: TraceNo::FIRST,
        }
    }
}
impl Encode for OriginalRef {
    fn encode<V: Value>(&self) -> V {
        let mut o = V::object();
        match self {
            OriginalRef::Trace { trace_no } => o.set("trace_no", trace_no.encode()),
            OriginalRef::Hold { rrn, auth_code } => {
                o.set("rrn", rrn.encode());
                o.set("auth_code", auth_code.encode());
            }
            OriginalRef::Rrn { rrn } => o.set("rrn", rrn.encode()),
        }
        o
    }
}
impl TsRef for OriginalRef {
    const TS: Ts = Ts::new().push("OriginalRef");
}
impl Declared for OriginalRef {
    const DECLARATION: Ts =
        Ts::new().push("export type OriginalRef = { traceNo: number } | { rrn: string; authCode: string } | { rrn: string };");
}
crate::protocol::shape::typescript_section!(OriginalRef);

/// What `GET /v1/sales?q=` looks for (R7): the search box's text, read the same way by the
/// host and by the terminal, so that the terminal refuses what the host would before
/// anything is sent (a card number typed into the box never leaves in a URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaleQuery {
    /// Empty: the newest sales.
    Newest,
    /// 12 digits: the sale with this RRN.
    Rrn(String),
    /// 1 to 6 digits: the sales with this trace number; 4 digits also match the card's last 4.
    Digits {
        /// The digits as a number (`"0042"` is trace 42).
        trace_no: u32,
        /// The digits themselves when there are 4 of them.
        last4: Option<String>,
    },
    /// The sales of exactly this amount, minor units (`amount=`, R21's query).
    Amount(i64),
}

/// The JSON Schema pattern of `q`: what [`SaleQuery::parse`] takes.
pub const SALE_QUERY_PATTERN: &str = "^([0-9]{1,6}|[0-9]{12})?$";

impl SaleQuery {
    /// Reads `q`; anything but ASCII digits of length 0, 1 to 6 or 12 is `BAD_REQUEST`. The
    /// message never repeats `q`: it may be a card number.
    pub fn parse(q: &str) -> Result<SaleQuery, crate::error::Error> {
        let refused = || {
            crate::error::Error::with_detail(
                crate::error::ErrorCode::BadRequest,
                "search by an RRN (12 digits), a trace number (1 to 6 digits) \
                 or the card's last 4 digits",
            )
        };
        if !q.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refused());
        }
        match q.len() {
            0 => Ok(SaleQuery::Newest),
            12 => Ok(SaleQuery::Rrn(q.to_owned())),
            1..=6 => Ok(SaleQuery::Digits {
                trace_no: q.parse().map_err(|_| refused())?,
                last4: (q.len() == 4).then(|| q.to_owned()),
            }),
            _ => Err(refused()),
        }
    }
}
