"""PSKC files as large as an upload may be: hostile ones are refused in a small multiple
of their size in memory, with ``import_refused`` and the limit named; large legitimate
ones still import, in memory that follows their size.

Memory is the peak RSS of a fresh process importing the file, above the loaded file
itself (``big_pskc.measure_import``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.adapters.importers import big_pskc
from tests.unit.adapters.importers.big_pskc import MiB, measure_import
from twostep.adapters.importers import read_pskc
from twostep.adapters.importers.pskc import MAX_PROBLEMS
from twostep.domain.entities import OtpType
from twostep.interfaces.http.limits import MAX_UPLOAD


def refusal(measured: big_pskc.Measured) -> str:
    """The one reason a whole file was refused for."""
    assert measured.code == "import_refused"
    ((where, reason),) = measured.problems
    assert where == "file"
    return reason


# --- hostile files as large as an upload may be -------------------------------------

LIMIT_REFUSED = {
    # The file: 16 million ordinary elements, 2.4 GB as an ElementTree.
    "elements": "more than 1,000 elements other than KeyPackage in the root element",
    "key_packages": "more than 1,000,000 KeyPackage elements",
    "in_key_package": "more than 1,000 elements in one child of the root",
    "keys_in_one_package": "more than 1,000 elements in one child of the root",
    "nested": "elements nested more than 32 deep",
    "attributes": "a tag, comment or instruction longer than 65,536 bytes",
    "comment": "a tag, comment or instruction longer than 65,536 bytes",
    "text": "more than 65,536 characters of text in one element",
}


@pytest.mark.parametrize("kind", sorted(LIMIT_REFUSED))
def test_a_flood_as_large_as_an_upload_is_refused_by_a_limit(tmp_path: Path, kind: str) -> None:
    measured = measure_import(big_pskc.flood(tmp_path / "flood.pskc", kind, MAX_UPLOAD))
    assert measured.size == MAX_UPLOAD
    reason = refusal(measured)
    assert LIMIT_REFUSED[kind] in reason
    assert "denial-of-service" in reason
    assert measured.peak < MAX_UPLOAD // 8  # before: 36 times the file, 2.4 GB


def test_a_flood_of_broken_keys_stops_at_the_listed_problems(tmp_path: Path) -> None:
    measured = measure_import(big_pskc.flood(tmp_path / "keys.pskc", "keys", MAX_UPLOAD))
    assert measured.code == "import_refused"
    assert len(measured.problems) == MAX_PROBLEMS + 1
    assert "serial number is missing" in measured.problems[0][1]
    assert measured.problems[-1] == (
        "file",
        f"more than {MAX_PROBLEMS} problems: the rest of the file was not checked",
    )
    assert measured.peak < MAX_UPLOAD // 8


def test_keys_held_until_their_macs_are_checked_cost_a_small_multiple_of_the_file(
    tmp_path: Path,
) -> None:
    # The most the import keeps per byte: tiny keys with an encrypted value each, all
    # kept until every MAC is checked. (Smaller than an upload: python-pskc reads each
    # key at about 10,000 keys a second.)
    path = big_pskc.flood(tmp_path / "sealed.pskc", "sealed_keys", 2 * MiB)
    measured = measure_import(path, key=bytes(16))
    assert "does not say how it is encrypted" in refusal(measured)
    assert measured.peak < 3 * measured.size


# --- legitimate files -------------------------------------------------------------------


def test_a_large_vendor_file_imports_in_memory_that_follows_its_size(tmp_path: Path) -> None:
    measured = measure_import(big_pskc.tokens(tmp_path / "plain.pskc", 10_000))
    assert measured.records == 10_000
    assert measured.peak < 2 * measured.size  # the records themselves are most of it


def test_an_encrypted_vendor_file_imports_in_memory_that_follows_its_size(
    tmp_path: Path,
) -> None:
    path = big_pskc.tokens(tmp_path / "encrypted.pskc", 10_000, encrypted=True)
    measured = measure_import(path, key=big_pskc.PRE_SHARED_KEY)
    assert measured.records == 10_000
    assert measured.peak < 2 * measured.size


def test_the_generated_vendor_files_are_what_they_claim(tmp_path: Path) -> None:
    path = big_pskc.tokens(tmp_path / "encrypted.pskc", 3, encrypted=True)
    records = read_pskc(path.read_bytes(), key=big_pskc.PRE_SHARED_KEY)
    assert [(r.serial, r.seed) for r in records] == [
        (big_pskc.serial(n), big_pskc.seed(n)) for n in range(3)
    ]
    plain = read_pskc(big_pskc.tokens(tmp_path / "plain.pskc", 2).read_bytes())
    assert [r.params.type for r in plain] == [OtpType.TOTP, OtpType.TOTP]
