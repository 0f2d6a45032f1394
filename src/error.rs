//! The error codes of the contract, one enum for the terminal, the host and the wire.
//!
//! A code is stable (storefronts switch on it); the message is for people and may carry a
//! detail such as the seconds an operator stays locked.

use std::fmt;

/// The table of codes: one row per code, from which the enum, its wire form, its messages,
/// its HTTP status, its codec and its TypeScript union are made.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $v:ident = $code:tt, $status:literal, $zh:literal, $en:literal;)*) => {
        /// Every way an operation can fail, the codes of docs/rules.md, "Error codes".
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $code)] $v,)*
        }

        impl ErrorCode {
            /// Every code, in the contract's order.
            pub const ALL: [ErrorCode; [$($code),*].len()] = [$(Self::$v),*];
            /// Their wire forms, in the same order.
            const CODES: [&'static str; [$($code),*].len()] = [$($code),*];

            /// The code as it appears on the wire and in JS (`NOT_SIGNED_IN`).
            pub fn as_str(self) -> &'static str {
                // The enum is declared above without discriminants: a code's is its place.
                Self::CODES.get(self as usize).copied().unwrap_or_default()
            }

            /// The English message shown to an operator.
            pub fn message_en(self) -> &'static str {
                const TEXT: &[&str] = &[$($en),*];
                TEXT.get(self as usize).copied().unwrap_or_default()
            }

            /// The Chinese message shown to an operator.
            pub fn message_zh(self) -> &'static str {
                const TEXT: &[&str] = &[$($zh),*];
                TEXT.get(self as usize).copied().unwrap_or_default()
            }

            /// The HTTP status the host answers with for this code.
            pub fn http_status(self) -> u16 {
                match self {
                    $(Self::$v => $status,)*
                }
            }
        }

        crate::protocol::shape::ts_union!(ErrorCode [$($code),*]);
        crate::protocol::shape::typescript_section!(ErrorCode);
    };
}

error_codes! {
    /// The terminal has no terminal key yet.
    NotActivated = "NOT_ACTIVATED", 401,
        "终端未激活，请输入激活码", "This terminal is not activated; enter its activation code";
    /// R1: no operator is signed in.
    NotSignedIn = "NOT_SIGNED_IN", 401, "请先签到", "Please sign in first";
    /// R2: another operation is in flight.
    Busy = "BUSY", 409, "交易处理中，请稍候", "Another operation is in progress; wait for it to finish";
    /// R3: the amount is not an integer in 1..=99_999_999_999.
    InvalidAmount = "INVALID_AMOUNT", 422, "金额无效", "Invalid amount";
    /// R4: the card number or expiry is not valid.
    InvalidCard = "INVALID_CARD", 422, "卡号或有效期无效", "Invalid card number or expiry date";
    /// R6/R7: no such transaction.
    UnknownTransaction = "UNKNOWN_TRANSACTION", 404, "原交易不存在", "No such transaction";
    /// R6/R7: the sale was voided already.
    AlreadyVoided = "ALREADY_VOIDED", 409, "原交易已撤销", "This sale has already been voided";
    /// R6: the sale is in a settled batch; refund it instead.
    VoidNotAllowedSettled = "VOID_NOT_ALLOWED_SETTLED", 409, "原交易已结算，不能撤销，请做退货",
        "This sale is in a settled batch and cannot be voided; refund it instead";
    /// R7: the refund is more than what is left of the original sale.
    RefundExceedsOriginal = "REFUND_EXCEEDS_ORIGINAL", 422, "退货金额超过原交易可退金额",
        "The refund exceeds what is left of the original sale";
    /// R6/R7: the supervisor password is missing or wrong.
    SupervisorRequired = "SUPERVISOR_REQUIRED", 403, "需要主管密码", "Supervisor password required";
    /// Wrong operator, password, activation code or terminal key.
    BadCredentials = "BAD_CREDENTIALS", 401, "操作员或密码错误", "Wrong operator or password";
    /// R16: three wrong passwords in a row.
    OperatorLocked = "OPERATOR_LOCKED", 423,
        "密码错误三次，操作员已锁定", "Operator locked after 3 wrong passwords";
    /// R12: the session ended (sign-off, cut-off, expiry).
    SessionExpired = "SESSION_EXPIRED", 401,
        "会话已结束，请重新签到", "The session has ended; please sign in again";
    /// R22: the merchant ended the session from the console; treated as `SESSION_EXPIRED`.
    SignedOffRemotely = "SIGNED_OFF_REMOTELY", 401,
        "商户已在管理台将此终端签退，请重新签到",
        "The merchant signed this terminal off from the console; sign in again";
    /// R8: the host could not be reached, or a queued reversal is still unacknowledged.
    HostUnreachable = "HOST_UNREACHABLE", 503, "冲正未完成，请重试", "Reversal not completed, try again";
    /// R19: the journal's hash chain is broken.
    JournalTampered = "JOURNAL_TAMPERED", 422, "流水已被篡改", "The journal has been tampered with";
    /// R9: a request id was reused with a different body.
    IdempotencyConflict = "IDEMPOTENCY_CONFLICT", 409,
        "请求号重复且内容不同", "Request id reused with a different request";
    /// R11: the batch is full.
    BatchFull = "BATCH_FULL", 409, "请先结算", "Please settle first";
    /// R23: a checkout lane trades sales only.
    SalesOnly = "SALES_ONLY", 403, "网店收银终端只能消费；撤销和退货请在柜台办理",
        "This checkout terminal takes sales only; voids and refunds are made at the counter";
    /// R20: no approved, unreleased hold has this RRN and auth code.
    PreauthNotFound = "PREAUTH_NOT_FOUND", 404, "原预授权不存在或已撤销",
        "No such pre-authorisation, or it was released";
    /// R20: the hold was completed already (once per hold).
    PreauthCompleted = "PREAUTH_COMPLETED", 409, "原预授权已完成",
        "This pre-authorisation has already been completed";
    /// R20: the hold is more than 30 days old.
    PreauthExpired = "PREAUTH_EXPIRED", 409, "原预授权已过期（超过30天）",
        "This pre-authorisation has expired (older than 30 days)";
    /// The request is malformed.
    BadRequest = "BAD_REQUEST", 422, "请求无效", "Bad request";
    /// A fault on our side.
    Internal = "INTERNAL", 500, "系统错误", "Internal error";
}

impl ErrorCode {
    /// Whether the host ended the session this refusal came in: `SESSION_EXPIRED` (sign-off
    /// elsewhere, cut-off, expiry) or `SIGNED_OFF_REMOTELY` (the merchant's console, R22). The
    /// terminal signs off and asks for a sign-in after either.
    pub fn ends_session(self) -> bool {
        matches!(
            self,
            ErrorCode::SessionExpired | ErrorCode::SignedOffRemotely
        )
    }

    /// Parses a wire code; unknown codes are `None` so a newer host cannot crash an older terminal.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        let i = Self::CODES.iter().position(|c| *c == code)?;
        Self::ALL.get(i).copied()
    }
}

/// Read and written in its wire form.
impl crate::protocol::codec::Decode for ErrorCode {
    fn decode<V: crate::protocol::codec::Value>(
        v: &V,
    ) -> Result<Self, crate::protocol::codec::Unreadable> {
        crate::protocol::codec::variant(v, &Self::CODES)
            .and_then(|i| Self::ALL.get(i).copied())
            .ok_or(crate::protocol::codec::BAD)
    }
    fn stand_in() -> Self {
        ErrorCode::BadRequest
    }
}
impl crate::protocol::codec::Encode for ErrorCode {
    fn encode<V: crate::protocol::codec::Value>(&self) -> V {
        V::string(self.as_str())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed operation: a stable code and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people (English, with any detail).
    pub message: String,
}

impl Error {
    /// The error with the code's standard English message.
    pub fn new(code: ErrorCode) -> Self {
        Error {
            code,
            message: code.message_en().to_owned(),
        }
    }

    /// The error with a message that adds a detail to the standard one.
    pub fn with_detail(code: ErrorCode, detail: impl fmt::Display) -> Self {
        Error {
            code,
            message: format!("{}: {detail}", code.message_en()),
        }
    }
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Error::new(code)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_wire_form() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(ErrorCode::parse("NO_SUCH_CODE"), None);
    }

    #[test]
    fn not_signed_in_speaks_both_languages() {
        assert_eq!(ErrorCode::NotSignedIn.message_zh(), "请先签到");
        assert_eq!(ErrorCode::NotSignedIn.message_en(), "Please sign in first");
        assert_eq!(
            ErrorCode::HostUnreachable.message_zh(),
            "冲正未完成，请重试"
        );
    }
}
