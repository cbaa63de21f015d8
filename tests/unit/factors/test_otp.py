"""HOTP (RFC 4226) and TOTP (RFC 6238): the RFC figures, windows, look-ahead, and input parsing."""

from __future__ import annotations

import base64

import pytest

from twostep.domain.entities import OtpAlgorithm, OtpParams, OtpType
from twostep.factors import otp

# RFC 4226 Appendix D and RFC 6238 Appendix B: the ASCII seeds the RFCs use, one per hash,
# each as long as that hash's output.
RFC_SEEDS = {
    OtpAlgorithm.SHA1: b"12345678901234567890",
    OtpAlgorithm.SHA256: b"12345678901234567890123456789012",
    OtpAlgorithm.SHA512: b"1234567890123456789012345678901234567890123456789012345678901234",
}
SEED = RFC_SEEDS[OtpAlgorithm.SHA1]
HOTP6 = OtpParams(type=OtpType.HOTP)
TOTP6 = OtpParams(type=OtpType.TOTP)

RFC4226_APPENDIX_D = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]

RFC6238_APPENDIX_B = [
    (59, OtpAlgorithm.SHA1, "94287082"),
    (59, OtpAlgorithm.SHA256, "46119246"),
    (59, OtpAlgorithm.SHA512, "90693936"),
    (1111111109, OtpAlgorithm.SHA1, "07081804"),
    (1111111109, OtpAlgorithm.SHA256, "68084774"),
    (1111111109, OtpAlgorithm.SHA512, "25091201"),
    (1111111111, OtpAlgorithm.SHA1, "14050471"),
    (1111111111, OtpAlgorithm.SHA256, "67062674"),
    (1111111111, OtpAlgorithm.SHA512, "99943326"),
    (1234567890, OtpAlgorithm.SHA1, "89005924"),
    (1234567890, OtpAlgorithm.SHA256, "91819424"),
    (1234567890, OtpAlgorithm.SHA512, "93441116"),
    (2000000000, OtpAlgorithm.SHA1, "69279037"),
    (2000000000, OtpAlgorithm.SHA256, "90698825"),
    (2000000000, OtpAlgorithm.SHA512, "38618901"),
    (20000000000, OtpAlgorithm.SHA1, "65353130"),
    (20000000000, OtpAlgorithm.SHA256, "77737706"),
    (20000000000, OtpAlgorithm.SHA512, "47863826"),
]

NOW = 1_800_000_000.0  # a step boundary for 30 s: step 60_000_000


def code_at(step: int, params: OtpParams = TOTP6, seed: bytes = SEED) -> str:
    return otp.hotp(seed, params, step)


class TestRfc4226:
    @pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226_APPENDIX_D)))
    def test_hotp_generates_the_appendix_d_values(self, counter: int, expected: str) -> None:
        assert otp.hotp(SEED, HOTP6, counter) == expected

    @pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226_APPENDIX_D)))
    def test_each_appendix_d_value_matches_exactly_its_counter(
        self, counter: int, expected: str
    ) -> None:
        assert otp.match_hotp(SEED, HOTP6, expected, counter=counter, lookahead=0) == counter

    def test_a_look_ahead_finds_every_appendix_d_value_from_counter_zero(self) -> None:
        found = [otp.match_hotp(SEED, HOTP6, c, counter=0, lookahead=9) for c in RFC4226_APPENDIX_D]
        assert found == list(range(10))


class TestRfc6238:
    def test_the_rfc_seeds_are_as_long_as_each_hash_output(self) -> None:
        assert {alg: len(seed) for alg, seed in RFC_SEEDS.items()} == {
            OtpAlgorithm.SHA1: 20,
            OtpAlgorithm.SHA256: 32,
            OtpAlgorithm.SHA512: 64,
        }
        assert {alg: len(seed) for alg, seed in RFC_SEEDS.items()} == otp.SEED_BYTES

    @pytest.mark.parametrize(("now", "algorithm", "expected"), RFC6238_APPENDIX_B)
    def test_totp_generates_the_appendix_b_values(
        self, now: int, algorithm: OtpAlgorithm, expected: str
    ) -> None:
        params = OtpParams(algorithm=algorithm, digits=8, period=30)
        assert otp.hotp(RFC_SEEDS[algorithm], params, otp.time_step(now, 30)) == expected

    @pytest.mark.parametrize(("now", "algorithm", "expected"), RFC6238_APPENDIX_B)
    def test_each_appendix_b_value_matches_its_time_step_with_no_window(
        self, now: int, algorithm: OtpAlgorithm, expected: str
    ) -> None:
        params = OtpParams(algorithm=algorithm, digits=8, period=30)
        step = otp.match_totp(RFC_SEEDS[algorithm], params, expected, now, window=0)
        assert step == now // 30

    def test_an_appendix_b_value_does_not_match_under_another_hash(self) -> None:
        params = OtpParams(algorithm=OtpAlgorithm.SHA256, digits=8)
        assert otp.match_totp(RFC_SEEDS[OtpAlgorithm.SHA256], params, "94287082", 59, 0) is None

    def test_the_time_step_counts_whole_periods_since_the_epoch(self) -> None:
        assert otp.time_step(0, 30) == 0
        assert otp.time_step(29.999, 30) == 0
        assert otp.time_step(30, 30) == 1
        assert otp.time_step(59, 60) == 0
        assert otp.time_step(NOW, 30) == 60_000_000


class TestMatchingAgreesWithCryptography:
    """``match_counter`` computes HOTP itself (the standard library's one-shot HMAC, for
    speed); ``hotp`` is cryptography's. Both must give the same code for every hash, length
    of seed, number of digits and counter, down to codes with leading zeros."""

    @pytest.mark.parametrize("algorithm", list(OtpAlgorithm))
    @pytest.mark.parametrize("digits", [6, 7, 8])
    @pytest.mark.parametrize("length", [10, 20, 64, 128])
    def test_every_code_of_cryptographys_hotp_matches_its_counter_only(
        self, algorithm: OtpAlgorithm, digits: int, length: int
    ) -> None:
        seed = bytes((7 * i + length) % 256 for i in range(length))
        params = OtpParams(type=OtpType.HOTP, algorithm=algorithm, digits=digits)
        counters = [0, 1, 2, 255, 256, 65_535, 2**31 - 1, 2**32 + 5, 2**63 - 1]
        for counter in counters:
            code = otp.hotp(seed, params, counter)
            assert len(code) == digits
            low = max(counter - 3, 0)
            found = otp.match_counter(seed, params, code, low, counter)
            # An earlier counter of the few tried may give the same code (1 in 10**digits).
            assert found == counter or otp.hotp(seed, params, found or 0) == code

    def test_a_code_with_leading_zeros_matches(self) -> None:
        params = OtpParams(type=OtpType.HOTP)
        counter = next(c for c in range(10_000) if otp.hotp(SEED, params, c).startswith("0"))
        code = otp.hotp(SEED, params, counter)
        assert otp.match_counter(SEED, params, code, counter, counter) == counter
        assert otp.match_counter(SEED, params, code.lstrip("0"), counter, counter) is None


class TestTotpWindow:
    @pytest.mark.parametrize("offset", [-1, 0, 1])
    def test_the_current_step_and_one_either_side_match_with_window_one(self, offset: int) -> None:
        step = otp.time_step(NOW, 30)
        matched = otp.match_totp(SEED, TOTP6, code_at(step + offset), NOW, window=1)
        assert matched == step + offset

    @pytest.mark.parametrize("offset", [-2, 2, 10])
    def test_steps_outside_the_window_do_not_match(self, offset: int) -> None:
        step = otp.time_step(NOW, 30)
        assert otp.match_totp(SEED, TOTP6, code_at(step + offset), NOW, window=1) is None

    @pytest.mark.parametrize("offset", [-1, 1])
    def test_window_zero_accepts_only_the_current_step(self, offset: int) -> None:
        step = otp.time_step(NOW, 30)
        assert otp.match_totp(SEED, TOTP6, code_at(step), NOW, window=0) == step
        assert otp.match_totp(SEED, TOTP6, code_at(step + offset), NOW, window=0) is None

    def test_a_wider_window_reaches_further(self) -> None:
        step = otp.time_step(NOW, 30)
        assert otp.match_totp(SEED, TOTP6, code_at(step - 3), NOW, window=3) == step - 3
        assert otp.match_totp(SEED, TOTP6, code_at(step - 4), NOW, window=3) is None

    def test_the_step_changes_exactly_at_the_period_boundary(self) -> None:
        step = otp.time_step(NOW, 30)
        just_before = NOW - 0.001
        assert otp.match_totp(SEED, TOTP6, code_at(step - 1), just_before, window=0) == step - 1
        assert otp.match_totp(SEED, TOTP6, code_at(step), just_before, window=0) is None

    def test_a_sixty_second_period_uses_sixty_second_steps(self) -> None:
        params = OtpParams(period=60)
        step = otp.time_step(NOW, 60)
        assert step == 30_000_000
        assert otp.match_totp(SEED, params, code_at(step, params), NOW + 59, window=0) == step

    @pytest.mark.parametrize("drift", [-5, 3])
    def test_drift_moves_the_window_to_the_tokens_clock(self, drift: int) -> None:
        step = otp.time_step(NOW, 30)
        token_code = code_at(step + drift)
        assert otp.match_totp(SEED, TOTP6, token_code, NOW, window=0, drift=drift) == step + drift
        assert otp.match_totp(SEED, TOTP6, token_code, NOW, window=0) is None

    def test_with_drift_the_servers_own_step_is_no_longer_in_a_narrow_window(self) -> None:
        step = otp.time_step(NOW, 30)
        assert otp.match_totp(SEED, TOTP6, code_at(step), NOW, window=1, drift=5) is None

    def test_a_window_reaching_before_the_epoch_is_cut_at_step_zero(self) -> None:
        assert otp.match_totp(SEED, TOTP6, code_at(0), 10, window=2) == 0
        assert otp.match_totp(SEED, TOTP6, code_at(0), 10, window=2, drift=-5) is None

    def test_a_wrong_code_does_not_match(self) -> None:
        step = otp.time_step(NOW, 30)
        wrong = f"{(int(code_at(step)) + 1) % 1_000_000:06d}"
        assert otp.match_totp(SEED, TOTP6, wrong, NOW, window=0) is None

    def test_a_typed_code_with_spaces_matches(self) -> None:
        step = otp.time_step(NOW, 30)
        code = code_at(step)
        assert otp.match_totp(SEED, TOTP6, f"{code[:3]} {code[3:]}", NOW, window=0) == step

    def test_an_eight_digit_code_does_not_match_six_digit_params(self) -> None:
        step = otp.time_step(NOW, 30)
        eight = otp.hotp(SEED, OtpParams(digits=8), step)
        assert otp.match_totp(SEED, TOTP6, eight, NOW, window=0) is None
        # Dynamic truncation: the 6-digit code is the 8-digit code's last six digits.
        assert eight[-6:] == code_at(step)


class TestHotpLookahead:
    def test_the_expected_counter_matches(self) -> None:
        assert otp.match_hotp(SEED, HOTP6, RFC4226_APPENDIX_D[3], counter=3, lookahead=10) == 3

    def test_a_counter_within_the_look_ahead_matches_and_is_returned(self) -> None:
        code = otp.hotp(SEED, HOTP6, 13)
        assert otp.match_hotp(SEED, HOTP6, code, counter=3, lookahead=10) == 13

    def test_a_counter_past_the_look_ahead_does_not_match(self) -> None:
        code = otp.hotp(SEED, HOTP6, 14)
        assert otp.match_hotp(SEED, HOTP6, code, counter=3, lookahead=10) is None

    def test_a_counter_before_the_expected_one_is_spent(self) -> None:
        assert otp.match_hotp(SEED, HOTP6, RFC4226_APPENDIX_D[2], counter=3, lookahead=10) is None

    def test_look_ahead_zero_accepts_only_the_expected_counter(self) -> None:
        assert otp.match_hotp(SEED, HOTP6, RFC4226_APPENDIX_D[4], counter=3, lookahead=0) is None
        assert otp.match_hotp(SEED, HOTP6, RFC4226_APPENDIX_D[3], counter=3, lookahead=0) == 3

    def test_eight_digit_hotp_codes_match(self) -> None:
        params = OtpParams(type=OtpType.HOTP, digits=8)
        code = otp.hotp(SEED, params, 7)
        assert len(code) == 8
        assert code.endswith(RFC4226_APPENDIX_D[7])  # the same truncation, two more digits
        assert otp.match_hotp(SEED, params, code, counter=0, lookahead=10) == 7


class TestFindConsecutive:
    def test_two_consecutive_codes_give_the_counter_of_the_first(self) -> None:
        first, second = RFC4226_APPENDIX_D[5], RFC4226_APPENDIX_D[6]
        assert otp.find_consecutive(SEED, HOTP6, first, second, 0, 9) == 5

    def test_codes_in_reverse_order_are_not_consecutive(self) -> None:
        first, second = RFC4226_APPENDIX_D[6], RFC4226_APPENDIX_D[5]
        assert otp.find_consecutive(SEED, HOTP6, first, second, 0, 9) is None

    def test_codes_with_a_gap_are_not_consecutive(self) -> None:
        first, second = RFC4226_APPENDIX_D[5], RFC4226_APPENDIX_D[7]
        assert otp.find_consecutive(SEED, HOTP6, first, second, 0, 9) is None

    def test_the_same_code_twice_is_not_consecutive(self) -> None:
        code = RFC4226_APPENDIX_D[5]
        assert otp.find_consecutive(SEED, HOTP6, code, code, 0, 9) is None

    def test_the_range_is_inclusive_at_both_ends(self) -> None:
        d = RFC4226_APPENDIX_D
        assert otp.find_consecutive(SEED, HOTP6, d[3], d[4], 3, 3) == 3
        assert otp.find_consecutive(SEED, HOTP6, d[8], d[9], 3, 8) == 8  # second code past end

    def test_a_pair_starting_outside_the_range_is_not_found(self) -> None:
        d = RFC4226_APPENDIX_D
        assert otp.find_consecutive(SEED, HOTP6, d[2], d[3], 3, 9) is None
        assert otp.find_consecutive(SEED, HOTP6, d[8], d[9], 0, 7) is None

    def test_a_range_starting_below_zero_is_cut_at_zero(self) -> None:
        d = RFC4226_APPENDIX_D
        assert otp.find_consecutive(SEED, HOTP6, d[0], d[1], -100, 100) == 0

    def test_a_far_drifted_pair_is_found_in_a_large_range(self) -> None:
        first, second = otp.hotp(SEED, HOTP6, 500), otp.hotp(SEED, HOTP6, 501)
        assert otp.find_consecutive(SEED, HOTP6, first, second, 0, 1000) == 500

    def test_malformed_codes_are_never_consecutive(self) -> None:
        d = RFC4226_APPENDIX_D
        assert otp.find_consecutive(SEED, HOTP6, "abc", d[1], 0, 9) is None
        assert otp.find_consecutive(SEED, HOTP6, d[0], "1234567", 0, 9) is None

    def test_typed_separators_are_ignored(self) -> None:
        assert otp.find_consecutive(SEED, HOTP6, "755 224", "287-082", 0, 9) == 0


class TestNormalizeCode:
    @pytest.mark.parametrize(
        ("typed", "digits", "expected"),
        [
            ("123456", 6, b"123456"),
            ("123 456", 6, b"123456"),
            ("123-456", 6, b"123456"),
            (" 12 34 56 ", 6, b"123456"),
            ("1234-5678", 8, b"12345678"),
            ("000000", 6, b"000000"),
        ],
    )
    def test_spaces_and_dashes_are_ignored(self, typed: str, digits: int, expected: bytes) -> None:
        assert otp.normalise_code(typed, digits) == expected

    @pytest.mark.parametrize(
        ("typed", "digits"),
        [
            ("", 6),
            ("12345", 6),
            ("1234567", 6),
            ("123456", 8),
            ("12345a", 6),
            ("abcdef", 6),
            ("12345.6", 6),
            ("+12345", 6),
            ("123\t456", 6),
            ("\u0661\u0662\u0663\u0664\u0665\u0666", 6),  # Arabic-Indic digits
            ("\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6", 6),  # extended Arabic-Indic digits
            ("\uff11\uff12\uff13\uff14\uff15\uff16", 6),  # full-width digits
            ("12345\u0666", 6),  # one non-ASCII digit among ASCII ones
            ("12345\u00b2", 6),  # a superscript two
        ],
    )
    def test_anything_but_exactly_the_digits_is_refused(self, typed: str, digits: int) -> None:
        assert otp.normalise_code(typed, digits) is None


RFC_SEED_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"


class TestParseSeed:
    @pytest.mark.parametrize(
        "written",
        [
            RFC_SEED_B32,
            RFC_SEED_B32.lower(),
            "GezdGnbvGY3tqojqGEZDGNBVgy3tqojq",
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
            "gezd-gnbv-gy3t-qojq-gezd-gnbv-gy3t-qojq",
            f"  {RFC_SEED_B32}\n",
            "hex:3132333435363738393031323334353637383930",
            "HEX:3132333435363738393031323334353637383930",
            "hex:31 32 33 34 35 36 37 38 39 30 31 32 33 34 35 36 37 38 39 30",
            "hex:3132333435363738393031323334353637383930".upper(),
        ],
    )
    def test_the_rfc_seed_in_every_accepted_spelling(self, written: str) -> None:
        assert otp.parse_seed(written) == SEED

    @pytest.mark.parametrize("length", [10, 15, 16, 20, 32, 64, 128])
    def test_base32_with_and_without_padding(self, length: int) -> None:
        seed = bytes(range(length))
        padded = base64.b32encode(seed).decode()
        assert otp.parse_seed(padded) == seed
        assert otp.parse_seed(padded.rstrip("=")) == seed

    def test_an_80_bit_seed_is_the_shortest_accepted(self) -> None:
        assert otp.parse_seed("hex:" + "ab" * 10) == b"\xab" * 10
        with pytest.raises(ValueError, match="10 to 128 bytes"):
            otp.parse_seed("hex:" + "ab" * 9)

    def test_a_1024_bit_seed_is_the_longest_accepted(self) -> None:
        assert otp.parse_seed(base64.b32encode(b"x" * 128).decode()) == b"x" * 128
        with pytest.raises(ValueError, match="10 to 128 bytes"):
            otp.parse_seed(base64.b32encode(b"x" * 129).decode())

    @pytest.mark.parametrize(
        ("written", "message"),
        [
            ("", "10 to 128 bytes"),
            ("   ", "10 to 128 bytes"),
            ("hex:", "10 to 128 bytes"),
            ("AAAAAAAA", "10 to 128 bytes"),  # 5 bytes
            ("GEZDGNBVGY3TQOJ1", "not valid base32"),  # 1 is not a base32 letter
            ("GEZDGNBVGY3TQOJ0", "not valid base32"),
            ("GEZDGNBVGY3TQOJQ8", "not valid base32"),
            ("GEZDGNBV=GY3TQOJQ", "not valid base32"),  # padding in the middle
            ("A" * 17, "not valid base32"),  # a length no byte string encodes to
            ("GEZDGNBVGY3TQOJQ\u00e9", "not valid base32"),
            ("GEZDGNBVGY3TQOJQ_", "not valid base32"),
            ("hex:zz" + "00" * 10, "not valid hex"),
            ("hex:" + "0" * 21, "not valid hex"),  # an odd number of hex digits
            ("0x3132333435363738393031323334353637383930", "not valid base32"),
        ],
    )
    def test_invalid_secrets_are_refused_with_a_reason(self, written: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            otp.parse_seed(written)


class TestSeedsAndEncoding:
    @pytest.mark.parametrize("algorithm", list(OtpAlgorithm))
    def test_a_new_seed_is_as_long_as_the_hash_output_and_random(
        self, algorithm: OtpAlgorithm
    ) -> None:
        first, second = otp.new_seed(algorithm), otp.new_seed(algorithm)
        assert len(first) == len(second) == otp.SEED_BYTES[algorithm]
        assert first != second

    @pytest.mark.parametrize("length", [10, 20, 32, 64])
    def test_b32encode_drops_the_padding_and_round_trips_through_parse_seed(
        self, length: int
    ) -> None:
        seed = bytes(range(100, 100 + length))
        written = otp.b32encode(seed)
        assert "=" not in written
        assert written == base64.b32encode(seed).decode().rstrip("=")
        assert otp.parse_seed(written) == seed

    def test_the_rfc_seed_in_base32(self) -> None:
        assert otp.b32encode(SEED) == RFC_SEED_B32
