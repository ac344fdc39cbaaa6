"""Identity hints: what the devices themselves say about numbers and accounts.

Extraction parsers record two kinds of hint, in ``extra["hint"]`` of an event:

* ``contact`` — a contact saved on the handset: the name it was saved under
  (``"Do not answer"``, ``"Ex"``) and the numbers, addresses and ids it holds;
* ``device_own_identifier`` / ``device_account`` — a number, IMEI, IMSI or account
  the extraction reports as the handset's own.

Hints are leads for the analyst. They never change ``case.toml``: an identifier
is attributed to a person only there, with a basis the analyst states. This
module lists the hints beside the current attributions so that agreements and
conflicts are visible.
"""

from __future__ import annotations

import json

import pandas as pd

from atlas.case import Case
from atlas.store import load_events

COLUMNS = ("identifier", "hint", "label", "attributed_to", "exhibit_ref", "source_path", "locator",
           "event_id")
HINT_KINDS = ("contact", "device_own_identifier", "device_account")


def identity_hints(case: Case) -> pd.DataFrame:
    """Return one row per (hint, identifier), sorted, with the case.toml attribution beside it."""
    frame = load_events(case.root, columns=["event_id", "kind", "exhibit_ref", "source_path", "locator", "extra"])
    frame = frame[frame["kind"].isin(("contact", "device_info")) & frame["extra"].notna()]
    owners = case.identifier_owner()
    rows: list[dict[str, str]] = []
    # Loops run over contact and device records only: a handful per extraction, not every event.
    for rec in frame.itertuples(index=False):
        extra = json.loads(rec.extra)
        hint = extra.get("hint")
        if hint not in HINT_KINDS:
            continue
        if hint == "contact":
            idents = extra.get("identifiers") or []
            label = extra.get("saved_name") or ""
        else:
            idents = [extra["identifier"]] if extra.get("identifier") else []
            label = str(extra.get("name") or "")
        for ident in idents:
            rows.append({"identifier": ident, "hint": hint, "label": label,
                         "attributed_to": owners.get(ident, ""), "exhibit_ref": rec.exhibit_ref,
                         "source_path": rec.source_path, "locator": rec.locator, "event_id": rec.event_id})
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    return out.sort_values(["identifier", "hint", "exhibit_ref", "locator", "event_id"], kind="stable"
                           ).reset_index(drop=True)
