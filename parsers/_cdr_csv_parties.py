"""Who called or messaged whom in one CDR row (``cdr_csv``).

The target MSISDN is the device's own number. With target/other columns an
outgoing record has sender = target and recipients = (other,), an incoming
one the reverse. With A/B columns the sender is A and the recipient B. Every
oddity that keeps the record is a flag (see ``parsers/cdr_csv.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atlas.identifiers import Ident
from parsers._cdr_csv_profile import Profile
from parsers._cdr_csv_table import cell_text
from parsers._cdr_csv_values import read_number


def parties(cell: Callable[[str], Any], event: str, direction: str, p: Profile, region: str,
            title_target: str | None, flags: list[str],
            extra: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """Return (sender, recipients) from the target/other or A/B columns, flagging oddities."""
    target_raw = cell_text(cell("target")) if "target" in p.columns else (title_target or "")
    target = read_number(target_raw, p, region) if target_raw else None
    if target is not None:
        extra["target"] = target.value
        if not target.parsed:
            flags.append("target_unparsed_number")
    raws: dict[str, str] = {}
    ends: tuple[Ident | None, Ident | None] | None = None
    if "other" in p.columns:
        raws["other_party_raw"] = other_raw = cell_text(cell("other"))
        own, other = target, read_number(other_raw, p, region)
        if direction in ("outgoing", "incoming"):
            ends = (own, other) if direction == "outgoing" else (other, own)
    else:
        raws["a_party_raw"] = a_raw = cell_text(cell("a_party"))
        raws["b_party_raw"] = b_raw = cell_text(cell("b_party"))
        a, b = read_number(a_raw, p, region), read_number(b_raw, p, region)
        own, other, other_raw = (a, b, b_raw) if direction == "outgoing" else (b, a, a_raw)
        if direction in ("outgoing", "incoming"):
            ends = (a, b)
            if own is not None and target is not None and own.value != target.value:
                flags.append("target_mismatch")
            elif own is not None and not own.parsed and "target_unparsed_number" not in flags:
                flags.append("target_unparsed_number")
    if event == "data" or ends is None:
        extra.update({k: v for k, v in raws.items() if v})
        return None, ()
    if own is None:
        flags.append("target_unknown")
    if other is None:
        flags.append("party_withheld")
        if other_raw:
            extra["other_party_raw"] = other_raw
    elif not other.parsed:
        flags.append("party_unparsed_number")
    sender, recipient = ends
    return (sender.value if sender else None), ((recipient.value,) if recipient else ())
