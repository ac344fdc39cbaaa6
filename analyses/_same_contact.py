"""One contact, several records: counting contacts once when more than one exhibit holds them.

The same call can be in the complainant's call log, in the suspect's handset and in the
operator's call data records; the same WhatsApp message in a chat export and in the UFED
report of the same phone. Adding the records of every exhibit together counts that contact
two or three times, and makes a period covered by more exhibits look busier than one covered
by fewer.

``collapse`` groups records of the same *kind of contact* (below) whose times lie within
``tolerance_s`` of each other, chaining, into clusters. Records of one exhibit are never
merged with each other: they are separate records of that exhibit. Within a cluster, the
exhibit holding the most records supplies the cluster's *representative* records, and the
cluster counts as that many contacts (ties: an exhibit whose clock needed no correction, then
the first in natural order). That is the smallest number of contacts the records
can stand for (a lower bound): if two exhibits hold different messages of the same burst,
the true number is higher, up to the number of records. Both numbers are reported.

The kind of contact: calls over the telephone network (channel ``phone``, ``call``, ``sms``
and the like) are one family whatever the exhibit; application calls and messages keep their
application (a WhatsApp message and an SMS are never the same contact); e-mail and social
interactions are families of their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from atlas.provenance import exhibit_key

TELEPHONY = frozenset({"", "phone", "call", "calls", "cellular", "gsm", "voice", "telephony",
                       "sms", "mms", "text"})
ORDER = ["timestamp_utc", "exhibit_ref", "source_sha256", "seq"]


def family(kind: pd.Series, channel: pd.Series) -> pd.Series:
    """Return the kind-of-contact key of each record (see the module docstring)."""
    ch = channel.fillna("").astype(str).str.strip().str.lower()
    tel = ch.isin(TELEPHONY)
    out = pd.Series("other:", index=kind.index, dtype=object) + kind.astype(str)
    is_call = kind == "call"
    is_text = kind.isin(["sms", "mms", "chat_message"])
    out = out.mask(is_call & tel, "call:tel").mask(is_call & ~tel, "call:" + ch)
    out = out.mask(is_text & tel, "text:tel").mask(is_text & ~tel, "text:" + ch)
    out = out.mask(kind == "email", "email")
    out = out.mask(kind == "social_interaction", "social:" + ch)
    return out


def collapse(records: pd.DataFrame, tolerance_s: float, offsets: dict[str, float] | None = None,
             ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return ``(representatives, counts)`` for contact records of one direction.

    ``records`` needs ``event_id``, ``timestamp_utc``, ``kind``, ``channel``, ``exhibit_ref``,
    ``source_sha256`` and ``seq``. The representatives keep the input's columns and order
    (sorted by ``ORDER``) plus ``cluster`` and ``also_recorded`` (how many records of other
    exhibits the cluster holds besides its representatives). ``counts`` holds ``records``,
    ``contacts`` (the lower bound) and ``records_in_several_exhibits``.
    """
    if records.empty:
        out = records.assign(cluster=pd.Series(dtype="int64"), also_recorded=pd.Series(dtype="int64"))
        return out, {"records": 0, "contacts": 0, "records_in_several_exhibits": 0}
    frame = records.sort_values(ORDER, kind="stable").reset_index(drop=True)
    if tolerance_s <= 0:  # every record is its own contact
        frame["cluster"] = np.arange(len(frame), dtype="int64")
        frame["also_recorded"] = np.zeros(len(frame), dtype="int64")
        return frame, {"records": len(frame), "contacts": len(frame), "records_in_several_exhibits": 0}
    frame["family"], frame["cluster"] = _clusters(frame, tolerance_s, offsets)

    per = frame.groupby(["cluster", "exhibit_ref"], sort=True).size().rename("n").reset_index()
    per["natural"] = per["exhibit_ref"].map(_natural)
    # Ties go to an exhibit whose clock needed no correction, then to natural order.
    per["skew"] = per["exhibit_ref"].map(lambda e: abs((offsets or {}).get(e, 0.0)))
    per = per.sort_values(["cluster", "n", "skew", "natural"], ascending=[True, False, True, True],
                          kind="stable")
    chosen = per.drop_duplicates("cluster", keep="first")
    size = frame.groupby("cluster").size()
    exhibits = per.groupby("cluster").size()
    keep = frame.set_index(["cluster", "exhibit_ref"]).index.isin(
        pd.MultiIndex.from_frame(chosen[["cluster", "exhibit_ref"]]))
    reps = frame.loc[keep].copy()
    reps["also_recorded"] = (reps["cluster"].map(size) - reps["cluster"].map(chosen.set_index("cluster")["n"])
                             ).astype("int64")
    several = frame["cluster"].map(exhibits) > 1
    counts = {"records": len(frame), "contacts": len(reps),
              "records_in_several_exhibits": int(several.sum())}
    return reps.reset_index(drop=True), counts


def clusters_table(records: pd.DataFrame, tolerance_s: float,
                   offsets: dict[str, float] | None = None) -> pd.DataFrame:
    """Return one row per cluster held by more than one exhibit: every record behind it, cited."""
    if records.empty or tolerance_s <= 0:
        return pd.DataFrame(columns=list(CLUSTER_COLUMNS))
    reps, _ = collapse(records, tolerance_s, offsets)
    frame = records.sort_values(ORDER, kind="stable").reset_index(drop=True)
    frame["family"], frame["cluster"] = _clusters(frame, tolerance_s, offsets)
    rep_ids = set(reps["event_id"])
    rows = []
    for c, group in frame.groupby("cluster", sort=True):
        exhibits = sorted(set(group["exhibit_ref"]), key=_natural)
        if len(exhibits) < 2:
            continue
        kept = group.loc[group["event_id"].isin(rep_ids)]
        rows.append({"first_utc": group["timestamp_utc"].min(), "last_utc": group["timestamp_utc"].max(),
                     "family": group["family"].iloc[0], "exhibits": ", ".join(exhibits),
                     "records": len(group), "counted_as": len(kept),
                     "counted_from": kept["exhibit_ref"].iloc[0],
                     "event_ids": " ".join(group["event_id"])})
    out = pd.DataFrame(rows, columns=list(CLUSTER_COLUMNS))
    return out.sort_values(["first_utc", "family"], kind="stable").reset_index(drop=True)


CLUSTER_COLUMNS = ("first_utc", "last_utc", "family", "exhibits", "records", "counted_as",
                   "counted_from", "event_ids")


def _clusters(frame: pd.DataFrame, tolerance_s: float,
              offsets: dict[str, float] | None = None) -> tuple[pd.Series, np.ndarray]:
    """Return each record's family and cluster number (same family, gaps of at most the tolerance)."""
    fam = family(frame["kind"], frame["channel"])
    ns = frame["timestamp_utc"].astype("datetime64[ns, UTC]").astype("int64").to_numpy()
    if offsets:
        ahead = frame["exhibit_ref"].map(offsets).fillna(0.0).to_numpy(dtype=float)
        ns = ns - np.round(ahead * 1e9).astype("int64")
    order = np.lexsort((np.arange(len(frame)), ns, fam.to_numpy(dtype=str)))
    fam_sorted, ns_sorted = fam.to_numpy(dtype=str)[order], ns[order]
    start = np.r_[True, fam_sorted[1:] != fam_sorted[:-1]] | np.r_[True, np.diff(ns_sorted) > int(tolerance_s * 1e9)]
    cluster = np.empty(len(frame), dtype="int64")
    cluster[order] = np.cumsum(start) - 1
    return fam, cluster


def _natural(ref: str) -> str:
    """Sort key for exhibit refs as text: ``DI/2`` before ``DI/15``."""
    head, number, tail = exhibit_key(ref)
    return f"{head}\x1f{number + 1:012d}\x1f{tail}"
