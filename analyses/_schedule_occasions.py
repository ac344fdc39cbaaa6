"""Grouping tagged records into occasions and drawing the schedule's tables.

An occasion is a group of tagged records under a stated rule, never a legal unit:

* ``date``: every tagged record falls on its UK local calendar date (the display
  zone, GMT or BST), so a record at 23:30 UTC in summer is on the next day;
* ``episode``: location-tagged records (``at_place``, ``near_victim_device``) of
  one suspect form runs in which each record is at most ``episode_gap_minutes``
  after the previous one, and each run is one occasion (an overnight run stays
  one occasion); all other records fall on their UK local date.

Occasions are numbered in time order of their first record (ties by the first
record's event id).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses import _orders_terms as terms
from analyses._schedule_tags import LOCATION_TAGS, TAG_KEYS, TAGS, Selection

RECORD_COLUMNS = (
    "occasion",
    "event_id",
    "timestamp_utc",
    "time_uk",
    "date_uk",
    "exhibit_ref",
    "locator",
    "kind",
    "channel",
    "tags",
    "detail",
)
SCHEDULE_FIXED = (
    "occasion",
    "grouping",
    "date_uk",
    "first_time_uk",
    "last_time_uk",
    "first_utc",
    "last_utc",
    "tags",
    "records",
)
TAG_TABLE_COLUMNS = (
    "tag",
    "s2a3",
    "online_behaviour",
    "records_selected",
    "assessable",
    "records",
    "occasions",
    "first_utc",
    "last_utc",
)
THIRD_COLUMNS = (
    "event_id",
    "route",
    "timestamp_utc",
    "time_uk",
    "date_uk",
    "exhibit_ref",
    "locator",
    "kind",
    "channel",
    "sender",
    "sender_person",
    "recipient_persons",
)


def tagged_records(events: pd.DataFrame, sel: Selection, tz: str) -> pd.DataFrame:
    """Return one row per tagged record with its tags (in ``TAGS`` order) and details, sorted by (time, id)."""
    hit = sel.hits.drop_duplicates()
    order = {k: n for n, k in enumerate(TAG_KEYS)}
    hit = hit.assign(_o=hit["tag"].map(order)).sort_values(
        ["event_id", "_o", "detail"], kind="stable"
    )
    grouped = hit.groupby("event_id", sort=True)
    tags = grouped["tag"].agg(lambda t: "; ".join(dict.fromkeys(t)))
    detail = grouped["detail"].agg(lambda d: "; ".join(x for x in d if x))
    rec = events.loc[events["event_id"].isin(tags.index)]
    out = pd.DataFrame(
        {
            "occasion": 0,
            "event_id": rec["event_id"],
            "timestamp_utc": rec["timestamp_utc"],
            "time_uk": terms.uk_time(rec["timestamp_utc"], tz),
            "date_uk": terms.uk_date(rec["timestamp_utc"], tz),
            "exhibit_ref": rec["exhibit_ref"],
            "locator": rec["locator"],
            "kind": rec["kind"],
            "channel": rec["channel"].fillna(rec["kind"]),
            "tags": rec["event_id"].map(tags),
            "detail": rec["event_id"].map(detail),
        },
        columns=list(RECORD_COLUMNS),
    )
    return out.sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)


def group(records: pd.DataFrame, grouping: str, gap_minutes: int) -> tuple[pd.DataFrame, pd.Series]:
    """Number the occasions; return (records with ``occasion`` set, grouping of each occasion)."""
    if records.empty:
        return records, pd.Series([], dtype=object)
    key = "date:" + records["date_uk"].astype(str)
    if grouping == "episode":
        loc = (
            records["tags"]
            .map(lambda t: any(x in t.split("; ") for x in LOCATION_TAGS))
            .to_numpy(dtype=bool)
        )
        if loc.any():
            gaps = records.loc[loc, "timestamp_utc"].diff().to_numpy()[1:]
            starts = np.r_[True, gaps > np.timedelta64(gap_minutes, "m")]
            run = np.cumsum(starts)
            key = key.copy()
            key[loc] = [f"episode:{n}" for n in run]
    first = (
        records.assign(_key=key)
        .groupby("_key", sort=False)
        .agg(_t=("timestamp_utc", "min"), _id=("event_id", "first"))
    )
    first = first.sort_values(["_t", "_id"], kind="stable")
    number = pd.Series(np.arange(1, len(first) + 1), index=first.index)
    kinds = pd.Series(
        ["episode" if k.startswith("episode:") else "date" for k in first.index],
        index=number.to_numpy(),
    )
    return records.assign(occasion=key.map(number).astype("int64")), kinds


def tag_matrix(records: pd.DataFrame) -> pd.DataFrame:
    """Return a records x tags frame of 0/1 (every tag in ``TAGS`` order, present or not)."""
    dummies = (
        records["tags"].str.get_dummies(sep="; ")
        if len(records)
        else pd.DataFrame(index=records.index)
    )
    return dummies.reindex(columns=list(TAG_KEYS), fill_value=0).astype("int64")


def schedule(records: pd.DataFrame, kinds: pd.Series) -> pd.DataFrame:
    """Return one row per occasion: dates and times (UK local with GMT/BST, and UTC), tags, counts, event ids."""
    if records.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in (*SCHEDULE_FIXED, "event_ids")})
    grouped = records.groupby("occasion", sort=True)
    per_tag = tag_matrix(records).groupby(records["occasion"], sort=True).sum()
    per_channel = pd.crosstab(records["occasion"], records["channel"].astype(str)).sort_index(
        axis=1
    )
    out = pd.DataFrame(
        {
            "occasion": per_tag.index.astype("int64"),
            "grouping": kinds.loc[per_tag.index].to_numpy(),
            "date_uk": grouped["date_uk"].first().to_numpy(),
            "first_time_uk": grouped["time_uk"].first().to_numpy(),
            "last_time_uk": grouped["time_uk"].last().to_numpy(),
            "first_utc": grouped["timestamp_utc"].first().to_numpy(),
            "last_utc": grouped["timestamp_utc"].last().to_numpy(),
            "tags": [
                "; ".join(k for k in TAG_KEYS if row[k]) for row in per_tag.to_dict("records")
            ],
            "records": grouped.size().to_numpy(),
        }
    )
    out["first_utc"] = pd.to_datetime(out["first_utc"], utc=True)
    out["last_utc"] = pd.to_datetime(out["last_utc"], utc=True)
    for k in TAG_KEYS:
        out[f"tag_{k}"] = per_tag[k].to_numpy()
    for ch in per_channel.columns:
        out[f"channel_{ch}"] = per_channel[ch].to_numpy().astype("int64")
    out["event_ids"] = grouped["event_id"].agg(list).to_numpy()
    return out


def tag_table(records: pd.DataFrame, sel: Selection) -> pd.DataFrame:
    """Return one row per tag: its mapping, whether it is assessable here, and its record and occasion counts."""
    rows = []
    matrix = tag_matrix(records)
    for tag in TAGS:
        mine = records[matrix[tag.key].to_numpy(dtype=bool)]
        assessable = sel.assessable[tag.key]
        rows.append(
            {
                "tag": tag.key,
                "s2a3": ", ".join(f"({r})" for r in tag.refs),
                "online_behaviour": tag.online,
                "records_selected": tag.records,
                "assessable": "yes" if assessable else "not assessable from these records",
                "records": len(mine) if assessable else None,
                "occasions": int(mine["occasion"].nunique()) if assessable else None,
                "first_utc": mine["timestamp_utc"].iloc[0] if len(mine) else None,
                "last_utc": mine["timestamp_utc"].iloc[-1] if len(mine) else None,
            }
        )
    return pd.DataFrame(rows, columns=list(TAG_TABLE_COLUMNS))


def third_party_table(events: pd.DataFrame, sel: Selection, tz: str) -> pd.DataFrame:
    """Return the third-party records with their times, sorted by (time, id)."""
    third = sel.third_party
    rec = events.set_index("event_id").loc[third["event_id"]]
    out = pd.DataFrame(
        {
            "event_id": third["event_id"].to_numpy(),
            "route": third["route"].to_numpy(),
            "timestamp_utc": rec["timestamp_utc"].to_numpy(),
            "exhibit_ref": rec["exhibit_ref"].to_numpy(),
            "locator": rec["locator"].to_numpy(),
            "kind": rec["kind"].to_numpy(),
            "channel": rec["channel"].to_numpy(),
            "sender": rec["sender"].to_numpy(),
            "sender_person": third["sender_person"].to_numpy(),
            "recipient_persons": third["recipient_persons"].to_numpy(),
        }
    )
    out["timestamp_utc"] = pd.to_datetime(out["timestamp_utc"], utc=True)
    out["time_uk"] = terms.uk_time(out["timestamp_utc"], tz)
    out["date_uk"] = terms.uk_date(out["timestamp_utc"], tz)
    return out.sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)[
        list(THIRD_COLUMNS)
    ]
