"""Cheap recognition of a CDR production by one of the shipped profiles' header rows."""

from __future__ import annotations

import csv

from parsers._cdr_csv_profile import shipped


def sniff(head: bytes, filename: str) -> bool:
    """Return True when one of the first rows of ``head`` is a shipped profile's header row.

    Only CSV is recognised: an XLSX production is chosen with ``--format cdr_csv``.
    """
    if not head or head.startswith(b"PK\x03\x04"):
        return False
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if len(head) >= 65536 and lines:
        lines = lines[:-1]  # the last line may be cut short by the head limit
    for profile in shipped():
        rows = csv.reader(lines[: profile.title_rows_max + 1], delimiter=profile.delimiter)
        try:
            if any(profile.matches(row) for row in rows):
                return True
        except csv.Error:
            continue
    return False
