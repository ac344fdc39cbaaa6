"""Mapping events to persons through the attributions in ``case.toml`` (vectorised).

An identifier is never a person: only ``case.toml`` says which identifiers are
attributed to whom, with a basis. A device exhibit can be attributed too
(``device:DI/5``, "the handset the victim handed over"): then an outgoing record
on that exhibit whose sender the source does not give is taken as sent from that
device, and a record with no recipients that is incoming, or was sent by someone
else (a chat export), as received by it; the ``*_basis`` columns say
``device_exhibit`` so the statement can state the assumption.

Identity hints from extractions (``atlas.hints``) are not used here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from atlas.case import Case


def _device_owner(case: Case) -> dict[str, str]:
    """Return exhibit reference -> person id for ``device:<ref>`` attributions."""
    return {v.removeprefix("device:"): pid for v, pid in case.identifier_owner().items() if v.startswith("device:")}


def attribute(events: pd.DataFrame, case: Case) -> pd.DataFrame:
    """Return a frame aligned with ``events``: ``sender_person``, ``recipient_persons``, and their bases.

    ``sender_person`` is a person id or None; ``recipient_persons`` a sorted tuple of ids;
    ``sender_basis`` / ``recipient_basis`` are ``identifier``, ``device_exhibit`` or None.
    """
    owners = case.identifier_owner()
    devices = _device_owner(case)
    sender = events["sender"].map(owners) if "sender" in events else pd.Series(None, index=events.index)
    sender = sender.astype(object).where(sender.notna(), None)
    sender_basis = pd.Series(np.where(sender.notna(), "identifier", None), index=events.index, dtype=object)

    def recips(values: object) -> tuple[str, ...]:
        if values is None or (isinstance(values, float) and np.isnan(values)):
            return ()
        return tuple(sorted({owners[v] for v in values if v in owners}))

    recipients = events["recipients"].map(recips) if "recipients" in events else pd.Series(
        [()] * len(events), index=events.index, dtype=object)
    recipient_basis = pd.Series(np.where(recipients.map(len) > 0, "identifier", None), index=events.index,
                                dtype=object)
    if devices and "exhibit_ref" in events and "direction" in events:
        owner = events["exhibit_ref"].map(devices)
        no_sender = events["sender"].isna() if "sender" in events else True
        fill_sender = owner.notna() & (events["direction"] == "outgoing") & sender.isna() & no_sender
        sender = sender.where(~fill_sender, owner)
        sender_basis = sender_basis.where(~fill_sender, "device_exhibit")
        raw_recips = events["recipients"].map(lambda r: 0 if r is None else len(r)) if "recipients" in events else 0
        # A record on the owner's device with no recipients, sent by someone other than the
        # owner (or marked incoming), was received by that device: a chat export lists the
        # other party's messages without naming the device's own account as recipient.
        raw_sender = events["sender"].notna() if "sender" in events else False
        received = (events["direction"] == "incoming") | (
            (events["direction"] == "unknown") & raw_sender & (sender.isna() | (sender != owner)))
        fill_recip = owner.notna() & received & (raw_recips == 0)
        recipients = recipients.where(~fill_recip, owner.map(lambda p: (p,) if isinstance(p, str) else ()))
        recipient_basis = recipient_basis.where(~fill_recip, "device_exhibit")
    return pd.DataFrame({"sender_person": sender, "sender_basis": sender_basis,
                         "recipient_persons": recipients, "recipient_basis": recipient_basis},
                        index=events.index)


def role_ids(case: Case, role: str) -> frozenset[str]:
    """Return the ids of the persons with ``role`` (suspect, victim, other)."""
    return frozenset(p.id for p in case.persons if p.role == role)


def sent_by(events: pd.DataFrame, case: Case, role: str, attributed: pd.DataFrame | None = None) -> pd.Series:
    """Return a boolean mask: the event's sender is attributed to a person with ``role``."""
    attributed = attribute(events, case) if attributed is None else attributed
    return attributed["sender_person"].isin(role_ids(case, role))


def sent_to(events: pd.DataFrame, case: Case, role: str, attributed: pd.DataFrame | None = None) -> pd.Series:
    """Return a boolean mask: a recipient is attributed to a person with ``role``."""
    attributed = attribute(events, case) if attributed is None else attributed
    ids = role_ids(case, role)
    return attributed["recipient_persons"].map(lambda ps: any(p in ids for p in ps)).astype(bool)
