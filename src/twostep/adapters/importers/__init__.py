"""Token file importers: vendor PSKC (RFC 6030) and CSV files in, validated token records out.

A pure adapter: it reads bytes and returns :class:`TokenRecord` values, all or nothing.
Any problem refuses the whole file with :class:`ImportRefused`, which lists every
problem (CSV: line number; PSKC: key id and serial). Storing the records, checking
serials against stored tokens and resolving ``upn`` are the services' business.
"""

from twostep.adapters.importers.csv_tokens import read_csv, read_csv_lines
from twostep.adapters.importers.pskc import read_pskc
from twostep.adapters.importers.pskc_export import write_pskc
from twostep.adapters.importers.records import ImportProblem, ImportRefused, TokenRecord

__all__ = [
    "ImportProblem",
    "ImportRefused",
    "TokenRecord",
    "read_csv",
    "read_csv_lines",
    "read_pskc",
    "write_pskc",
]
