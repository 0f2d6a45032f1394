//! The hosted checkout (R23): checkout terminals bound to a storefront origin, and their
//! lanes. A web shop's customers are many browsers, and a terminal's trace numbers, journal and
//! batch live in one browser, so each browser that opens the checkout frame becomes a lane: a
//! terminal of its own, made here on demand with the checkout terminal's currency and
//! threshold, activated by the frame with the ordinary `POST /v1/activate`, signed in without
//! a cashier (`Store::checkout_sign_in`) and trading sales only (`Session::sales_only`).

use super::admin::{check_merchant_id, check_terminal_id, found_or_made};
use crate::db::{CheckoutRow, TerminalRef};
use crate::error::{ApiError, ApiResult};
use crate::secrets;
use crate::store::{now_ms, Store};
use softpos::ids::BatchNo;
use softpos::protocol::{CheckoutTerminal, LaneRequest, LaneResponse};
use softpos::terminal::money::{ConfirmAbove, Currency};
use softpos::ErrorCode;

/// How long a lane's activation code stays valid: the frame that asked for it activates at once.
pub const LANE_CODE_VALID_MS: i64 = 10 * 60 * 1000;

/// Tries at a lane id not yet taken; at 36^7 ids per merchant a second try is already rare.
const LANE_ID_TRIES: usize = 8;

/// What `terminal add --checkout-origin` made or found.
#[derive(Debug, Clone)]
pub struct AddedCheckout {
    /// The terminal's currency (an existing terminal keeps its own).
    pub currency: String,
    /// Its confirmation threshold now, which its new lanes take.
    pub confirm_above: ConfirmAbove,
    /// The origin it is bound to, serialized as browsers send it.
    pub origin: String,
}

/// An unknown terminal, or one that is not a checkout terminal: `404 NOT_ACTIVATED`.
fn no_checkout() -> ApiError {
    ApiError::detail(ErrorCode::NotActivated, "no such checkout terminal").with_status(404)
}

/// A storefront origin as `Origin` and `event.origin` carry it: `http` or `https`, a host
/// (a name of letters, digits, `-` and `.`, an IPv4 address, or an IPv6 one in brackets) and a
/// port unless it is the scheme's default; nothing else (a lone trailing `/` is dropped).
/// Scheme and host are lowercased; a name outside ASCII is given in its `xn--` form.
pub fn parse_origin(given: &str) -> Result<String, String> {
    let bad = || format!("{given:?} is not an origin: http(s)://HOST[:PORT] and nothing else");
    let (scheme, rest) = given.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(bad()),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6.split_once(']').ok_or_else(bad)?;
            let ok = !addr.is_empty()
                && addr
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            if !ok {
                return Err(bad());
            }
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(bad)?),
            };
            (format!("[{}]", addr.to_ascii_lowercase()), port)
        }
        None => {
            let (name, port) = match rest.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (rest, None),
            };
            let label_ok = |l: &str| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            };
            if name.len() > 253 || !name.split('.').all(label_ok) {
                return Err(bad());
            }
            (name.to_ascii_lowercase(), port)
        }
    };
    let port = match port {
        None => None,
        Some(digits) => {
            let n: u16 = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                digits.parse().map_err(|_| bad())?
            } else {
                return Err(bad());
            };
            if n == 0 {
                return Err(bad());
            }
            (n != default_port).then_some(n)
        }
    };
    Ok(match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// `W` and 7 uppercase letters or digits: a lane's terminal id, never one an operator types.
fn lane_id() -> ApiResult<String> {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut id = String::from("W");
    while id.len() < 8 {
        for b in secrets::random_bytes::<16>()? {
            // 252 = 7 × 36: below it every character is equally likely.
            if b < 252 && id.len() < 8 {
                id.push(char::from(ALPHABET[usize::from(b % 36)]));
            }
        }
    }
    Ok(id)
}

impl Store {
    /// `GET /v1/checkout/terminals/{merchant_id}/{terminal_id}`.
    pub async fn checkout_terminal(&self, req: &LaneRequest) -> ApiResult<CheckoutTerminal> {
        let (merchant, terminal) = req.check().map_err(|_| no_checkout())?;
        let found = self
            .db()
            .checkout_terminal(merchant.as_str(), terminal.as_str())
            .await?
            .ok_or_else(no_checkout)?;
        Ok(CheckoutTerminal {
            merchant_id: req.merchant_id.clone(),
            terminal_id: req.terminal_id.clone(),
            origin: found.origin,
            currency: found.currency,
        })
    }

    /// `POST /v1/checkout/lanes`: a new lane of the checkout terminal, with batch 1 open and a
    /// single-use activation code valid [`LANE_CODE_VALID_MS`].
    pub async fn open_lane(&self, req: &LaneRequest) -> ApiResult<LaneResponse> {
        let (merchant, terminal) = req.check().map_err(|_| no_checkout())?;
        let merchant_id = merchant.as_str();
        let now = now_ms();
        let mut tx = self.begin().await?;
        let checkout: CheckoutRow = tx
            .checkout_terminal(merchant_id, terminal.as_str())
            .await?
            .ok_or_else(no_checkout)?;
        let mut free = None;
        for _ in 0..LANE_ID_TRIES {
            let id = lane_id()?;
            if tx.find_terminal(merchant_id, &id).await?.is_none() {
                free = Some(id);
                break;
            }
        }
        let lane_id = free.ok_or_else(|| ApiError::internal("no free lane id"))?;
        let id = tx
            .insert_terminal(merchant_id, &lane_id, &checkout.currency, now)
            .await?;
        let lane = TerminalRef { merchant_id, id };
        tx.set_lane_of(lane, checkout.id).await?;
        tx.set_confirm_above(lane, checkout.confirm_above).await?;
        let date = tx.business_date().await?;
        tx.insert_open_batch(lane, BatchNo::FIRST, &date).await?;
        let code = secrets::activation_code()?;
        let code_hash = secrets::sha256_hex(secrets::normalise_code(&code));
        tx.replace_code(lane, &code_hash, now, now + LANE_CODE_VALID_MS)
            .await?;
        tx.commit().await?;
        Ok(LaneResponse {
            lane_id,
            activation_code: code,
            origin: checkout.origin,
        })
    }

    /// `terminal add --checkout-origin`: creates the terminal if absent (as `terminal add`
    /// does) and binds it to the origin, replacing any origin it had. No activation code: no
    /// one activates a checkout terminal itself, its lanes are activated by the frame.
    pub async fn add_checkout_terminal(
        &self,
        merchant_id: &str,
        terminal_id: &str,
        currency: Currency,
        confirm_above: Option<ConfirmAbove>,
        origin: &str,
    ) -> ApiResult<AddedCheckout> {
        check_merchant_id(merchant_id)?;
        check_terminal_id(terminal_id)?;
        let origin = parse_origin(origin).map_err(ApiError::bad_request)?;
        let mut tx = self.begin().await?;
        let (id, currency) = found_or_made(&mut tx, merchant_id, terminal_id, currency).await?;
        let terminal = TerminalRef { merchant_id, id };
        if tx.is_lane(terminal).await? {
            return Err(ApiError::bad_request(format_args!(
                "{terminal_id} is a lane of a checkout terminal"
            )));
        }
        if let Some(threshold) = confirm_above {
            tx.set_confirm_above(terminal, threshold).await?;
        }
        let confirm_above = tx.confirm_above(terminal).await?;
        tx.set_checkout_origin(terminal, &origin).await?;
        tx.commit().await?;
        Ok(AddedCheckout {
            currency,
            confirm_above,
            origin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r23_a_checkout_origin_is_stored_as_browsers_serialize_it() {
        for (given, origin) in [
            ("https://shop.example", "https://shop.example"),
            ("HTTPS://Shop.Example/", "https://shop.example"),
            ("https://shop.example:443", "https://shop.example"),
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
            ("http://localhost:80", "http://localhost"),
            ("http://[::1]:9000", "http://[::1]:9000"),
            ("https://xn--fiqs8s.example", "https://xn--fiqs8s.example"),
        ] {
            assert_eq!(parse_origin(given).as_deref(), Ok(origin), "{given}");
        }
        for bad in [
            "shop.example",
            "ftp://shop.example",
            "https://",
            "https://shop.example/checkout",
            "https://shop.example?x",
            "https://shop.example#x",
            "https://user@shop.example",
            "https://shop.example:0",
            "https://shop.example:65536",
            "https://shop.example:",
            "https://shop..example",
            "https://商店.example",
            "*",
            "null",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn r23_a_lane_id_is_w_and_seven_uppercase_letters_or_digits() {
        for _ in 0..100 {
            let id = lane_id().unwrap();
            assert_eq!(id.len(), 8, "{id}");
            assert!(id.starts_with('W'), "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
                "{id}"
            );
        }
    }
}
