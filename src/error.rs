//! The error codes of the contract, one enum for the terminal, the host and the wire.
//!
//! A code is stable (storefronts switch on it); the message is for people and may carry a
//! detail such as the seconds an operator stays locked.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Every way an operation can fail, exactly the codes of CONTRACT.md section 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The terminal has no terminal key yet.
    NotActivated,
    /// R1: no operator is signed in.
    NotSignedIn,
    /// R2: another operation is in flight.
    Busy,
    /// R3: the amount is not an integer in 1..=99_999_999_999.
    InvalidAmount,
    /// R4: the card number or expiry is not valid.
    InvalidCard,
    /// R6/R7: no such transaction.
    UnknownTransaction,
    /// R6/R7: the sale was voided already.
    AlreadyVoided,
    /// R6: the sale is in a settled batch; refund it instead.
    VoidNotAllowedSettled,
    /// R7: the refund is more than what is left of the original sale.
    RefundExceedsOriginal,
    /// R6/R7: the supervisor password is missing or wrong.
    SupervisorRequired,
    /// Wrong operator, password, activation code or terminal key.
    BadCredentials,
    /// R16: three wrong passwords in a row.
    OperatorLocked,
    /// R12: the session ended (sign-off, cut-off, expiry).
    SessionExpired,
    /// R8: the host could not be reached, or a queued reversal is still unacknowledged.
    HostUnreachable,
    /// R19: the journal's hash chain is broken.
    JournalTampered,
    /// R9: a request id was reused with a different body.
    IdempotencyConflict,
    /// R11: the batch is full.
    BatchFull,
    /// The request is malformed.
    BadRequest,
    /// A fault on our side.
    Internal,
}

impl ErrorCode {
    /// Every code, in the contract's order.
    pub const ALL: [ErrorCode; 19] = [
        Self::NotActivated,
        Self::NotSignedIn,
        Self::Busy,
        Self::InvalidAmount,
        Self::InvalidCard,
        Self::UnknownTransaction,
        Self::AlreadyVoided,
        Self::VoidNotAllowedSettled,
        Self::RefundExceedsOriginal,
        Self::SupervisorRequired,
        Self::BadCredentials,
        Self::OperatorLocked,
        Self::SessionExpired,
        Self::HostUnreachable,
        Self::JournalTampered,
        Self::IdempotencyConflict,
        Self::BatchFull,
        Self::BadRequest,
        Self::Internal,
    ];

    /// The code as it appears on the wire and in JS (`NOT_SIGNED_IN`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotActivated => "NOT_ACTIVATED",
            Self::NotSignedIn => "NOT_SIGNED_IN",
            Self::Busy => "BUSY",
            Self::InvalidAmount => "INVALID_AMOUNT",
            Self::InvalidCard => "INVALID_CARD",
            Self::UnknownTransaction => "UNKNOWN_TRANSACTION",
            Self::AlreadyVoided => "ALREADY_VOIDED",
            Self::VoidNotAllowedSettled => "VOID_NOT_ALLOWED_SETTLED",
            Self::RefundExceedsOriginal => "REFUND_EXCEEDS_ORIGINAL",
            Self::SupervisorRequired => "SUPERVISOR_REQUIRED",
            Self::BadCredentials => "BAD_CREDENTIALS",
            Self::OperatorLocked => "OPERATOR_LOCKED",
            Self::SessionExpired => "SESSION_EXPIRED",
            Self::HostUnreachable => "HOST_UNREACHABLE",
            Self::JournalTampered => "JOURNAL_TAMPERED",
            Self::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            Self::BatchFull => "BATCH_FULL",
            Self::BadRequest => "BAD_REQUEST",
            Self::Internal => "INTERNAL",
        }
    }

    /// Parses a wire code; unknown codes are `None` so a newer host cannot crash an older terminal.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The English message shown to an operator.
    pub fn message_en(self) -> &'static str {
        match self {
            Self::NotActivated => "This terminal is not activated; enter its activation code",
            Self::NotSignedIn => "Please sign in first",
            Self::Busy => "Another operation is in progress; wait for it to finish",
            Self::InvalidAmount => "Invalid amount",
            Self::InvalidCard => "Invalid card number or expiry date",
            Self::UnknownTransaction => "No such transaction",
            Self::AlreadyVoided => "This sale has already been voided",
            Self::VoidNotAllowedSettled => {
                "This sale is in a settled batch and cannot be voided; refund it instead"
            }
            Self::RefundExceedsOriginal => "The refund exceeds what is left of the original sale",
            Self::SupervisorRequired => "Supervisor password required",
            Self::BadCredentials => "Wrong operator or password",
            Self::OperatorLocked => "Operator locked after 3 wrong passwords",
            Self::SessionExpired => "The session has ended; please sign in again",
            Self::HostUnreachable => "Reversal not completed, try again",
            Self::JournalTampered => "The journal has been tampered with",
            Self::IdempotencyConflict => "Request id reused with a different request",
            Self::BatchFull => "Please settle first",
            Self::BadRequest => "Bad request",
            Self::Internal => "Internal error",
        }
    }

    /// The Chinese message shown to an operator.
    pub fn message_zh(self) -> &'static str {
        match self {
            Self::NotActivated => "终端未激活，请输入激活码",
            Self::NotSignedIn => "请先签到",
            Self::Busy => "交易处理中，请稍候",
            Self::InvalidAmount => "金额无效",
            Self::InvalidCard => "卡号或有效期无效",
            Self::UnknownTransaction => "原交易不存在",
            Self::AlreadyVoided => "原交易已撤销",
            Self::VoidNotAllowedSettled => "原交易已结算，不能撤销，请做退货",
            Self::RefundExceedsOriginal => "退货金额超过原交易可退金额",
            Self::SupervisorRequired => "需要主管密码",
            Self::BadCredentials => "操作员或密码错误",
            Self::OperatorLocked => "密码错误三次，操作员已锁定",
            Self::SessionExpired => "会话已结束，请重新签到",
            Self::HostUnreachable => "冲正未完成，请重试",
            Self::JournalTampered => "流水已被篡改",
            Self::IdempotencyConflict => "请求号重复且内容不同",
            Self::BatchFull => "请先结算",
            Self::BadRequest => "请求无效",
            Self::Internal => "系统错误",
        }
    }

    /// The HTTP status the host answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::NotActivated
            | Self::NotSignedIn
            | Self::BadCredentials
            | Self::SessionExpired => 401,
            Self::SupervisorRequired => 403,
            Self::UnknownTransaction => 404,
            Self::Busy
            | Self::AlreadyVoided
            | Self::VoidNotAllowedSettled
            | Self::IdempotencyConflict
            | Self::BatchFull => 409,
            Self::OperatorLocked => 423,
            Self::InvalidAmount
            | Self::InvalidCard
            | Self::RefundExceedsOriginal
            | Self::JournalTampered
            | Self::BadRequest => 422,
            Self::HostUnreachable => 503,
            Self::Internal => 500,
        }
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
