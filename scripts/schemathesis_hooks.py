"""Schemathesis hooks for scripts/test-api.sh.

Some of the host's checks cannot be said in JSON Schema: a card number's Luhn digit, an expiry
not in the past, the terminal's own currency, that a request id is used for one request only
(R9), and that a trace number is used once per batch. Without help, nearly every generated
transaction stops at those checks, and the ledger behind them is never fuzzed. This hook
mends just those parts of bodies that are otherwise well formed, so generated sales, voids and
refunds reach the ledger with random amounts, cards and references. Hooks apply to generated
cases; schemathesis' coverage phase sends its boundary values as they are. Bodies malformed
in any other way stay as generated, and the hand-written cases in host/tests/bad_input.rs
keep covering each check.
"""

import re
import uuid

import schemathesis

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/[0-9]{2}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
# Trace numbers handed out in turn: the generator draws the same few (1, 999999) again and
# again, and a trace number is used once per batch.
next_trace = iter(range(1000, 1_000_000))


def with_luhn_digit(digits: str) -> str:
    """The same number with its last digit replaced by the Luhn check digit."""
    body = digits[:-1]
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


@schemathesis.hook
def map_body(context, body):
    operation = getattr(context, "operation", None)
    if operation is None or not isinstance(body, dict):
        return body
    if operation.method.upper() != "POST" or operation.path not in ("/v1/transactions", "/v1/settlements"):
        return body
    # A fresh id per generated case: the generator reuses ids across different bodies, which the
    # host rightly refuses as IDEMPOTENCY_CONFLICT (tested by hand, not here).
    if isinstance(body.get("request_id"), str) and UUID.match(body["request_id"]):
        body["request_id"] = str(uuid.uuid4())
    # JSON Schema counts 196904.0 as an integer; the host takes no float where money or a
    # counter goes (tested by hand), so whole floats are sent as the integers they are.
    for key in ("amount", "trace_no", "original_trace_no", "batch_no"):
        if isinstance(body.get(key), float) and body[key].is_integer():
            body[key] = int(body[key])
    if operation.path == "/v1/transactions":
        trace = body.get("trace_no")
        if isinstance(trace, int) and not isinstance(trace, bool) and 1 <= trace <= 999_999:
            body["trace_no"] = next(next_trace)
        if isinstance(body.get("currency"), str) and CURRENCY.match(body["currency"]):
            body["currency"] = "CNY"  # the test terminal's currency
        card = body.get("card")
        if isinstance(card, dict):
            pan = card.get("pan")
            if isinstance(pan, str) and pan.isascii() and pan.isdigit() and 13 <= len(pan) <= 19:
                card["pan"] = with_luhn_digit(pan)
            expiry = card.get("expiry")
            if isinstance(expiry, str) and EXPIRY.match(expiry):
                card["expiry"] = expiry[:3] + "39"
    return body
