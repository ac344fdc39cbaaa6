"""Clock agreement: each source's clock offset from the network records, from contacts both hold.

Method:
    The same call or SMS is often recorded by more than one source: the complainant's
    handset, the suspect's handset and the operators' call data records (CDRs). Where a
    source and a reference source hold records of the same contacts, the differences
    between their times measure the source's clock offset. The reference is the network:
    by default every exhibit read by a CDR parser (``REFERENCE_PARSERS``), because an
    operator's switch stamps its records from a network-synchronised clock that no user
    can set, whereas a handset's clock can be set by hand, can drift when network time is
    off, and a phone export can carry a time-zone slip. ``reference_exhibits`` names other
    references instead (the choice is recorded with the parameters).

    Records are compared only as call with call and SMS with SMS, between the same two
    numbers as far as each record names them (``analyses._clock_agreement_ends``; a number
    dialled with the UK ``141`` or ``1470`` prefix counts as the number itself). The
    pairing (``analyses._clock_agreement_pairs``) does not assume the offset: candidates
    are sought within ``window_s`` either way, the most common difference (one-second bins)
    is found, and around it each record is paired once with its nearest reference record.
    An exhibit's offset is the median of its pairs' differences (its time minus the
    reference time: positive means its times are later), reported with the median
    absolute deviation, the middle half (quartiles) and the number of pairs; with fewer
    than ``min_pairs`` pairs it is "not estimated" and the exhibit's times are used as
    recorded. The medians of the earlier and later halves of the pairs are compared: when
    they differ by more than ``max(2 s, 3 x MAD)`` a separate finding says the offset may
    not have been constant.

    ``estimate`` is the pure function other analyses (``both_ends``) call for the offsets;
    the results document also carries them, in the ``offsets`` table and in ``counts``
    (``offset_ms.<exhibit>`` and ``pairs.<exhibit>``). Nothing is changed in the store.
Limitations:
    Wording lives in report_templates/analyses/clock_agreement.toml under the keys in
    ``LIMITATIONS``. In short: the network reference is assumed right, and operators may
    stamp a call at the attempt or at the answer; one constant offset per exhibit is
    assumed; whole-second sources limit the precision; exhibits that share no contacts with
    the reference are not estimated; pairing same-number records close in time is a method,
    not proof that two records are of one contact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses import _clock_agreement_pairs as cp
from analyses._clock_agreement_ends import ends as contact_ends
from analyses._clock_agreement_findings import findings_for
from atlas.analysis import AnalysisResult, AnalysisSpec
from atlas.case import Case
from atlas.errors import ParamError

REFERENCE_PARSERS = ("cdr_csv",)
SECOND_MAX_MAD_S = 2.0
"""A second offset among unpaired records is reported only when its pairs agree this closely."""
REQUIRES = (
    "event_id",
    "exhibit_ref",
    "parser",
    "locator",
    "kind",
    "channel",
    "timestamp_utc",
    "direction",
    "sender",
    "recipients",
)
LIMITATIONS = tuple(
    f"clock_agreement.{k}"
    for k in (
        "network_reference",
        "constant_offset",
        "precision",
        "pairing_method",
        "not_estimated",
        "store_unchanged",
    )
)
OFFSET_COLUMNS = (
    "exhibit",
    "status",
    "records",
    "candidate_pairs",
    "pairs",
    "offset_s",
    "mad_s",
    "q1_s",
    "q3_s",
    "first_half_offset_s",
    "second_half_offset_s",
    "half_mad_s",
    "records_with_candidates",
    "second_offset_s",
    "second_offset_pairs",
    "second_offset_mad_s",
    "second_first_utc",
    "second_last_utc",
    "first_pair_utc",
    "last_pair_utc",
    "references",
)


@dataclass(frozen=True, kw_only=True)
class Params:
    """Choices for this analysis; every value is written to the analysis log."""

    reference_exhibits: tuple[str, ...] = ()
    """Exhibits whose times are the reference; empty means every exhibit read by a CDR parser."""
    window_s: int = 7200
    """How far apart (either way, seconds) a record and a reference record may be to be
    candidates. Two hours covers a clock left an hour out by a time-zone slip; a larger
    offset is not found."""
    pair_tolerance_s: float = 10.0
    """How far from the most common difference a pair's difference may be and still be kept."""
    min_pairs: int = 5
    """Fewest pairs for an offset to be estimated; below it the exhibit is "not estimated"."""

    def __post_init__(self) -> None:
        if not 60 <= self.window_s <= 86400:
            raise ParamError("window_s", self.window_s, "must be 60 to 86400 seconds")
        if not 0 < self.pair_tolerance_s <= 600:
            raise ParamError(
                "pair_tolerance_s", self.pair_tolerance_s, "must be more than 0 and at most 600"
            )
        if not 1 <= self.min_pairs <= 10000:
            raise ParamError("min_pairs", self.min_pairs, "must be 1 to 10000")
        if any(not isinstance(r, str) or not r.strip() for r in self.reference_exhibits):
            raise ParamError(
                "reference_exhibits", self.reference_exhibits, "must be exhibit references"
            )


@dataclass(frozen=True)
class Estimate:
    """What ``estimate`` returns: the per-exhibit table and the pairs behind it."""

    references: tuple[str, ...]
    offsets: pd.DataFrame
    pairs: pd.DataFrame

    def offset_s(self) -> dict[str, float]:
        """Return ``exhibit -> offset in seconds`` for the exhibits with an estimated offset."""
        done = self.offsets.loc[self.offsets["status"] == "estimated"]
        return {str(e): float(o) for e, o in zip(done["exhibit"], done["offset_s"], strict=True)}


def references_in(events: pd.DataFrame, params: Params) -> tuple[str, ...]:
    """Return the reference exhibits: those named, or those read by a CDR parser."""
    present = set(events["exhibit_ref"].dropna().unique())
    if params.reference_exhibits:
        missing = [r for r in params.reference_exhibits if r not in present]
        if missing:
            raise ParamError(
                "reference_exhibits",
                params.reference_exhibits,
                f"{missing[0]!r} is not an exhibit in the store",
            )
        return tuple(sorted(set(params.reference_exhibits)))
    is_ref = events["parser"].isin(REFERENCE_PARSERS)
    return tuple(sorted(set(events.loc[is_ref, "exhibit_ref"].dropna().unique())))


def estimate(
    events: pd.DataFrame, case: Case, params: Params, ends: pd.DataFrame | None = None
) -> Estimate:
    """Estimate each exhibit's clock offset from the reference; ``events`` is not modified.

    ``ends`` may pass ``_clock_agreement_ends.ends(events, case.default_region)`` already
    computed by the caller (both_ends does), to save computing it twice.
    """
    references = references_in(events, params)
    ends = contact_ends(events, case.default_region) if ends is None else ends
    usable = ends.loc[ends["originator"].notna() | ends["receiver"].notna()].reset_index(drop=True)
    cand = cp.candidates(usable, references, params.window_s)
    kept = cp.unique_pairs(cand, usable, params.pair_tolerance_s)
    pairs = cp.pair_table(kept, usable)
    records = usable.groupby("exhibit_ref").size()
    n_cand = cand.groupby("exhibit").size()
    with_cand = cand.groupby("exhibit")["x"].nunique()
    rows = []
    for exhibit in sorted(records.index):  # one row per exhibit
        if exhibit in references:
            rows.append(
                {
                    "exhibit": exhibit,
                    "status": "reference",
                    "records": int(records[exhibit]),
                    "candidate_pairs": 0,
                    "pairs": 0,
                    "offset_s": 0.0,
                    "references": "",
                }
            )
            continue
        mine = pairs.loc[pairs["exhibit"] == exhibit]
        per_ref = mine.groupby("reference_exhibit").size()
        row = {
            "exhibit": exhibit,
            "records": int(records[exhibit]),
            "candidate_pairs": int(n_cand.get(exhibit, 0)),
            "records_with_candidates": int(with_cand.get(exhibit, 0)),
            "pairs": len(mine),
            "references": "; ".join(f"{r}: {n} pairs" for r, n in per_ref.items()),
        }
        if len(mine) >= params.min_pairs:
            row.update(
                status="estimated",
                **cp.summary(mine["difference_s"].to_numpy()),
                first_pair_utc=mine["timestamp_utc"].iloc[0],
                last_pair_utc=mine["timestamp_utc"].iloc[-1],
                **_second(cand, kept, usable, exhibit, params),
            )
        else:
            row["status"] = "not_estimated"
        rows.append(row)
    offsets = pd.DataFrame(rows, columns=list(OFFSET_COLUMNS))
    for col in OFFSET_COLUMNS:
        if col.endswith("_s"):
            offsets[col] = offsets[col].astype(float).round(3)
    return Estimate(references=references, offsets=offsets, pairs=pairs)


def _second(
    cand: pd.DataFrame, kept: pd.DataFrame, usable: pd.DataFrame, exhibit: str, params: Params
) -> dict[str, object]:
    """Return the second offset of an exhibit's unpaired records, when tight and large enough."""
    more = cp.second_offset(
        cand.loc[cand["exhibit"] == exhibit],
        kept.loc[kept["exhibit"] == exhibit],
        usable,
        params.pair_tolerance_s,
    )
    if len(more) < params.min_pairs:
        return {}
    rows = cp.pair_table(more, usable)
    diffs = rows["difference_s"].to_numpy()
    stats = cp.summary(diffs)
    if stats["mad_s"] > SECOND_MAX_MAD_S:
        return {}
    return {
        "second_offset_s": stats["offset_s"],
        "second_offset_pairs": len(rows),
        "second_offset_mad_s": stats["mad_s"],
        "second_first_utc": rows["timestamp_utc"].min(),
        "second_last_utc": rows["timestamp_utc"].max(),
    }


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Estimate and report every exhibit's clock offset; ``events`` is not modified."""
    est = estimate(events, case, params)
    findings = findings_for(est, params)
    offsets = est.offsets
    counts: dict[str, int] = {
        "reference_exhibits": len(est.references),
        "exhibits_considered": int((offsets["status"] != "reference").sum()),
        "exhibits_estimated": int((offsets["status"] == "estimated").sum()),
        "exhibits_not_estimated": int((offsets["status"] == "not_estimated").sum()),
        "pairs_used": len(est.pairs),
    }
    for exhibit, seconds in est.offset_s().items():
        counts[f"offset_ms.{exhibit}"] = int(np.round(seconds * 1000))
    for exhibit, n in zip(offsets["exhibit"], offsets["pairs"], strict=True):
        if exhibit not in est.references:
            counts[f"pairs.{exhibit}"] = int(n)
    return AnalysisResult(
        analysis=ANALYSIS,
        params=params,
        tables={"offsets": offsets, "pairs": est.pairs},
        findings=findings,
        limitations=LIMITATIONS,
        counts=counts,
    )


ANALYSIS = AnalysisSpec(
    name="clock_agreement",
    version="1.0",
    summary="Each source's clock offset from the network records, measured on the calls and SMS "
    "both record",
    requires=REQUIRES,
    params=Params,
    run=run,
)
