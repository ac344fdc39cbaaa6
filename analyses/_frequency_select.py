"""Selecting contacts and replies, and the dated marks, for ``frequency``.

A *contact* is a communication record attributed (``atlas.attribution``) as sent by a
suspect and received by a victim. A *reply* is one sent by a victim and received by a
suspect; a victim's record with no recipient on the source (a chat export lists the
device owner's own messages without a recipient) also counts when it sits in a thread
of the same exhibit in which every other attributed or unattributed sender is a
suspect's identifier (``reply_basis`` = ``thread``), so group chats never count.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from atlas.attribution import attribute, role_ids
from atlas.case import Case

CONTACT_KINDS = ("call", "sms", "mms", "chat_message", "email", "social_interaction")
REFERENCE_KINDS = ("contact", "device_info", "cell_site")
SELECT_COLUMNS = ("event_id", "timestamp_utc", "channel", "kind", "exhibit_ref", "source_sha256", "seq",
                  "sender", "thread", "text")
ORDER = ["timestamp_utc", "exhibit_ref", "source_sha256", "seq"]
"""The store's own total order: records with the same time keep their order in the source."""


def select(events: pd.DataFrame, case: Case) -> tuple[pd.DataFrame, pd.DataFrame, tuple]:
    """Return ``(contacts, replies, window)``; ``window`` is the first and last record time.

    The window spans every timed record (address-book entries, device information and cell
    lists excepted) on the exhibits that hold a contact or a reply, so the rate of a quiet
    period is measured over the time those exhibits cover.
    Both frames are sorted by time, then by the position of the record in its source
    (exhibit, source hash, seq), and carry a ``reply_basis`` column.
    """
    timed = events.loc[events["timestamp_utc"].notna()]
    att = attribute(timed, case)
    suspects, victims = role_ids(case, "suspect"), role_ids(case, "victim")
    is_contact = timed["kind"].isin(CONTACT_KINDS)
    from_suspect = att["sender_person"].isin(suspects)
    from_victim = att["sender_person"].isin(victims)
    to_victim = att["recipient_persons"].map(lambda ps: any(p in victims for p in ps)).astype(bool)
    to_suspect = att["recipient_persons"].map(lambda ps: any(p in suspects for p in ps)).astype(bool)
    no_recipient = att["recipient_persons"].map(len) == 0

    thread_key = timed["exhibit_ref"].astype(str) + "\x1f" + timed["thread"].astype(str)
    has_thread = timed["thread"].notna()
    others = is_contact & has_thread & ~from_victim
    only_suspect = pd.DataFrame({"key": thread_key[others], "s": from_suspect[others]}).groupby(
        "key", sort=True)["s"].all()
    suspect_threads = only_suspect.index[only_suspect.to_numpy(bool)]
    by_thread = is_contact & from_victim & no_recipient & has_thread & thread_key.isin(suspect_threads)

    contact_mask = is_contact & from_suspect & to_victim
    reply_mask = is_contact & from_victim & (to_suspect | by_thread)
    contacts = _frame(timed, contact_mask, pd.Series("identifier", index=timed.index))
    basis = pd.Series("identifier", index=timed.index).where(to_suspect, "thread")
    replies = _frame(timed, reply_mask, basis)

    exhibits = sorted(set(contacts["exhibit_ref"]) | set(replies["exhibit_ref"]))
    # Reference records do not measure what an exhibit covers: an address-book entry's
    # creation time, device information or a cell list would stretch the window by years.
    activity = ~timed["kind"].isin(REFERENCE_KINDS)
    covered = timed.loc[timed["exhibit_ref"].isin(exhibits) & activity, "timestamp_utc"]
    window = (covered.min(), covered.max()) if len(covered) else (None, None)
    return contacts, replies, window


def _frame(timed: pd.DataFrame, mask: pd.Series, basis: pd.Series) -> pd.DataFrame:
    out = timed.loc[mask, list(SELECT_COLUMNS)].copy()
    out["channel"] = out["channel"].fillna(out["kind"])
    out["reply_basis"] = basis[mask]
    return out.sort_values(ORDER, kind="stable").reset_index(drop=True)


def marks(case: Case, tz: str) -> list[dict]:
    """Return the case's dated marks (key dates and order service), sorted by time.

    A key date given as a day, without a time, takes effect at the end of that UK day,
    so nothing recorded on the day itself is counted as after it.
    """
    out = []
    for i, k in enumerate(case.key_dates):
        if isinstance(k.at, dt.datetime):
            at, day_only = pd.Timestamp(k.at).tz_convert("UTC"), False
        else:
            at = (pd.Timestamp(k.at) + pd.Timedelta(days=1)).tz_localize(tz).tz_convert("UTC")
            day_only = True
        out.append({"mark": f"key_dates[{i}]", "kind": k.kind, "at_utc": at, "day_only": day_only,
                    "note": k.note, "identifier": k.identifier or ""})
    for o in case.orders:
        if o.served is not None:
            out.append({"mark": f"order {o.id}", "kind": "order_served", "at_utc": pd.Timestamp(o.served)
                        .tz_convert("UTC"), "day_only": False, "note": o.type, "identifier": ""})
    return sorted(out, key=lambda m: (m["at_utc"], m["mark"]))
