"""User names: the rule a new name must pass, and the key every lookup compares.

A user is shown by the name as created (its display form) but found by its lookup key, so
"Alice", "ALICE", "alice" typed in full-width letters (U+FF41...) and "josé" typed as
e + U+0301 reach one user and one lockout counter on every interface.

Display form: RFC 8265's UsernameCasePreserved profile (full- and half-width letters mapped
to ordinary ones, then NFC), applied to each word of a name whose words are separated by
single ASCII spaces (RFC 8265 section 3.5).

Refused at creation, so that no two users look alike and no name hides characters:
- what the PRECIS IdentifierClass (RFC 8264) refuses: control and format characters (U+200B,
  U+202E, U+2066...), line and paragraph separators, other spaces, unassigned code points,
  non-characters, non-ASCII symbols and punctuation, compatibility characters (ligatures,
  circled and styled letters), and right-to-left text that breaks the Bidi Rule (RFC 5893);
- names in more than one script (UTS #39, "highly restrictive"): Latin with Cyrillic, as
  in "alice" with a Cyrillic a (U+0430), is refused, while a name wholly in one script
  ("김민준", "алиса") is accepted, and Latin may join Han with Hiragana/Katakana, Bopomofo
  or Hangul, as Japanese, Chinese and Korean names are written; scripts outside those
  Unicode recommends for identifiers (UTS #31) are refused;
- digits of two numbering systems, a word starting with a combining mark, and stacks of
  combining marks (more than four, or one mark twice in a row).

Lookup key: NFKC_Casefold (default-ignorable characters removed, compatibility forms
folded, case-folded), computed for any typed text and never refusing: a name that could not
be created simply finds nobody. ASCII names, nearly all of them, take only ``lower()``.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from twostep.domain.errors import InvalidInput

if TYPE_CHECKING:
    import regex
    from precis_i18n.profile import Profile

MAX_LENGTH = 128
FIELD = "user"

# UTS #31 Table 5, Recommended Scripts: code -> name for messages.
RECOMMENDED_SCRIPTS = {
    "Latn": "Latin",
    "Arab": "Arabic",
    "Armn": "Armenian",
    "Beng": "Bengali",
    "Bopo": "Bopomofo",
    "Cyrl": "Cyrillic",
    "Deva": "Devanagari",
    "Ethi": "Ethiopic",
    "Geor": "Georgian",
    "Grek": "Greek",
    "Gujr": "Gujarati",
    "Guru": "Gurmukhi",
    "Hang": "Hangul",
    "Hani": "Han",
    "Hebr": "Hebrew",
    "Hira": "Hiragana",
    "Kana": "Katakana",
    "Khmr": "Khmer",
    "Knda": "Kannada",
    "Laoo": "Lao",
    "Mlym": "Malayalam",
    "Mymr": "Myanmar",
    "Orya": "Oriya",
    "Sinh": "Sinhala",
    "Taml": "Tamil",
    "Telu": "Telugu",
    "Thaa": "Thaana",
    "Thai": "Thai",
    "Tibt": "Tibetan",
}
# UTS #39 section 5.2: the mixtures "highly restrictive" allows besides a single script.
_CJK_MIXES = (
    ("Latn", "Hani", "Hira", "Kana"),
    ("Latn", "Hani", "Bopo"),
    ("Latn", "Hani", "Hang"),
)
_MAX_MARKS = 4  # UTS #39 section 5.4: longer runs of nonspacing marks are refused

# What the PRECIS library reports (``DISALLOWED/<kind>``), in words for the admin.
_REASONS = {
    "controls": "a control character",
    "precis_ignorable_properties": "an invisible or formatting character, or a non-character",
    "unassigned": "an unassigned code point",
    "spaces": "a space other than one ASCII space between words",
    "symbols": "a symbol (only ASCII symbols are accepted)",
    "punctuation": "punctuation (only ASCII punctuation is accepted)",
    "has_compat": "a compatibility character (ligature, circled or styled letter): "
    "type the plain letters",
    "old_hangul_jamo": "an old Hangul jamo",
    "other_letter_digits": "a title-case letter, a number form or an enclosing mark",
    "other": "a character that is not a letter, digit or ASCII punctuation",
}


class UserName(NamedTuple):
    display: str  # stored and shown
    key: str  # stored (unique per tenant) and compared by every lookup


def name_key(typed: str) -> str:
    """The lookup key of any typed user name; never raises. Cheap for ASCII: the hot path
    of every validation computes it."""
    if typed.isascii():
        return typed.lower()
    text = _ignorable().sub("", typed)
    # NFKC_Casefold is the closure of NFKC over case folding: a few characters need a
    # second round (case folding can produce a compatibility form, and back).
    for _ in range(3):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    return text


def new_user_name(value: str) -> UserName:
    """The display form and lookup key of a new user's name, or ``InvalidInput`` (field
    ``user``) saying what is wrong."""
    if not value:
        _refuse(f"a user name is 1 to {MAX_LENGTH} characters")
    words = value.split(" ")
    if "" in words:
        _refuse("a user name has no leading, trailing or double spaces")
    display = " ".join(_word(word) for word in words)
    if len(display) > MAX_LENGTH:
        _refuse(f"a user name is 1 to {MAX_LENGTH} characters")
    _check_marks(display)
    _check_scripts(display)
    _check_digits(display)
    return UserName(display, name_key(display))


def _word(word: str) -> str:
    try:
        mapped = _patterns().profile.enforce(word)
    except UnicodeEncodeError as exc:
        kind = exc.reason.removeprefix("DISALLOWED/")
        if kind == "bidi_rule":
            _refuse(
                "a user name mixes right-to-left and left-to-right text in a way that can "
                "display misleadingly (RFC 5893 Bidi Rule)"
            )
        if exc.end - exc.start != 1:
            _refuse("this user name cannot be normalised (RFC 8265)")
        char = exc.object[exc.start]
        category = unicodedata.category(char)
        if category in ("Zl", "Zp"):
            what = "a line or paragraph separator"
        elif category == "Zs":
            what = _REASONS["spaces"]
        elif kind in ("zero_width_joiner", "zero_width_nonjoiner"):
            what = "an invisible joiner outside the script context that needs it"
        else:
            what = _REASONS.get(kind, "a character not accepted in user names")
        _refuse(f"a user name holds {_describe(char)}, {what}")
    if unicodedata.category(mapped[0]).startswith("M"):
        _refuse(f"a user name or word starts with a combining mark, {_describe(mapped[0])}")
    return mapped


def _check_marks(display: str) -> None:
    run, previous = 0, ""
    for char in unicodedata.normalize("NFD", display):
        if unicodedata.category(char) in ("Mn", "Me"):
            run += 1
            if run > _MAX_MARKS or char == previous:
                _refuse("a user name stacks combining marks (more than four, or one repeated)")
        else:
            run = 0
        previous = char


def _check_scripts(display: str) -> None:
    patterns = _patterns()
    if patterns.allowed.fullmatch(display):
        return
    found: list[str] = []
    for char in display:
        if patterns.common.match(char):
            continue
        codes = [code for code, one in patterns.scripts.items() if one.match(char)]
        if not codes:
            _refuse(f"a user name holds {_describe(char)}, in a script not accepted in user names")
        if not any(RECOMMENDED_SCRIPTS[code] in found for code in codes):
            found.append(RECOMMENDED_SCRIPTS[codes[0]])
    _refuse(
        f"a user name mixes scripts ({' and '.join(found)}), so it can pass for another: "
        "write it in one script (Latin may join Han, Kana, Bopomofo or Hangul)"
    )


def _check_digits(display: str) -> None:
    zeros = {ord(c) - unicodedata.digit(c) for c in display if unicodedata.category(c) == "Nd"}
    if len(zeros) > 1:
        _refuse("a user name mixes digits of different numbering systems")


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name})" if name else f"U+{ord(char):04X}"


def _refuse(message: str) -> NoReturn:
    raise InvalidInput(message, field=FIELD)


@functools.cache
def _ignorable() -> regex.Pattern[str]:
    # Loaded on first use: a server whose users all have ASCII names never needs it.
    import regex

    return regex.compile(r"\p{Default_Ignorable_Code_Point}")


class _Patterns(NamedTuple):
    profile: Profile  # RFC 8265 UsernameCasePreserved
    common: regex.Pattern[str]
    scripts: dict[str, regex.Pattern[str]]
    allowed: regex.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    # Loaded on first use: only creating a user needs them.
    import precis_i18n
    import regex

    common = r"\p{scx=Zyyy}\p{scx=Zinh}"  # shared by every script (digits, ASCII signs)
    mixes = [(code,) for code in RECOMMENDED_SCRIPTS] + list(_CJK_MIXES)
    allowed = "|".join(
        "[" + "".join(rf"\p{{scx={code}}}" for code in mix) + common + "]+" for mix in mixes
    )
    return _Patterns(
        profile=precis_i18n.get_profile("UsernameCasePreserved"),
        common=regex.compile(f"[{common}]"),
        scripts={code: regex.compile(rf"\p{{scx={code}}}") for code in RECOMMENDED_SCRIPTS},
        allowed=regex.compile(allowed),
    )
