"""User names: which names a new user may have, and which typed variants find them."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twostep.domain.errors import InvalidInput
from twostep.domain.names import MAX_LENGTH, name_key, new_user_name

CYRILLIC_A = "\u0430"  # looks exactly like Latin "a"
FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"
FULL_WIDTH_ALICE_CAPS = "\uff21\uff2c\uff29\uff23\uff25"
NFD_JOSE = "jose\u0301"  # e + COMBINING ACUTE ACCENT
NFC_JOSE = "jos\u00e9"


@pytest.mark.parametrize(
    "name",
    [
        "alice",
        "Alice",
        "alice@example.com",
        "DOMAIN\\alice",
        "o'brien",
        "anne-marie",
        "j.smith",
        "Alice Smith",  # words separated by one ASCII space (RFC 8265 section 3.5)
        NFC_JOSE,
        "Stra\u00dfe",
        "\uae40\ubbfc\uc900",  # Korean, all Hangul
        "\u0430\u043b\u0438\u0441\u0430",  # Cyrillic, all of it
        "\u03b1\u03bb\u03af\u03ba\u03b7",  # Greek, all of it
        "\u05e9\u05dc\u05d5\u05dd",  # Hebrew, right to left
        "\u7530\u4e2d\u305f\u308d\u3046",  # Japanese: Han with Hiragana
        "kim\uae40\ubbfc\uc900",  # Latin may join Hangul
        "user42",
        "x" * MAX_LENGTH,
    ],
)
def test_allowed_names_are_kept_as_typed(name: str) -> None:
    display, key = new_user_name(name)
    assert display == name
    assert key == name_key(name)


@pytest.mark.parametrize(
    ("typed", "display"),
    [
        (NFD_JOSE, NFC_JOSE),  # NFC
        (FULL_WIDTH_ALICE, "alice"),  # full width mapped to ordinary letters (RFC 8265)
        (FULL_WIDTH_ALICE_CAPS, "ALICE"),
        ("\u212avin", "Kvin"),  # KELVIN SIGN is a K by canonical equivalence
    ],
)
def test_display_form_is_normalised(typed: str, display: str) -> None:
    assert new_user_name(typed).display == display


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "1 to 128 characters"),
        ("x" * (MAX_LENGTH + 1), "1 to 128 characters"),
        ("a\u0085b", "U+0085, a control character"),  # NEXT LINE
        ("a\x00b", "U+0000, a control character"),
        ("a\u202eb", "U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible or formatting"),
        ("a\u2066b", "U+2066 (LEFT-TO-RIGHT ISOLATE), an invisible or formatting"),
        ("a\u200bb", "U+200B (ZERO WIDTH SPACE), an invisible or formatting"),
        ("a\u00adb", "U+00AD (SOFT HYPHEN), an invisible or formatting"),
        ("ali\ufe0fce", "VARIATION SELECTOR-16), an invisible or formatting"),
        ("a\u2028b", "U+2028 (LINE SEPARATOR), a line or paragraph separator"),
        ("a\u2029b", "U+2029 (PARAGRAPH SEPARATOR), a line or paragraph separator"),
        ("a\u0378b", "U+0378, an unassigned code point"),
        ("a\ufdd0b", "U+FDD0, an invisible or formatting character, or a non-character"),
        ("a\uffffb", "U+FFFF, an invisible or formatting character, or a non-character"),
        ("a\u00a0b", "U+00A0 (NO-BREAK SPACE), a space other than one ASCII space"),
        ("alice\u3000x", "U+3000 (IDEOGRAPHIC SPACE), a space other than one ASCII space"),
        (" alice", "no leading, trailing or double spaces"),
        ("alice ", "no leading, trailing or double spaces"),
        ("alice  smith", "no leading, trailing or double spaces"),
        ("\ufb01le", "U+FB01 (LATIN SMALL LIGATURE FI), a compatibility character"),
        ("\u2460alice", "U+2460 (CIRCLED DIGIT ONE), a compatibility character"),
        ("alice\u2764", "U+2764 (HEAVY BLACK HEART), a symbol"),
        ("alice\u00bb", "punctuation (only ASCII punctuation"),
        (CYRILLIC_A + "lice", "mixes scripts (Cyrillic and Latin)"),
        ("p" + CYRILLIC_A + "ypal", "mixes scripts (Latin and Cyrillic)"),
        ("\u03bc-admin", "mixes scripts (Greek and Latin)"),
        ("\u13aalice", "U+13AA (CHEROKEE LETTER GO), in a script not accepted"),
        ("abc\u05e9", "right-to-left and left-to-right"),  # RFC 5893 Bidi Rule
        ("\u0928\u092e1\u0967", "digits of different numbering systems"),  # 1 and Devanagari 1
        ("\u0301alice", "starts with a combining mark"),
        ("alice \u0301x", "starts with a combining mark"),
        ("e\u0301\u0301", "stacks combining marks"),
        ("a" + "\u0300\u0301\u0302\u0303\u0304", "stacks combining marks"),
    ],
)
def test_refused_names_say_why(name: str, why: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_user_name(name)
    assert refused.value.field == "user"
    assert why in refused.value.message


@pytest.mark.parametrize(
    "variant", ["Alice", "ALICE", "alice", "aLiCe", FULL_WIDTH_ALICE, FULL_WIDTH_ALICE_CAPS]
)
def test_case_and_width_variants_share_one_key(variant: str) -> None:
    assert name_key(variant) == new_user_name("Alice").key == "alice"


def test_canonically_equivalent_names_share_one_key() -> None:
    assert name_key(NFD_JOSE) == name_key(NFC_JOSE) == name_key("JOS\u00c9")


def test_invisible_characters_typed_at_sign_in_are_ignored() -> None:
    assert name_key("ali\u200bce") == name_key("al\u00adice") == "alice"


def test_a_look_alike_from_another_script_has_its_own_key() -> None:
    assert name_key(CYRILLIC_A + "lice") != name_key("alice")


def test_the_key_of_anything_typed_is_computed_without_refusing() -> None:
    for typed in ("a\x00b", "\ud800", "\u202e", "", "x" * 10_000, "\ufdfa" * 3):
        assert isinstance(name_key(typed), str)


@given(st.text(max_size=40))
def test_the_key_is_stable_under_normalisation_and_its_own_folding(typed: str) -> None:
    key = name_key(typed)
    assert name_key(key) == key
    assert name_key(unicodedata.normalize("NFD", typed)) == key
    assert name_key(unicodedata.normalize("NFKC", typed)) == key


def test_ascii_names_need_no_unicode_tables() -> None:
    """The server's memory: regex and the PRECIS tables load only for non-ASCII names."""
    script = (
        "import sys\n"
        "from twostep.domain.names import name_key\n"
        "assert name_key('Alice') == 'alice'\n"
        "assert not {'regex', 'precis_i18n'} & set(sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
