//! The issuer behind the host: a trait, so a real acquirer link can replace the simulator.

use softpos::terminal::card::Pan;
use softpos::terminal::money::Amount;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// What the host asks the issuer.
#[derive(Debug)]
// The simulator decides by card number alone; a real acquirer link reads every field.
#[allow(dead_code)]
pub struct AuthRequest {
    /// The card; `Pan`'s `Debug` masks it.
    pub pan: Pan,
    /// The amount.
    pub amount: Amount,
    /// ISO 4217.
    pub currency: String,
}

/// The issuer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// ISO 8583 response code, `00` when approved.
    pub response_code: &'static str,
}

impl Authorization {
    /// `00`.
    pub fn approved(&self) -> bool {
        self.response_code == "00"
    }
}

/// The meaning of a response code, for the answer's `message`.
pub fn response_message(code: &str) -> &'static str {
    match code {
        "00" => "Approved",
        "05" => "Do not honour",
        "51" => "Insufficient funds",
        "54" => "Expired card",
        _ => "Declined",
    }
}

/// A boxed future, so the trait stays object safe.
pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Authorization> + Send + 'a>>;

/// Authorises a sale with the card's issuer.
pub trait Authorizer: Send + Sync + 'static {
    /// Asks the issuer; may take long, and must never block the thread it runs on.
    fn authorize(&self, request: AuthRequest) -> AuthFuture<'_>;

    /// The answer, when the issuer gives it without waiting on anything (no network, no timer).
    ///
    /// `Some` lets the host book the sale and its answer in one database transaction (one
    /// commit). `None`, the default, means the answer may be slow: the host then books the sale
    /// pending, asks [`Authorizer::authorize`] outside any transaction and commits the answer
    /// after, so a slow issuer holds no lock and a reversal can overtake it (R8). A real
    /// acquirer link answers `None`.
    fn decide_now(&self, request: &AuthRequest) -> Option<Authorization> {
        let _ = request;
        None
    }
}

/// The issuer simulator (docs/rules.md, R5: the simulator's cards).
#[derive(Debug, Clone)]
pub struct IssuerSimulator {
    /// How long the answer for `4000000000003220` is held back.
    pub slow_card_delay: Duration,
}

impl Default for IssuerSimulator {
    fn default() -> Self {
        IssuerSimulator {
            slow_card_delay: Duration::from_secs(30),
        }
    }
}

/// The card whose answer the simulator holds back (docs/rules.md, R5).
const HELD_BACK_CARD: &str = "4000000000003220";

impl Authorizer for IssuerSimulator {
    fn authorize(&self, request: AuthRequest) -> AuthFuture<'_> {
        Box::pin(async move {
            if let Some(answer) = self.decide_now(&request) {
                return answer;
            }
            // A timer, not a blocking sleep: the other requests go on meanwhile.
            tokio::time::sleep(self.slow_card_delay).await;
            Authorization {
                response_code: "00",
            }
        })
    }

    /// Every card but the held-back one is decided by its number alone, at once; the held-back
    /// card stays on the slow path so a reversal can still overtake it (R8).
    fn decide_now(&self, request: &AuthRequest) -> Option<Authorization> {
        let response_code = match request.pan.digits() {
            HELD_BACK_CARD => return None,
            "4000000000000002" => "05",
            "4000000000009995" => "51",
            "4000000000000069" => "54",
            _ => "00",
        };
        Some(Authorization { response_code })
    }
}
