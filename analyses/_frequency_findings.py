"""Turn ``frequency``'s tables into findings: template keys, plain values, event ids in time order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses import _frequency_counts as fc
from atlas.analysis import Finding

AFTER_KEYS = {
    "stop_requested": "frequency.after_stop_request",
    "blocked": "frequency.after_block",
    "warned": "frequency.after_warning",
    "order_served": "frequency.after_order_served",
    "stop_request_candidate": "frequency.after_stop_candidate",
}


def no_contacts() -> Finding:
    """Return the finding for a store with no attributed contact from suspect to victim."""
    return Finding(key="frequency.no_contacts", values={}, event_ids=())


def findings_for(contacts: pd.DataFrame, replies: pd.DataFrame, window: tuple,
                 tables: dict[str, pd.DataFrame], members: list[np.ndarray],
                 spans: list[tuple[int, int]], params, tz: str,
                 records: dict[str, dict[str, int]] | None = None) -> tuple[Finding, ...]:
    """Return every finding, in a fixed order: totals, bursts, stop requests, after-counts, rates.

    ``records`` holds the record counts behind the contacts and replies (``_same_contact``).
    """
    ids = contacts["event_id"]
    local_day = contacts["timestamp_utc"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d")
    out = [_totals(contacts, replies, window, records or {}, params.same_contact_seconds)]

    per_day = tables["daily"].groupby("date_local", sort=True)["contacts"].sum()
    busiest = per_day.idxmax()  # first of equal maxima: the earliest day
    out.append(Finding("frequency.busiest_day", {"date_local": busiest, "count": int(per_day[busiest])},
                       tuple(ids[local_day == busiest])))

    weeks = tables["weekly_totals"]
    silent = weeks.loc[(weeks["contacts"] > 0) & (weeks["replies"] == 0), "week_start_local"]
    week_of = (contacts["timestamp_utc"].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
               - pd.to_timedelta(contacts["timestamp_utc"].dt.tz_convert(tz).dt.day_of_week, unit="D")
               ).dt.strftime("%Y-%m-%d")
    out.append(Finding("frequency.weeks_without_reply",
                       {"weeks_with_contacts": int((weeks["contacts"] > 0).sum()), "weeks_without_reply":
                        len(silent), "contacts_in_those_weeks": int(week_of.isin(silent).sum())},
                       tuple(ids[week_of.isin(silent)])))

    for n, (a, b) in enumerate(spans, start=1):
        burst = contacts.iloc[a:b]
        out.append(Finding("frequency.burst", {
            "episode": n, "count": b - a, "start_utc": burst["timestamp_utc"].iloc[0],
            "end_utc": burst["timestamp_utc"].iloc[-1], "window_minutes": params.burst_window_minutes,
            "min_contacts": params.burst_min_contacts,
            "channels": sorted(burst["channel"].unique().tolist())}, tuple(burst["event_id"])))

    for c in tables["stop_candidates"].itertuples(index=False):
        out.append(Finding("frequency.stop_request_candidate", {
            "at_utc": c.timestamp_utc, "exhibit_ref": c.exhibit_ref, "channel": c.channel,
            "phrase": c.phrase, "text": c.text}, (c.event_id,)))

    for m in tables["after_marks"].itertuples(index=False):
        a = fc.after(contacts, m.at_utc, m.identifier)
        key = AFTER_KEYS.get(m.kind, "frequency.after_key_date")
        key += "_identifier" if m.kind == "blocked" and m.identifier else ""
        values = {"mark": m.mark, "kind": m.kind, "at_utc": m.at_utc, "day_only": bool(m.day_only), "count": a["count"],
                  "channels": a["channels"], "first_utc": a["first_utc"], "last_utc": a["last_utc"],
                  "records_end_utc": window[1]}
        if m.identifier:
            values |= {"identifier": m.identifier, "from_identifier": a["from_identifier"]}
        lead = (m.event_id,) if m.event_id else ()
        out.append(Finding(key, values, lead + a["event_ids"]))

    periods = tables["periods"]
    for p, rows in zip(periods.itertuples(index=False), members, strict=True):
        out.append(Finding("frequency.period", {
            "period": p.period, "starts_at": _label(p.starts_at), "ends_at": _label(p.ends_at),
            "start_utc": p.start_utc, "end_utc": p.end_utc, "days": p.days, "count": p.contacts,
            "rate_per_day": p.rate_per_day, "ci_low": p.ci_low, "ci_high": p.ci_high,
            **_texts(rate_per_day=p.rate_per_day, ci_low=p.ci_low, ci_high=p.ci_high),
            "confidence_pct": _pct(params.confidence)}, tuple(ids.iloc[rows])))
    for c in tables["rate_changes"].itertuples(index=False):
        rows = np.concatenate([members[c.earlier - 1], members[c.later - 1]])
        key = "frequency.rate_change" if c.ratio is not None and not pd.isna(c.ratio) else \
            "frequency.rate_change_from_zero"
        numbers = {k: getattr(c, k) for k in tables["rate_changes"].columns}
        out.append(Finding(key, {
            **numbers, "boundary": _label(c.boundary),
            **_texts(**{k: numbers[k] for k in ("rate_earlier", "rate_later", "ratio", "ci_low", "ci_high",
                                                 "ci_low_adjusted", "ci_high_adjusted", "dispersion")}),
            "p_exact_text": _p_text(c.p_exact), "p_adjusted_text": _p_text(c.p_adjusted),
            "confidence_pct": _pct(params.confidence)}, tuple(ids.iloc[rows])))

    if tables["change_points"].empty:
        out.append(Finding("frequency.no_change_point", {
            "alpha": params.changepoint_alpha, "permutations": params.changepoint_permutations,
            "min_days": params.changepoint_min_days}, ()))
    for c in tables["change_points"].itertuples(index=False):
        inside = (local_day >= c.segment_start_local) & (local_day <= c.segment_end_local)
        out.append(Finding("frequency.change_point", {
            **{k: getattr(c, k) for k in tables["change_points"].columns},
            **_texts(rate_before=c.rate_before, rate_after=c.rate_after), "p_value_text": _p_text(c.p_value),
            "smallest_p_text": _p_text(1 / (params.changepoint_permutations + 1)),
            "permutations": params.changepoint_permutations}, tuple(ids[inside])))
    return tuple(out)


def _totals(contacts: pd.DataFrame, replies: pd.DataFrame, window: tuple,
            records: dict[str, dict[str, int]], tolerance_s: int) -> Finding:
    by_channel = contacts["channel"].value_counts().sort_index()
    sent = records.get("contacts", {})
    return Finding("frequency.totals", {
        "count": len(contacts), "replies": len(replies),
        "records": sent.get("records", len(contacts)),
        "records_in_several_exhibits": sent.get("records_in_several_exhibits", 0),
        "reply_records": records.get("replies", {}).get("records", len(replies)),
        "same_contact_seconds": tolerance_s,
        "clock_offsets": [f"{e} {o:+.1f} s" for e, o in sent.get("offsets", {}).items()] or ["none"],
        "channels": [f"{c}: {n}" for c, n in by_channel.items()],
        "first_utc": contacts["timestamp_utc"].iloc[0], "last_utc": contacts["timestamp_utc"].iloc[-1],
        "records_start_utc": window[0], "records_end_utc": window[1]}, tuple(contacts["event_id"]))


# Neutral names for the period boundaries (UKP-IND-01: descriptive, not conclusions).
LABELS = {
    "start_of_records": "the first record on the exhibits",
    "end_of_records": "the last record on the exhibits",
    "relationship_ended": "the end of the relationship (key date)",
    "stop_requested": "the stop request (key date)",
    "blocked": "the block (key date)",
    "warned": "the police warning (key date)",
    "order_served": "the service of an order",
    "reported": "the report to police (key date)",
    "arrested": "the arrest (key date)",
    "charged": "the charge (key date)",
    "other": "another key date",
}


def _label(name: str) -> str:
    return " and ".join(LABELS.get(part, part) for part in name.split(" + "))


def _texts(**numbers: float | None) -> dict[str, str]:
    """Return ``<name>_text`` with two decimals (the core shows every float with one)."""
    return {f"{k}_text": "not defined" if v is None or pd.isna(v) else f"{v:,.2f}"
            for k, v in numbers.items()}


def _p_text(p: float) -> str:
    return "< 0.0001" if p < 0.0001 else f"= {p:.4f}"


def _pct(confidence: float) -> float:
    return round(confidence * 100, 2)
