//! The acquirer simulator (docs/rules.md, R5: the simulator's cards): the default acquirer,
//! answering every operation inside the host.

use super::{Acquirer, AcquirerOutcome, Answer, AnswerFuture, Completion, Request};
use crate::secrets;
use std::time::Duration;

/// The acquirer simulator. It approves every void, refund, pre-auth void, completion void,
/// reversal, sign-in and sign-off, settles every batch balanced (its totals are the host's: it
/// has no books of its own), and decides a sale, a pre-authorisation and a completion by its
/// card number (R5, R20), each approval with an auth code.
#[derive(Debug, Clone)]
pub struct AcquirerSimulator {
    /// How long the answer for `4000000000003220` is held back.
    pub slow_card_delay: Duration,
}

impl Default for AcquirerSimulator {
    fn default() -> Self {
        AcquirerSimulator {
            slow_card_delay: Duration::from_secs(30),
        }
    }
}

/// The card whose answer the simulator holds back (docs/rules.md, R5).
const HELD_BACK_CARD: &str = "4000000000003220";

/// The simulator's RRN: the host's number of the transaction, 12 digits. That number is
/// unique across the host's database for good (SQLite's AUTOINCREMENT and PostgreSQL's
/// sequence never reuse one), so the RRN is unique per merchant as the database requires,
/// across restarts and processes, which a counter of the simulator's own would not be.
fn rrn_of(reference: i64) -> String {
    format!("{:012}", reference.rem_euclid(1_000_000_000_000))
}

/// A transaction's answer: its RRN always, an authorisation code when approved. Without
/// randomness for the code the outcome is unknown, as a real acquirer's would be when it
/// cannot answer.
fn transaction_answer(code: &str, reference: i64) -> Answer {
    let auth_code = if code == "00" {
        match secrets::auth_code() {
            Ok(c) => Some(c),
            Err(_) => return Answer::Unknown,
        }
    } else {
        None
    };
    Answer::Answered {
        code: code.to_owned(),
        rrn: Some(rrn_of(reference)),
        auth_code,
        settlement_date: None,
        batch: None,
        outcome: None,
    }
}

impl Acquirer for AcquirerSimulator {
    fn ask(&self, request: Request) -> AnswerFuture<'_> {
        Box::pin(async move {
            if let Some(answer) = self.decide_now(&request) {
                return answer;
            }
            // A timer, not a blocking sleep: the other requests go on meanwhile.
            tokio::time::sleep(self.slow_card_delay).await;
            match request.with_card() {
                Some(sale) => transaction_answer("00", sale.reference),
                None => Answer::Unknown,
            }
        })
    }

    /// Every operation but a sale on the held-back card is decided at once; that card stays
    /// on the slow path so a reversal can still overtake it (R8).
    fn decide_now(&self, request: &Request) -> Option<Answer> {
        Some(match request {
            // R20: a hold and a completion are decided on their card as a sale is.
            Request::Sale(sale)
            | Request::Preauth(sale)
            | Request::Completion(Completion { sale, .. }) => {
                let code = match sale.pan.digits() {
                    HELD_BACK_CARD => return None,
                    "4000000000000002" => "05",
                    "4000000000009995" => "51",
                    "4000000000000069" => "54",
                    _ => "00",
                };
                transaction_answer(code, sale.reference)
            }
            Request::Void(undo)
            | Request::Refund(undo)
            | Request::PreauthVoid(undo)
            | Request::CompletionVoid(undo) => transaction_answer("00", undo.reference),
            Request::Settlement(_) => Answer::Answered {
                code: "00".to_owned(),
                rrn: None,
                auth_code: None,
                settlement_date: None,
                batch: None,
                outcome: Some(AcquirerOutcome::Balanced),
            },
            Request::SignIn(_)
            | Request::SignOff(_)
            | Request::Echo(_)
            | Request::Reversal(_)
            | Request::BatchUpload(_) => Answer::code("00"),
        })
    }
}
