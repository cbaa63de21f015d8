"""Token file importers: vendor PSKC (RFC 6030) and CSV files in, validated token records out.

A pure adapter: it reads bytes and returns :class:`TokenRecord` values, all or nothing.
:func:`read_token_file` decides the layout from the content (PSKC, CSV, oathcsv, the
YubiKey Personalization Tool's log). Any problem refuses the whole file with
:class:`ImportRefused`, which lists every problem (CSV: line number; PSKC: key id and
serial, else the key's position). Storing the records, checking
serials against stored tokens and resolving ``upn`` are the services' business.
"""

from twostep.adapters.importers.csv_tokens import read_csv, read_csv_lines
from twostep.adapters.importers.layouts import FORMATS, Format, detect
from twostep.adapters.importers.oath_csv import read_oath_csv
from twostep.adapters.importers.pskc import read_pskc, read_pskc_file
from twostep.adapters.importers.pskc_export import write_pskc
from twostep.adapters.importers.pskc_opener import MacOptions
from twostep.adapters.importers.records import ImportProblem, ImportRefused, TokenRecord
from twostep.adapters.importers.token_file import read_token_file
from twostep.adapters.importers.yubico_csv import read_yubico

__all__ = [
    "FORMATS",
    "Format",
    "ImportProblem",
    "ImportRefused",
    "MacOptions",
    "TokenRecord",
    "detect",
    "read_csv",
    "read_csv_lines",
    "read_oath_csv",
    "read_pskc",
    "read_pskc_file",
    "read_token_file",
    "read_yubico",
    "write_pskc",
]
