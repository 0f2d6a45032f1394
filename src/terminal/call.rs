//! The requests the terminal sends and the replies it is fed, as the driver sees them.

use crate::error::Error;
use crate::protocol::{
    ActivateRequest, ActivateResponse, ReversalRequest, ReversalResponse, SettlementRequest,
    SettlementResponse, SignInRequest, SignInResponse, SignOffRequest, SignOffResponse,
    TransactionRequest, TransactionResponse, UploadProgress, UploadRequest, UploadResponse,
};
use crate::terminal::Completion;
use serde::{Deserialize, Serialize};

/// Which credential a request carries as `Authorization: Bearer`.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `POST /v1/activate`.
    None,
    /// The terminal key, for sign-in (a lane's for the checkout sign-in).
    TerminalKey(String),
    /// The session token.
    Session(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "None",
            Auth::TerminalKey(_) => "TerminalKey(..)",
            Auth::Session(_) => "Session(..)",
        })
    }
}

/// A request for the host, with its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `POST /v1/activate`
    Activate(ActivateRequest),
    /// `POST /v1/sign-in`
    SignIn(SignInRequest),
    /// `POST /v1/checkout/sign-in`, body `{}` (R23): answered as a sign-in.
    CheckoutSignIn,
    /// `POST /v1/transactions`
    Transaction(TransactionRequest),
    /// `POST /v1/reversals`
    Reversal(ReversalRequest),
    /// `POST /v1/settlements`
    Settlement(SettlementRequest),
    /// `POST /v1/settlements/{batch_no}/upload`
    Upload(u32, UploadRequest),
    /// `POST /v1/sign-off`
    SignOff(SignOffRequest),
}

impl Call {
    /// The path under the host URL.
    pub fn path(&self) -> String {
        match self {
            Call::Activate(_) => "/v1/activate".into(),
            Call::SignIn(_) => "/v1/sign-in".into(),
            Call::CheckoutSignIn => "/v1/checkout/sign-in".into(),
            Call::Transaction(_) => "/v1/transactions".into(),
            Call::Reversal(_) => "/v1/reversals".into(),
            Call::Settlement(_) => "/v1/settlements".into(),
            Call::Upload(batch_no, _) => format!("/v1/settlements/{batch_no}/upload"),
            Call::SignOff(_) => "/v1/sign-off".into(),
        }
    }

    /// The JSON body.
    pub fn body_json(&self) -> String {
        // Plain structs of strings and integers: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the host's 2xx answer to this call from JSON text.
    pub fn parse_answer(&self, json: &str) -> Reply {
        self.answer_from(&mut serde_json::Deserializer::from_str(json))
    }

    /// Reads the host's 2xx answer to this call from any serde format (the wasm driver
    /// reads what the browser's `JSON.parse` made). One we cannot read is as good as no
    /// answer: the host may have acted on the request (R8).
    pub fn answer_from<'de, D: serde::Deserializer<'de>>(&self, d: D) -> Reply {
        fn read<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
            d: D,
            wrap: fn(T) -> Reply,
        ) -> Reply {
            T::deserialize(d).map_or(Reply::NoAnswer, wrap)
        }
        match self {
            Call::Activate(_) => read(d, Reply::Activated),
            Call::SignIn(_) | Call::CheckoutSignIn => read(d, Reply::SignedIn),
            Call::Transaction(_) => read(d, Reply::Transaction),
            Call::Reversal(_) => read(d, Reply::Reversal),
            Call::Settlement(_) => read(d, Reply::Settlement),
            Call::Upload(..) => read(d, UploadAnswer::reply),
            Call::SignOff(_) => read(d, Reply::SignedOff),
        }
    }
}

/// The answer to a chunk of the batch upload (R11): how far the host holds the journal, or,
/// to the last chunk, the upload's answer.
#[derive(Deserialize)]
#[serde(untagged)]
enum UploadAnswer {
    Progress(UploadProgress),
    Done(UploadResponse),
}

impl UploadAnswer {
    fn reply(self) -> Reply {
        match self {
            UploadAnswer::Progress(p) => Reply::UploadProgress(p),
            UploadAnswer::Done(r) => Reply::Upload(r),
        }
    }
}

/// A call serialises as its body.
impl Serialize for Call {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Call::Activate(b) => b.serialize(s),
            Call::SignIn(b) => b.serialize(s),
            Call::CheckoutSignIn => serde::ser::SerializeMap::end(s.serialize_map(Some(0))?),
            Call::Transaction(b) => b.serialize(s),
            Call::Reversal(b) => b.serialize(s),
            Call::Settlement(b) => b.serialize(s),
            Call::Upload(_, b) => b.serialize(s),
            Call::SignOff(b) => b.serialize(s),
        }
    }
}

/// A request to send: the call and its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// What to send.
    pub call: Call,
    /// `Authorization: Bearer` value.
    pub auth: Auth,
}

/// What came back for the last [`Outgoing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// 2xx to activate.
    Activated(ActivateResponse),
    /// 2xx to sign-in.
    SignedIn(SignInResponse),
    /// 2xx to a transaction.
    Transaction(TransactionResponse),
    /// 2xx to a reversal.
    Reversal(ReversalResponse),
    /// 2xx to a settlement.
    Settlement(SettlementResponse),
    /// 2xx to a batch upload: its answer.
    Upload(UploadResponse),
    /// 2xx to a chunk of a batch upload: how much of the journal the host holds (R11).
    UploadProgress(UploadProgress),
    /// 2xx to a sign-off.
    SignedOff(SignOffResponse),
    /// A 4xx with the contract's error: a definite "no"; nothing happened on the host.
    Refused(Error),
    /// Network error, timeout or 5xx: the outcome is unknown (R8).
    NoAnswer,
}

/// One step of the driver loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Persist [`Terminal::take_writes`](super::Terminal::take_writes), then send this, then
    /// call [`Terminal::handle_reply`](super::Terminal::handle_reply).
    Send(Outgoing),
    /// The operation finished.
    Done(Result<Completion, Error>),
    /// Nothing in flight.
    Idle,
}
