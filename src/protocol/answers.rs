//! What the host answers: the 2xx bodies of its routes and the body of every 4xx and 5xx.

use crate::error::ErrorCode;
use crate::ids::{BatchNo, RequestId, TraceNo};
use crate::protocol::shape::wire;
use crate::protocol::{AcquirerVerdict, BatchStatus, BatchTotals, Discrepancy, Outcome, TxStatus};
use crate::terminal::money::ConfirmAbove;

wire! {
    /// Answer to `POST /v1/activate`.
    #[derive(Clone, PartialEq, Eq)]
    pub struct ActivateResponse {
        /// The terminal's long-lived credential for `POST /v1/sign-in`.
        pub terminal_key: String,
    }

    /// A batch the host closed at cut-off since the terminal last settled (R14, R15).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ClosedBatch {
        /// The batch number.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// Its business date, `YYYY-MM-DD`.
        pub business_date: String,
        /// What the host counted in it.
        pub host_totals: BatchTotals,
    }

    /// Answer to `POST /v1/sign-in`.
    #[derive(Clone, PartialEq, Eq)]
    pub struct SignInResponse {
        /// Bearer token for every session call; never persisted by the terminal.
        pub session_token: String,
        /// When the session ends at the latest (RFC 3339).
        pub expires_at: String,
        /// The operator signed in.
        pub operator: String,
        /// The host's business date, `YYYY-MM-DD`.
        pub business_date: String,
        /// The terminal's open batch on the host.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// The next trace number the host expects from this terminal.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub next_trace_no: TraceNo,
        /// The terminal's currency (ISO 4217).
        pub currency: String,
        /// Batches the host closed at cut-off since the last settlement.
        pub closed_batches: Vec<ClosedBatch>,
        /// Minor units above which the cashier confirms a sale, shown with the amount in
        /// words, before it is sent; set per terminal (`terminal add --confirm-above`).
        /// Absent from older hosts: then 1000000 (¥10 000.00).
        #[serde(default)]
        #[cfg_attr(
            feature = "openapi",
            schema(value_type = i64, minimum = 1, maximum = 99_999_999_999.0, example = 1_000_000)
        )]
        pub confirm_above: ConfirmAbove;
        /// The host's time zone (IANA name, `Asia/Shanghai`), where its business day runs.
        /// Absent from hosts before it was added.
        #[cfg_attr(feature = "openapi", schema(example = "Asia/Shanghai"))]
        pub timezone: Option<String>,
        /// That zone's offset from UTC now, in minutes east (`480` for UTC+8): every date the
        /// terminal shows or compares is on this clock (R4, R14, R21). Absent from older hosts.
        #[cfg_attr(feature = "openapi", schema(minimum = -1080, maximum = 1080, example = 480))]
        pub utc_offset_minutes: Option<i32>,
        /// The merchant's name as its slips print it (R21; `terminal add --merchant-name`).
        /// Absent when none was given, and from older hosts.
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40, example = "示例茶叶店"))]
        pub merchant_name: Option<String>,
    }

    /// Answer to `POST /v1/transactions`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TransactionResponse {
        /// Echo of the request's id.
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = String,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: RequestId,
        /// Approved or declined.
        pub status: TxStatus,
        /// ISO 8583 response code, `00` when approved.
        pub response_code: String,
        /// The response code's meaning.
        pub message: String,
        /// Retrieval reference number, unique per merchant.
        pub rrn: Option<String>,
        /// Issuer's authorisation code when approved.
        pub auth_code: Option<String>,
        /// The batch the host booked it in.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// Echo of the trace number.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub trace_no: TraceNo,
        /// First 6 and last 4 digits of the card.
        pub masked_pan: Option<String>,
        /// The host's clock (RFC 3339).
        pub host_time: String,
        /// The storefront's order reference sent with the transaction (R23); null when none.
        pub reference: Option<String>,
    }

    /// Answer to `POST /v1/reversals`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ReversalResponse {
        /// Echo.
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = String,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: RequestId,
        /// `true`: the transaction is undone. `false`: nothing was undone, either because the host
        /// never saw the transaction, or because it stands (see `transaction`).
        pub reversed: bool;
        /// When `reversed` is `false` and the host booked the transaction: its answer, which
        /// stands (R8: a transaction with an approved void or refund is not reversed; its batch
        /// may also be settled already). The terminal journals and counts it as this answer says.
        /// Absent from hosts that predate it.
        pub transaction: Option<TransactionResponse>,
    }

    /// Answer to `GET /v1/batches/current`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CurrentBatchResponse {
        /// The open batch.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// Its business date.
        pub business_date: String,
        /// Its state.
        pub status: BatchStatus,
        /// What the host counted in it.
        pub host_totals: BatchTotals,
    }

    /// A sale a refund may name (R7), as `GET /v1/sales` finds it: approved, of the
    /// session's merchant, from any of its terminals and batches of the last 30 days.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SaleFound {
        /// Its retrieval reference number: what a refund names.
        #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9]{12}$"))]
        pub rrn: String,
        /// Its trace number on its terminal.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub trace_no: TraceNo,
        /// The batch it was booked in.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// The terminal that made it.
        pub terminal_id: String,
        /// First 6 and last 4 digits of the card.
        pub masked_pan: String,
        /// Minor units.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99_999_999_999_i64))]
        pub amount: i64,
        /// ISO 4217 code.
        pub currency: String,
        /// What is left to refund, minor units: the amount less the refunds so far; 0 when it
        /// was refunded in full or voided.
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 99_999_999_999_i64))]
        pub refundable: i64,
        /// When the host booked it (RFC 3339).
        pub at: String,
        /// Voided: it cannot be refunded (R6, R7).
        pub voided: bool,
    }

    /// Answer to `GET /v1/sales`: newest first, at most 20.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SalesResponse {
        /// The sales found.
        pub sales: Vec<SaleFound>,
    }

    /// A batch the terminal settled, as `GET /v1/settlements` lists it: its Z report (R21).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SettledBatch {
        /// The batch number.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// Its business date, `YYYY-MM-DD`.
        pub business_date: String,
        /// Balanced or not, after the batch upload when there was one.
        pub outcome: Outcome,
        /// How many differences the batch upload found.
        pub discrepancy_count: u64;
        /// What the terminal counted.
        pub terminal_totals: Option<BatchTotals>,
        /// What the host counted; this stands.
        pub host_totals: Option<BatchTotals>,
        /// When the terminal settled it (RFC 3339).
        pub settled_at: Option<String>,
    }

    /// Answer to `GET /v1/settlements`: the terminal's settled batches, oldest first.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SettlementsResponse {
        /// Its Z reports.
        pub settlements: Vec<SettledBatch>,
    }

    /// Answer to `POST /v1/settlements`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SettlementResponse {
        /// The batch settled.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// Balanced or not; when unbalanced the terminal uploads its journal next.
        pub outcome: Outcome,
        /// What the host counted.
        pub host_totals: BatchTotals,
        /// The terminal's next batch.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub next_batch_no: BatchNo;
        /// The acquirer's verdict on the host's record of this batch (R11's second level):
        /// `pending` until the acquirer answers, then the stored answer says what it answered.
        /// It changes neither `outcome` nor the totals. Absent from hosts before it was added.
        pub acquirer_outcome: Option<AcquirerVerdict>,
    }

    /// Answer to the batch upload.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UploadResponse {
        /// The batch.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// Always `unbalanced` when an upload was needed, unless the journal proved both equal.
        pub outcome: Outcome,
        /// What the host counted; this stands.
        pub host_totals: BatchTotals,
        /// Every difference between the terminal's journal and the host's record, entry by
        /// entry.
        pub discrepancies: Vec<Discrepancy>,
        /// The terminal's next batch.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub next_batch_no: BatchNo;
        /// The acquirer's verdict on the host's record of the whole batch, as in
        /// `SettlementResponse`: `unbalanced` is the batch-level discrepancy between host and
        /// acquirer, which names no entry. Absent from hosts before it was added.
        pub acquirer_outcome: Option<AcquirerVerdict>,
    }

    /// Answer to a chunk of the batch upload that does not end it (R11): how much of the
    /// journal the host holds. The terminal goes on from `received`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UploadProgress {
        /// The batch.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub batch_no: BatchNo,
        /// Entries of the journal the host holds, from the first: the next chunk's `from`.
        pub received: u32,
    }

    /// Answer to `GET /v1/checkout/terminals/{merchant_id}/{terminal_id}` (R23).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CheckoutTerminal {
        /// 15-digit merchant id.
        pub merchant_id: String,
        /// The checkout terminal's id.
        pub terminal_id: String,
        /// The storefront origin it is bound to (`https://shop.example`): the only page that
        /// may frame its checkout and exchange messages with it.
        #[cfg_attr(feature = "openapi", schema(example = "https://shop.example"))]
        pub origin: String,
        /// Its currency (ISO 4217).
        pub currency: String,
    }

    /// Answer to `POST /v1/checkout/lanes` (R23): a new lane, to activate with
    /// `POST /v1/activate` (its merchant id, `lane_id` as the terminal id, and this code).
    #[derive(Clone, PartialEq, Eq)]
    pub struct LaneResponse {
        /// The lane's terminal id: `W` and 7 uppercase letters or digits.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^W[0-9A-Z]{7}$", example = "W7K2Q9XA")
        )]
        pub lane_id: String,
        /// Its single-use activation code, valid 10 minutes.
        pub activation_code: String,
        /// The storefront origin the lane is bound to.
        pub origin: String,
    }

    /// Answer to `POST /v1/sign-off`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SignOffResponse {
        /// When the session ended (RFC 3339).
        pub signed_off_at: String,
    }

    /// The body of every 4xx and 5xx answer.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ErrorBody {
        /// The error.
        pub error: ErrorDetail,
    }

    /// A code of the contract and a readable message.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ErrorDetail {
        /// One of the contract's codes.
        pub code: ErrorCode,
        /// For people.
        pub message: String,
    }

    /// Answer to `GET /healthz`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Health {
        /// Always `true` when the host answers.
        pub ok: bool,
    }
}
