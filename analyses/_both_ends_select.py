"""The two sides both_ends compares: anonymous contact received, and the suspect's outgoing records.

*Received side*: incoming calls and SMS whose receiver is attributed to a victim (by her
number, or because the exhibit is a device attributed to her) and whose sender is not
given (withheld, "Private", no number) or is attributed to no person in case.toml.

*Sending side*: outgoing calls and SMS to a number attributed to a victim (a ``141`` or
``1470`` prefix before it is set aside, see ``_clock_agreement_ends``) that are the
suspect's by case.toml: the sender is attributed to a suspect (basis ``identifier``) or the
exhibit is a device attributed to a suspect (basis ``device_exhibit``).

Both sides get ``corrected_ms``: the recorded time less the exhibit's clock offset when one
was estimated and offsets are applied, else the recorded time.
"""

from __future__ import annotations

import pandas as pd

from atlas.attribution import role_ids
from atlas.case import Case


def victim_numbers(case: Case) -> tuple[str, ...]:
    """Return the telephone numbers attributed to a victim, sorted."""
    ids = role_ids(case, "victim")
    return tuple(
        sorted(v for v, p in case.identifier_owner().items() if p in ids and v.startswith("tel:"))
    )


def suspect_devices(case: Case) -> dict[str, str]:
    """Return exhibit reference -> suspect id for devices attributed to a suspect."""
    ids = role_ids(case, "suspect")
    return {
        v.removeprefix("device:"): p
        for v, p in case.identifier_owner().items()
        if p in ids and v.startswith("device:")
    }


def _corrected(frame: pd.DataFrame, offsets_ms: dict[str, int]) -> pd.DataFrame:
    offset = frame["exhibit_ref"].map(offsets_ms).fillna(0).astype("int64")
    return frame.assign(offset_ms=offset, corrected_ms=frame["t_ms"] - offset)


def received(
    ends: pd.DataFrame, att: pd.DataFrame, case: Case, offsets_ms: dict[str, int]
) -> pd.DataFrame:
    """Return the received side, one row per record and victim number it may have reached.

    ``att`` is ``atlas.attribution.attribute(events, case)`` indexed by event id.

    A record naming its receiver keeps that number; one naming none (a handset's own
    number is implicit) is offered once for each of the victim's numbers.
    """
    victims = role_ids(case, "victim")
    owners = case.identifier_owner()
    inc = ends.loc[ends["direction"] == "incoming"]
    to_victim = (
        att.loc[inc["event_id"], "recipient_persons"]
        .map(lambda ps: any(p in victims for p in ps))
        .to_numpy(dtype=bool)
    )
    anonymous = inc["originator"].isna() | ~inc["originator"].isin(list(owners))
    out = inc.loc[to_victim & anonymous.to_numpy()].copy()
    out["category"] = out["originator"].map(lambda o: "withheld" if o is None else "unattributed")
    numbers = victim_numbers(case)
    named = out.loc[out["receiver"].isin(numbers)].assign(victim_number=lambda f: f["receiver"])
    blank = out.loc[out["receiver"].isna()]
    offered = [blank.assign(victim_number=n) for n in numbers]  # one copy per number: a few
    out = pd.concat([named, *offered], ignore_index=True)
    out = out.sort_values(["t_ms", "exhibit_ref", "event_id", "victim_number"], kind="stable")
    return _corrected(out.reset_index(drop=True), offsets_ms)


def sent(
    ends: pd.DataFrame, att: pd.DataFrame, case: Case, offsets_ms: dict[str, int]
) -> pd.DataFrame:
    """Return the sending side (``to_victim``) and the suspect's other outgoing records.

    Column ``basis`` is ``identifier`` or ``device_exhibit``; ``person`` the suspect's id;
    ``to_victim`` whether the receiver is one of the victim's numbers.
    """
    suspects = role_ids(case, "suspect")
    devices = suspect_devices(case)
    out = ends.loc[ends["direction"] == "outgoing"].copy()
    person = pd.Series(att.loc[out["event_id"], "sender_person"].to_numpy(), index=out.index)
    how = pd.Series(att.loc[out["event_id"], "sender_basis"].to_numpy(), index=out.index)
    by_sender = person.where(person.isin(list(suspects)) & (how == "identifier"), None)
    by_device = out["exhibit_ref"].map(devices)
    # The number first: when both apply, the number is the narrower basis.
    out["person"] = by_sender.where(by_sender.notna(), by_device)
    out["basis"] = pd.Series("identifier", index=out.index).where(
        by_sender.notna(), "device_exhibit"
    )
    out = out.loc[out["person"].notna()]
    out["to_victim"] = out["receiver"].isin(victim_numbers(case))
    out = out.sort_values(["t_ms", "exhibit_ref", "event_id"], kind="stable").reset_index(drop=True)
    return _corrected(out, offsets_ms)
