"""Writes vectors.json: one frame of each message of the profile, encoded by pyiso8583.

Run by hand (`target/acquirer-venv/bin/python tests/acquirer/vectors.py`) when the profile
changes; the file is checked in, and the Rust codec's golden test decodes and re-encodes each
vector. Every value is fixed, so a rerun writes the same file.
"""

from __future__ import annotations

import json
import pathlib

from profile import (
    SETTLEMENT_BALANCED,
    SETTLEMENT_UNBALANCED,
    SIGN_IN_AGAIN,
    Message,
    Totals,
    UploadRecord,
    answer_tpdu,
    field48_totals,
    field48_upload,
    field60,
    field61,
    frame,
    with_processing_requirement,
)

TPDU = "6000030000"
HEADER = "603100000000"
TID = "30000001"
MID = "898310048160001"
BATCH = "000001"
OPERATOR = "01 "
PAN19 = "6222021234567890128"
PAN16 = "4000000000009995"
EXPIRY = "2912"
# 16 key bytes and a 4-byte check value each for the PIN and MAC keys, as UnionPay lays out 62.
KEYS = "9f3c6b1a2d4e5f60718293a4b5c6d7e8" + "1a2b3c4d" + "0123456789abcdeffedcba9876543210" + "5e6f7a8b"
OUT = pathlib.Path(__file__).with_name("vectors.json")


def request(mti: str, fields: dict[str, str]) -> Message:
    return Message(TPDU, HEADER, mti, {"41": TID, "42": MID, **fields})


def answer(req: Message, fields: dict[str, str], header: str = HEADER) -> Message:
    """The answer as the profile has it: MTI + 10, TPDU swapped, header echoed."""
    mti = f"{int(req.mti) + 10:04d}"
    return Message(answer_tpdu(req.tpdu), header, mti, {"41": TID, "42": MID, **fields})


def echo(req: Message, *keys: int) -> dict[str, str]:
    return {str(k): req.fields[str(k)] for k in keys if str(k) in req.fields}


def when(time: str, date: str = "0612") -> dict[str, str]:
    return {"12": time, "13": date, "15": date}


def pairs() -> list[tuple[str, Message]]:
    out: list[tuple[str, Message]] = []

    def add(name: str, msg: Message) -> Message:
        out.append((name, msg))
        return msg

    signin = add("signin-0800", request("0800", {"11": "000001", "60": field60("00", BATCH, "003"), "63": OPERATOR}))
    add("signin-0810", answer(signin, {**echo(signin, 11, 60), **when("093000"), "39": "00", "62": KEYS}))

    sale = add("sale-0200", request("0200", {
        "2": PAN19, "3": "000000", "4": "000000001250", "11": "000123", "14": EXPIRY, "22": "012",
        "25": "00", "49": "156", "60": field60("22", BATCH)}))
    add("sale-0210", answer(sale, {
        **echo(sale, 3, 4, 11, 25, 49, 60), **when("093512"), "37": "093512000001", "38": "123456", "39": "00"}))
    add("sale-0210-sign-in-again", answer(sale, {
        **echo(sale, 3, 4, 11, 25, 49, 60), **when("093512"), "37": "093512000001", "38": "123456", "39": "00"},
        header=with_processing_requirement(HEADER, SIGN_IN_AGAIN)))
    declined = add("sale-0200-16-digits", request("0200", {
        "2": PAN16, "3": "000000", "4": "000000099900", "11": "000124", "14": EXPIRY, "22": "012",
        "25": "00", "49": "156", "60": field60("22", BATCH)}))
    add("sale-0210-declined-51", answer(declined, {
        **echo(declined, 3, 4, 11, 25, 49, 60), **when("093620"), "37": "093620000002", "39": "51"}))
    add("sale-0200-mac", request("0200", {**sale.fields, "11": "000125", "64": "a1b2c3d4e5f60718"}))

    void = add("void-0200", request("0200", {
        "3": "200000", "4": "000000001250", "11": "000126", "22": "012", "25": "00", "37": "093512000001",
        "38": "123456", "49": "156", "60": field60("23", BATCH), "61": field61(BATCH, "000123")}))
    add("void-0210", answer(void, {**echo(void, 3, 4, 11, 25, 37, 49, 60, 61), **when("094000"), "38": "123456", "39": "00"}))

    refund = add("refund-0220", request("0220", {
        "2": PAN19, "3": "200000", "4": "000000000500", "11": "000127", "14": EXPIRY, "22": "012", "25": "00",
        "37": "093512000001", "49": "156", "60": field60("25", BATCH), "61": field61(BATCH, "000123", "0612")}))
    add("refund-0230", answer(refund, {**echo(refund, 3, 4, 11, 25, 49, 60, 61), **when("094100"), "37": "094100000004", "39": "00"}))

    preauth = add("preauth-0100", request("0100", {
        "2": PAN19, "3": "030000", "4": "000000020000", "11": "000128", "14": EXPIRY, "22": "012",
        "25": "06", "49": "156", "60": field60("10", BATCH)}))
    add("preauth-0110", answer(preauth, {
        **echo(preauth, 3, 4, 11, 25, 49, 60), **when("094200"), "37": "094200000005", "38": "654321", "39": "00"}))

    reversal = add("reversal-0400", request("0400", {**echo(sale, 2, 3, 4, 11, 14, 22, 25, 49, 60), "39": "98"}))
    add("reversal-0410", answer(reversal, {**echo(reversal, 3, 4, 11, 25, 49, 60), **when("093540"), "39": "00"}))

    settle60 = field60("00", BATCH, "201")
    ours = Totals(debit_amount=1250, debit_count=1, credit_amount=500, credit_count=1)
    balanced = add("settlement-0500-balanced", request("0500", {
        "11": "000129", "48": field48_totals(ours), "49": "156", "60": settle60, "63": OPERATOR}))
    add("settlement-0510-balanced", answer(balanced, {
        **echo(balanced, 11, 49, 60), **when("180000"), "39": "00", "48": field48_totals(ours, SETTLEMENT_BALANCED)}))
    theirs = Totals(debit_amount=2500, debit_count=2, credit_amount=500, credit_count=1)
    unbalanced = add("settlement-0500-unbalanced", request("0500", {
        "11": "000130", "48": field48_totals(theirs), "49": "156", "60": settle60, "63": OPERATOR}))
    add("settlement-0510-unbalanced", answer(unbalanced, {
        **echo(unbalanced, 11, 49, 60), **when("180001"), "39": "00", "48": field48_totals(theirs, SETTLEMENT_UNBALANCED)}))

    records = [UploadRecord("22", "000123", 1250, "093512000001"), UploadRecord("25", "000127", 500, "094100000004")]
    upload = add("upload-0320", request("0320", {"11": "000131", "48": field48_upload(records), "60": field60("00", BATCH, "201")}))
    add("upload-0330", answer(upload, {**echo(upload, 11, 60), **when("180002"), "39": "00"}))
    close = add("upload-0320-close", request("0320", {"11": "000132", "48": field48_upload([]), "60": field60("00", BATCH, "202")}))
    add("upload-0330-close", answer(close, {**echo(close, 11, 60), **when("180003"), "39": "00"}))

    signoff = add("signoff-0820", request("0820", {"11": "000133", "60": field60("00", BATCH, "002"), "63": OPERATOR}))
    add("signoff-0830", answer(signoff, {**echo(signoff, 11, 60), **when("180010"), "39": "00"}))
    ping = add("echo-0820", request("0820", {"11": "000134", "60": field60("00", BATCH, "301")}))
    add("echo-0830", answer(ping, {**echo(ping, 11, 60), **when("180020"), "39": "00"}))
    return out


def vector(name: str, msg: Message) -> dict:
    fields = {k: msg.fields[k] for k in sorted(msg.fields, key=int)}
    return {"name": name, "hex": frame(msg).hex(), "tpdu": msg.tpdu, "header": msg.header, "mti": msg.mti, "fields": fields}


def build() -> dict:
    return {"tpdu": TPDU, "header": HEADER, "vectors": [vector(n, m) for n, m in pairs()]}


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUT} ({len(build()['vectors'])} vectors)")
