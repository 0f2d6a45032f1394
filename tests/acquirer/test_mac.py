"""The MAC (field 64) and working keys (0810 field 62): mac.py against known values and
mac_vectors.json, and the peer with --mac x919 over TCP."""

from __future__ import annotations

import json
import pathlib
import unittest

import ledger
import mac
import mac_vectors
from profile import Totals, split48_totals
from test_peer import PeerTest, sale, settlement, sign_in

PATH = pathlib.Path(__file__).with_name("mac_vectors.json")
TMK = "00112233445566778899aabbccddeeff"
BAD_CARD = "4000000000000044"


class Algorithm(unittest.TestCase):
    def test_x919_with_equal_halves_is_x9_9s_published_vector(self) -> None:
        key = bytes.fromhex("0123456789abcdef" * 2)
        self.assertEqual(mac.x919(key, b"Now is the time for all ").hex(), "70a30640cc76dd8b")

    def test_x919_pads_with_zero_bytes(self) -> None:
        key = mac_vectors.MAK
        self.assertEqual(mac.x919(key, b"abc"), mac.x919(key, b"abc\0\0\0\0\0"))
        self.assertNotEqual(mac.x919(key, b"abc"), mac.x919(key, b"abd"))

    def test_working_keys_round_trip_and_a_wrong_tmk_fails_the_check_value(self) -> None:
        f62 = mac.working_keys(mac_vectors.TMK, mac_vectors.PIK, mac_vectors.MAK)
        self.assertEqual(len(f62), 40)
        self.assertEqual(mac.mak_of(mac_vectors.TMK, f62), mac_vectors.MAK)
        with self.assertRaises(ValueError):
            mac.mak_of(bytes.fromhex(TMK), f62)

    def test_the_mac_covers_mti_to_before_64_with_bit_64_set(self) -> None:
        msg = sale("000001")
        body = mac.mac_input(msg)
        self.assertEqual(body[:2], bytes.fromhex("0200"))
        self.assertEqual(body[2 + 7] & 0x01, 1, "bit 64 is the bitmap's last bit")
        signed = mac.sign(msg, mac_vectors.MAK)
        self.assertEqual(mac.mac_input(signed), body, "field 64's own value is not covered")
        self.assertTrue(mac.verifies(signed, mac_vectors.MAK))

    def test_the_file_is_what_mac_vectors_py_writes(self) -> None:
        self.assertEqual(json.loads(PATH.read_text()), mac_vectors.build())


class MacOn(PeerTest):
    peer_args = ["--mac", "x919", "--tmk", TMK, "--bad-mac-card", BAD_CARD]

    def signed_in(self, tid: str = "30000001") -> bytes:
        ans = self.ask(sign_in(tid=tid))
        self.assertEqual(ans.get(39), "00")
        self.assertNotIn("64", ans.fields, "network management carries no MAC")
        return mac.mak_of(bytes.fromhex(TMK), bytes.fromhex(ans.get(62)))

    def test_a_signed_sale_is_approved_with_a_mac_on_its_answer(self) -> None:
        mak = self.signed_in()
        ans = self.ask(mac.sign(sale("000010"), mak))
        self.assertEqual(ans.get(39), "00")
        self.assertTrue(mac.verifies(ans, mak))
        settled = self.ask(mac.sign(settlement("000011", Totals(1250, 1, 0, 0)), mak))
        self.assertTrue(mac.verifies(settled, mak))
        self.assertEqual(split48_totals(settled.get(48))[1], "1")

    def test_each_sign_in_brings_a_fresh_key(self) -> None:
        first = self.signed_in()
        second = self.signed_in()
        self.assertNotEqual(first, second)
        self.assertEqual(self.ask(mac.sign(sale("000020"), first)).get(39), "A0")
        self.assertEqual(self.ask(mac.sign(sale("000021"), second)).get(39), "00")

    def test_a_wrong_or_missing_mac_or_no_sign_in_is_a0_without_a_mac_and_books_nothing(self) -> None:
        self.assertEqual(self.ask(sale("000030")).get(39), "A0", "never signed in")
        mak = self.signed_in()
        self.assertEqual(self.ask(sale("000031")).get(39), "A0", "no field 64")
        tampered = mac.sign(sale("000032"), mak)
        tampered.fields["4"] = "000000009999"
        ans = self.ask(tampered)
        self.assertEqual((ans.get(39), ans.get(11)), ("A0", "000032"))
        self.assertNotIn("64", ans.fields)
        settled = self.ask(mac.sign(settlement("000033", Totals(0, 0, 0, 0)), mak))
        self.assertEqual(split48_totals(settled.get(48))[1], "1", "nothing was booked")
        notes = [line for line in self.journal_lines() if line["dir"] == "out" and line.get("mac")]
        self.assertEqual(len(notes), 3)

    def test_the_bad_mac_card_gets_an_answer_whose_mac_is_wrong(self) -> None:
        mak = self.signed_in()
        ans = self.ask(mac.sign(sale("000040", BAD_CARD), mak))
        self.assertEqual(ans.get(39), "00")
        self.assertIn("64", ans.fields)
        self.assertFalse(mac.verifies(ans, mak))

    def test_the_a0_scenario_card_still_answers_a0(self) -> None:
        mak = self.signed_in()
        self.assertEqual(self.ask(mac.sign(sale("000050", ledger.CODE_A0), mak)).get(39), "A0")

    def test_the_journal_hides_the_keys(self) -> None:
        self.signed_in()
        line = self.journal_lines()[1]
        self.assertEqual(line["mti"], "0810")
        self.assertEqual(set(line["fields"]["62"]), {"*"})


class MacOff(PeerTest):
    def test_without_mac_requests_need_no_64_and_answers_carry_none(self) -> None:
        ans = self.ask(sale("000060"))
        self.assertEqual(ans.get(39), "00")
        self.assertNotIn("64", ans.fields)
        self.assertNotIn("62", self.ask(sign_in()).fields)


if __name__ == "__main__":
    unittest.main()
