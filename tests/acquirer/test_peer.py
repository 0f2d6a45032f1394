"""The peer's own tests: each scenario over TCP against a peer started as a subprocess.

Requests are built with profile.py (pyiso8583) and read back the same way; each test gets a
fresh peer on a free port and a fresh journal, stopped by its PID in tearDown.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import ledger
from profile import (
    SETTLEMENT_BALANCED,
    SETTLEMENT_UNBALANCED,
    Message,
    Totals,
    UploadRecord,
    field48_totals,
    field48_upload,
    field60,
    field61,
    frame,
    processing_requirement,
    split48_totals,
    unframe,
)

HERE = pathlib.Path(__file__).parent
TPDU, HEADER = "6000030000", "603100000000"
TID, MID, BATCH = "30000001", "898310048160001", "000001"
HOLD_MS = 600
CARD = "6222021234567890128"
KEYS = "00112233445566778899aabbccddeeff01020304"


def request(mti: str, fields: dict[str, str], tid: str = TID) -> Message:
    return Message(TPDU, HEADER, mti, {"41": tid, "42": MID, **fields})


def sale(trace: str, pan: str = CARD, amount: int = 1250, tid: str = TID, mti: str = "0200") -> Message:
    kind, proc, cond = ("10", "030000", "06") if mti == "0100" else ("22", "000000", "00")
    return request(mti, {
        "2": pan, "3": proc, "4": f"{amount:012d}", "11": trace, "14": "2912", "22": "012", "25": cond,
        "49": "156", "60": field60(kind, BATCH)}, tid)


def void(trace: str, of: Message, answer: Message, amount: int | None = None) -> Message:
    return request("0200", {
        "3": "200000", "4": f"{amount or int(of.fields['4']):012d}", "11": trace, "22": "012", "25": "00",
        "37": answer.fields["37"], "38": answer.fields.get("38", "000000"), "49": "156",
        "60": field60("23", BATCH), "61": field61(BATCH, of.fields["11"])})


def refund(trace: str, of: Message, answer: Message, amount: int, date: str | None = None) -> Message:
    """61.3 is the sale's settlement day, field 15 of its answer."""
    return request("0220", {
        "3": "200000", "4": f"{amount:012d}", "11": trace, "22": "012", "25": "00", "37": answer.fields["37"],
        "49": "156", "60": field60("25", BATCH), "61": field61(BATCH, of.fields["11"], date or answer.fields["15"])})


def preauth_void(trace: str, of: Message, answer: Message, amount: int | None = None) -> Message:
    """R20: 0100, 25 = 06, 38 and 61 of the hold, no 37."""
    return request("0100", {
        "3": "200000", "4": f"{amount or int(of.fields['4']):012d}", "11": trace, "22": "012", "25": "06",
        "38": answer.fields["38"], "49": "156", "60": field60("11", BATCH), "61": field61(BATCH, of.fields["11"])})


def completion(trace: str, of: Message, answer: Message, amount: int, tid: str = TID, auth: str | None = None) -> Message:
    """R20: as a sale, 25 = 06, 60.1 = 20, plus 38 and 61 (with 61.3) of the hold."""
    msg = sale(trace, amount=amount, tid=tid)
    msg.fields.update({"25": "06", "38": auth or answer.fields["38"], "60": field60("20", BATCH),
                       "61": field61(BATCH, of.fields["11"], answer.fields["15"])})
    return msg


def completion_void(trace: str, of: Message, answer: Message) -> Message:
    """R20: 0200/200000, 25 = 06, 37, 38 and 61 of the completion."""
    return request("0200", {
        "3": "200000", "4": of.fields["4"], "11": trace, "22": "012", "25": "06", "37": answer.fields["37"],
        "38": answer.fields["38"], "49": "156", "60": field60("21", BATCH), "61": field61(BATCH, of.fields["11"])})


def reversal(of: Message, reason: str = "98") -> Message:
    keep = {k: v for k, v in of.fields.items() if k in ("2", "3", "4", "11", "14", "22", "25", "49", "60", "61")}
    return request("0400", {**keep, "39": reason})


def settlement(trace: str, totals: Totals) -> Message:
    return request("0500", {"11": trace, "48": field48_totals(totals), "49": "156",
                            "60": field60("00", BATCH, "201"), "63": "01 "})


def sign_in(trace: str = "000001", batch: str = BATCH, tid: str = TID) -> Message:
    return request("0800", {"11": trace, "60": field60("00", batch, "003"), "63": "01 "}, tid)


class Link:
    """One TCP connection to the peer; reads a frame as the host must: 2 bytes, then exactly N."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reads = 0

    def send(self, msg: Message, split: int | None = None) -> None:
        data = frame(msg)
        if split is None:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), split):
            self.sock.sendall(data[i : i + split])
            time.sleep(0.002)

    def _exactly(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError(f"closed after {len(buf)} of {n} bytes")
            self.reads += 1
            buf += chunk
        return buf

    def receive(self) -> Message:
        head = self._exactly(2)
        return unframe(head + self._exactly(int.from_bytes(head, "big")))

    def close(self) -> None:
        self.sock.close()


class PeerTest(unittest.TestCase):
    peer_args: list[str] = []

    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.journal = pathlib.Path(self.dir.name) / "journal.jsonl"
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "peer.py"), "--listen", "127.0.0.1:0", "--journal", str(self.journal),
             "--hold-ms", str(HOLD_MS), *self.peer_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        line = self.proc.stdout.readline()
        self.assertTrue(line.startswith("listening on 127.0.0.1:"), line + self.proc.stderr.read() if not line else line)
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.links: list[Link] = []

    def tearDown(self) -> None:
        for link in self.links:
            link.close()
        self.proc.kill()  # this peer's PID only
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.dir.cleanup()

    def link(self) -> Link:
        link = Link(self.port)
        self.links.append(link)
        return link

    def ask(self, msg: Message, split: int | None = None) -> Message:
        """One exchange on a connection of its own, as the host's per-request mode does."""
        link = self.link()
        link.send(msg, split)
        ans = link.receive()
        link.close()
        self.links.remove(link)
        return ans

    def journal_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.journal.read_text().splitlines()]

    def assertSettles(self, totals: Totals, flag: str) -> None:
        ans = self.ask(settlement("000098", totals))
        self.assertEqual((ans.mti, ans.get(39)), ("0510", "00"))
        got, got_flag = split48_totals(ans.get(48))
        self.assertEqual((got, got_flag), (totals, flag))


class Management(PeerTest):
    peer_args = ["--keys", KEYS, "--resign", "30000002"]

    def test_sign_in_answers_00_echoes_the_batch_and_gives_keys(self) -> None:
        ans = self.ask(sign_in(batch="000042"))
        self.assertEqual((ans.mti, ans.get(39), ans.get(11), ans.get(41)), ("0810", "00", "000001", TID))
        self.assertEqual(ans.get(60), field60("00", "000042", "003"))
        self.assertEqual(ans.get(62), KEYS)
        self.assertEqual((ans.tpdu, ans.header), ("6000000003", HEADER))

    def test_sign_off_and_echo_answer_0830(self) -> None:
        for network in ("002", "301"):
            ans = self.ask(request("0820", {"11": "000009", "60": field60("00", BATCH, network)}))
            self.assertEqual((ans.mti, ans.get(39), ans.get(60)[8:]), ("0830", "00", network))

    def test_sign_in_again_flags_the_next_answer_only(self) -> None:
        tid = "30000002"
        self.assertEqual(processing_requirement(self.ask(sign_in(tid=tid)).header), 0)
        first = self.ask(sale("000002", tid=tid))
        self.assertEqual((first.get(39), processing_requirement(first.header)), ("00", 3))
        self.assertEqual(processing_requirement(self.ask(sale("000003", tid=tid)).header), 0)
        self.assertEqual(processing_requirement(self.ask(sale("000004")).header), 0)
        ins = [line for line in self.journal_lines() if line["dir"] == "in" and line["fields"]["41"] == tid]
        self.assertEqual([line["signed_in"] for line in ins], [False, True, False])


class BatchAssigned(PeerTest):
    peer_args = ["--batch", "000777"]

    def test_sign_in_answer_carries_the_batch_the_peer_assigns(self) -> None:
        self.assertEqual(self.ask(sign_in()).get(60), field60("00", "000777", "003"))


# A settlement day that is not today's calendar day, as after the acquirer's own cut-off.
SETTLEMENT_DAY = "0101" if time.strftime("%m%d") != "0101" else "0102"


class SettlementDate(PeerTest):
    peer_args = ["--settlement-date", SETTLEMENT_DAY]

    def test_field_15_is_the_settlement_day_and_a_refunds_61_3_must_name_it(self) -> None:
        req = sale("000090", amount=3000)
        ans = self.ask(req)
        self.assertEqual((ans.get(39), ans.get(15)), ("00", SETTLEMENT_DAY))
        self.assertNotEqual(ans.get(13), SETTLEMENT_DAY)
        # The calendar day the sale was made on is not its settlement day: not found.
        self.assertEqual(self.ask(refund("000091", req, ans, 100, date=ans.fields["13"])).get(39), "25")
        refunded = self.ask(refund("000092", req, ans, 100))
        self.assertEqual((refunded.get(39), refunded.get(15)), ("00", SETTLEMENT_DAY))
        self.assertSettles(Totals(3000, 1, 100, 1), SETTLEMENT_BALANCED)


class Sales(PeerTest):
    def test_approved_sale_gets_rrn_auth_code_times_and_swapped_tpdu(self) -> None:
        req = sale("000010")
        ans = self.ask(req)
        self.assertEqual((ans.mti, ans.get(39), ans.get(11), ans.get(4), ans.get(41)), ("0210", "00", "000010", "000000001250", TID))
        self.assertRegex(ans.get(37), r"^\d{12}$")
        self.assertRegex(ans.get(38), r"^\d{6}$")
        for f in (12, 13, 15):
            self.assertIsNotNone(ans.get(f))
        self.assertEqual((ans.tpdu, ans.header), ("6000000003", HEADER))
        self.assertNotIn("2", ans.fields)

    def test_simulator_cards_are_declined_with_their_codes(self) -> None:
        for trace, (pan, code) in enumerate(ledger.DECLINED.items(), start=20):
            ans = self.ask(sale(f"{trace:06d}", pan))
            self.assertEqual(ans.get(39), code, pan)
            self.assertNotIn("38", ans.fields)

    def test_scenario_codes_94_98_a0_and_none_is_booked(self) -> None:
        for trace, (pan, code) in enumerate(ledger.SCENARIO_CODES.items(), start=30):
            self.assertEqual(self.ask(sale(f"{trace:06d}", pan)).get(39), code)
        self.assertBalanced(Totals(0, 0, 0, 0))

    def test_an_answer_without_field_41(self) -> None:
        ans = self.ask(sale("000040", ledger.NO_41))
        self.assertEqual(ans.get(39), "00")
        self.assertNotIn("41", ans.fields)

    def test_one_byte_writes_arrive_whole_and_a_split_request_is_read_whole(self) -> None:
        link = self.link()
        link.send(sale("000041", ledger.BYTEWISE), split=3)
        ans = link.receive()
        self.assertEqual((ans.get(39), ans.get(11)), ("00", "000041"))
        self.assertGreater(link.reads, 4, "the answer came in one piece")

    def test_dropped_mid_frame_then_the_reversal_takes_the_sale_out(self) -> None:
        req = sale("000042", ledger.DROP)
        link = self.link()
        link.send(req)
        with self.assertRaises(EOFError):
            link.receive()
        self.assertBalanced(Totals(1250, 1, 0, 0))
        self.assertEqual(self.ask(reversal(req)).get(39), "00")
        self.assertBalanced(Totals(0, 0, 0, 0), trace="000091")

    def test_duplicate_sale_is_94(self) -> None:
        self.assertEqual(self.ask(sale("000043")).get(39), "00")
        self.assertEqual(self.ask(sale("000043")).get(39), "94")

    def test_pre_authorisation_is_approved_and_not_in_the_totals(self) -> None:
        ans = self.ask(sale("000044", mti="0100"))
        self.assertEqual((ans.mti, ans.get(39), ans.get(25)), ("0110", "00", "06"))
        self.assertBalanced(Totals(0, 0, 0, 0))

    def assertBalanced(self, totals: Totals, trace: str = "000090") -> None:
        ans = self.ask(settlement(trace, totals))
        self.assertEqual(split48_totals(ans.get(48))[1], SETTLEMENT_BALANCED, ans.get(48))


class HeldAnswers(PeerTest):
    def test_held_answer_is_overtaken_on_a_persistent_link_and_reversed_meanwhile(self) -> None:
        link = self.link()
        held = sale("000050", ledger.HELD)
        started = time.monotonic()
        link.send(held)
        link.send(sale("000051"))
        first = link.receive()
        self.assertEqual((first.get(11), first.get(39)), ("000051", "00"))
        # The reversal on a connection of its own overtakes the held answer.
        self.assertEqual(self.ask(reversal(held)).get(39), "00")
        late = link.receive()
        self.assertGreaterEqual(time.monotonic() - started, HOLD_MS / 1000 * 0.9)
        self.assertEqual((late.get(11), late.get(39)), ("000050", "00"))
        ans = self.ask(settlement("000052", Totals(1250, 1, 0, 0)))
        self.assertEqual(split48_totals(ans.get(48))[1], SETTLEMENT_BALANCED)

    def test_reversal_is_idempotent_and_may_come_before_its_original(self) -> None:
        req = sale("000060")
        for _ in range(3):
            ans = self.ask(reversal(req))
            self.assertEqual((ans.mti, ans.get(39), ans.get(11)), ("0410", "00", "000060"))
        self.assertEqual(self.ask(req).get(39), "00")
        ans = self.ask(settlement("000061", Totals(0, 0, 0, 0)))
        self.assertEqual(split48_totals(ans.get(48))[1], SETTLEMENT_BALANCED)


class Silent(PeerTest):
    peer_args = ["--silent", "0400"]

    def test_a_silent_mti_is_journaled_and_never_answered_nor_booked(self) -> None:
        req = sale("000065")
        self.assertEqual(self.ask(req).get(39), "00")
        link = self.link()
        link.send(reversal(req))
        link.sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            link.receive()
        # Not booked either: the sale still counts.
        ans = self.ask(settlement("000066", Totals(1250, 1, 0, 0)))
        self.assertEqual(split48_totals(ans.get(48))[1], SETTLEMENT_BALANCED)
        self.assertIn({"dir": "silent", "mti": "0400", "trace": "000065"},
                      [{k: l.get(k) for k in ("dir", "mti", "trace")} for l in self.journal_lines()])


class VoidsAndRefunds(PeerTest):
    def test_void_by_original_data_then_again_then_unknown(self) -> None:
        req = sale("000070")
        ans = self.ask(req)
        self.assertEqual(self.ask(void("000071", req, ans)).get(39), "00")
        self.assertEqual(self.ask(void("000072", req, ans)).get(39), "12")
        self.assertEqual(self.ask(void("000073", req, ans, amount=1)).get(39), "25")
        missing = request("0200", {**req.fields, "11": "000099"})
        self.assertEqual(self.ask(void("000074", missing, ans)).get(39), "25")
        self.assertSettles(Totals(0, 0, 0, 0), SETTLEMENT_BALANCED)

    def test_reversed_void_puts_the_sale_back(self) -> None:
        req = sale("000075")
        ans = self.ask(req)
        v = void("000076", req, ans)
        self.assertEqual(self.ask(v).get(39), "00")
        self.assertEqual(self.ask(reversal(v)).get(39), "00")
        self.assertSettles(Totals(1250, 1, 0, 0), SETTLEMENT_BALANCED)

    def test_refund_by_rrn_and_61_is_answered_again_when_resent(self) -> None:
        req = sale("000080", amount=2000)
        ans = self.ask(req)
        r = refund("000081", req, ans, 500)
        first = self.ask(r)
        self.assertEqual((first.mti, first.get(39)), ("0230", "00"))
        again = self.ask(r)
        self.assertEqual((again.get(39), again.get(37)), ("00", first.get(37)))
        self.assertEqual(self.ask(refund("000082", req, ans, 1501)).get(39), "61")
        wrong_rrn = Message(ans.tpdu, ans.header, ans.mti, {**ans.fields, "37": "999999999999"})
        self.assertEqual(self.ask(refund("000083", req, wrong_rrn, 1)).get(39), "25")
        self.assertSettles(Totals(2000, 1, 500, 1), SETTLEMENT_BALANCED)

    def test_unbalanced_settlement_then_upload_and_close(self) -> None:
        req = sale("000085")
        ans = self.ask(req)
        self.assertSettles(Totals(99, 1, 0, 0), SETTLEMENT_UNBALANCED)
        rec = UploadRecord("22", req.fields["11"], 1250, ans.get(37))
        up = self.ask(request("0320", {"11": "000087", "48": field48_upload([rec]), "60": field60("00", BATCH, "201")}))
        self.assertEqual((up.mti, up.get(39)), ("0330", "00"))
        close = self.ask(request("0320", {"11": "000088", "48": field48_upload([]), "60": field60("00", BATCH, "202")}))
        self.assertEqual((close.mti, close.get(39)), ("0330", "00"))
        notes = [line for line in self.journal_lines() if line["dir"] == "out" and line["mti"] == "0330"]
        self.assertEqual((notes[0]["unknown"], notes[1]["not_uploaded"]), ([], []))


class PreAuthorisation(PeerTest):
    """R20 upstream: 0100 for a hold and its void, 0200 for a completion and its void, each with
    25 = 06; what names a hold carries its 38 and 61."""

    def hold(self, trace: str, amount: int = 10000, tid: str = TID) -> tuple[Message, Message]:
        req = sale(trace, amount=amount, tid=tid, mti="0100")
        ans = self.ask(req)
        self.assertEqual((ans.mti, ans.get(39), ans.get(25)), ("0110", "00", "06"))
        return req, ans

    def test_completion_over_115_percent_is_61_and_a_hold_completes_once(self) -> None:
        req, ans = self.hold("000200")
        self.assertEqual(self.ask(completion("000201", req, ans, 11501)).get(39), "61")
        done = self.ask(completion("000202", req, ans, 11500))
        self.assertEqual((done.mti, done.get(39), done.get(25)), ("0210", "00", "06"))
        self.assertEqual(self.ask(completion("000203", req, ans, 100)).get(39), "12")
        # Debit: the completion, not the hold.
        self.assertSettles(Totals(11500, 1, 0, 0), SETTLEMENT_BALANCED)

    def test_completion_void_and_reversals_give_the_hold_back(self) -> None:
        req, ans = self.hold("000210")
        first = completion("000211", req, ans, 9000)
        first_ans = self.ask(first)
        void = completion_void("000212", first, first_ans)
        self.assertEqual(self.ask(void).get(39), "00")
        second = completion("000213", req, ans, 9500)
        self.assertEqual(self.ask(second).get(39), "00")
        self.assertEqual(self.ask(reversal(second)).get(39), "00")
        # The reversed completion reopened the hold; reversing the void would not leave two.
        third = completion("000214", req, ans, 9800)
        self.assertEqual(self.ask(third).get(39), "00")
        self.assertSettles(Totals(9800, 1, 0, 0), SETTLEMENT_BALANCED)

    def test_pre_auth_void_releases_the_hold(self) -> None:
        req, ans = self.hold("000220")
        self.assertEqual(self.ask(preauth_void("000221", req, ans, 9999)).get(39), "25", "full amount only")
        released = self.ask(preauth_void("000222", req, ans))
        self.assertEqual((released.mti, released.get(39), released.get(38)), ("0110", "00", ans.get(38)))
        self.assertEqual(self.ask(completion("000223", req, ans, 100)).get(39), "25")
        self.assertEqual(self.ask(reversal(preauth_void("000222", req, ans))).get(39), "00")
        self.assertEqual(self.ask(completion("000224", req, ans, 100)).get(39), "00")

    def test_a_hold_is_completed_at_another_terminal_of_the_merchant_by_its_auth_code(self) -> None:
        req, ans = self.hold("000230")
        wrong = completion("000231", req, ans, 100, tid="30000009", auth="999999")
        self.assertEqual(self.ask(wrong).get(39), "25")
        other = self.ask(completion("000232", req, ans, 100, tid="30000009"))
        self.assertEqual((other.get(39), other.get(41)), ("00", "30000009"))

    def test_field_25_and_38_are_checked(self) -> None:
        req, ans = self.hold("000240")
        bad = completion("000241", req, ans, 100)
        bad.fields["25"] = "00"
        self.assertEqual(self.ask(bad).get(39), "30")
        no_38 = completion("000242", req, ans, 100)
        del no_38.fields["38"]
        self.assertEqual(self.ask(no_38).get(39), "30")
        wrong_mti = sale("000243", mti="0100")
        wrong_mti.mti = "0200"
        self.assertEqual(self.ask(wrong_mti).get(39), "30")


class Journal(PeerTest):
    def test_the_journal_never_holds_a_card_number_or_expiry(self) -> None:
        self.ask(sign_in())
        self.ask(sale("000100"))
        self.ask(sale("000101", "4000000000000002"))
        text = self.journal.read_text()
        for secret in (CARD, "4000000000000002", "2912"):
            self.assertNotIn(secret, text)
        lines = self.journal_lines()
        self.assertEqual([(l["dir"], l["mti"]) for l in lines],
                         [("in", "0800"), ("out", "0810"), ("in", "0200"), ("out", "0210"), ("in", "0200"), ("out", "0210")])
        self.assertEqual(lines[2]["fields"]["2"], "622202*********0128")
        self.assertEqual(lines[2]["fields"]["14"], "****")

    def test_a_request_it_cannot_answer_gets_96(self) -> None:
        bad = request("0500", {"11": "000102", "48": "123", "49": "156", "60": field60("00", BATCH, "201")})
        ans = self.ask(bad)
        self.assertEqual((ans.mti, ans.get(39), ans.get(11)), ("0510", "96", "000102"))

    def test_a_frame_the_profile_refuses_closes_the_connection(self) -> None:
        link = self.link()
        link.sock.sendall(b"\x00\x03abc")
        with self.assertRaises(EOFError):
            link.receive()
        self.assertIn("error", self.journal_lines()[0])


if __name__ == "__main__":
    unittest.main()
