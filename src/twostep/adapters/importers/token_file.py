"""One entry for every token file: its layout detected from the content (or named by the
operator), then read by that layout's reader. The CLI and the API both come here."""

from __future__ import annotations

import dataclasses

from twostep.adapters.importers.csv_tokens import read_csv
from twostep.adapters.importers.layouts import Format, detect
from twostep.adapters.importers.oath_csv import read_oath_csv
from twostep.adapters.importers.pskc import read_pskc_file
from twostep.adapters.importers.pskc_opener import MacOptions
from twostep.adapters.importers.records import ImportRefused
from twostep.adapters.importers.yubico_csv import read_yubico
from twostep.domain.token_imports import ImportProgress, no_progress
from twostep.domain.tokens import TokenFile


def read_token_file(
    data: bytes,
    fmt: Format | None = None,
    *,
    key: bytes | None = None,
    password: str | None = None,
    options: MacOptions = MacOptions(),  # noqa: B008 - frozen
    progress: ImportProgress = no_progress,
) -> TokenFile:
    """The tokens of a file in any understood layout, or ImportRefused listing why not.

    ``progress`` hears of a PSKC file's bytes parsed, then of each key checked. The CSV
    readers (100,000 rows in about 3 s) have no per-row hook: a CSV file's reading is one
    phase of unknown length, its rows counted only as they are stored."""
    layout = fmt or detect(data)
    if layout == "pskc":
        read = read_pskc_file(data, key=key, password=password, options=options, progress=progress)
    elif key is not None or password is not None:
        raise ImportRefused.single(
            f"the file reads as {layout}, which is never encrypted: a key or password is "
            "for PSKC files (name the format if the file is PSKC)"
        )
    elif layout == "oathcsv":
        read = read_oath_csv(data)
    elif layout == "yubico":
        read = read_yubico(data)
    else:
        read = TokenFile(read_csv(data))
    return dataclasses.replace(read, layout=layout)
