"""Findings of the orders analysis: each order's summary, each term by period, cells, exceptions.

Keys and values only; the wording is in report_templates/analyses/orders.toml.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analyses import _orders_terms as terms
from atlas.analysis import Finding
from atlas.case import Case, Order


def _order_terms(order: Order) -> list[str]:
    listed = [c.strip().lower() for c in order.prohibited_channels]
    channel = ["prohibited_channels: any"] if "any" in listed else [f"prohibited_channels: {c}" for c in listed]
    return channel + [terms.term_label(z) for z in order.zones]


def _who(case: Case, pid: str) -> str:
    return f"{case.person(pid).name} ({pid})"


def _span(rows: pd.DataFrame) -> dict[str, object]:
    return {"count": len(rows), "first_utc": rows["timestamp_utc"].iloc[0],
            "last_utc": rows["timestamp_utc"].iloc[-1]}


def order_findings(order: Order, case: Case, rows: pd.DataFrame, cells: pd.DataFrame,
                    stray: pd.DataFrame) -> list[Finding]:
    """Return the findings of one order: its summary, each term by period, cells, exceptions."""
    served = order.served if order.served is not None else "not recorded"
    base = {"order_id": order.id, "order_type": order.type.replace("_", " "), "served_utc": served}
    out = [Finding("orders.order", {**base, "subject": _who(case, order.subject),
                                    "protected": [_who(case, p) for p in order.protected],
                                    "made_utc": order.made, "expires": order.expires or "until further order",
                                    "terms": _order_terms(order)}, ())]
    if order.served is None:
        out.append(Finding("orders.not_served", base, ()))
    if (order.type == "stalking_protection_order" and order.expires is not None
            and _shorter_than_two_years(order, case.display_timezone)):
        out.append(Finding("orders.spo_short_term", {**base, "made_utc": order.made,
                                                     "expires": order.expires}, ()))
    mine = rows[rows["order_id"] == order.id]
    for term in _order_terms(order):
        sel = mine[mine["term"] == term]
        after = sel[sel["period"] == "after_service"]
        if len(after):
            status = after["zone_status"]
            values = {**base, "term": term, **_span(after)}
            if term.startswith("zone:"):
                values |= {"within": int((status == "within").sum()),
                           "indeterminate": int((status == "indeterminate").sum()),
                           "accuracy_assumed": int(after["accuracy_assumed"].astype(bool).sum())}
            key = "orders.zone_after_service" if term.startswith("zone:") else "orders.channel_after_service"
            out.append(Finding(key, values, tuple(after["event_id"])))
        elif order.served is not None:
            out.append(Finding("orders.term_none_after_service", {**base, "term": term}, ()))
        for period, key in (("made_not_served", "orders.term_made_not_served"),
                            ("before_made", "orders.term_before_made"),
                            ("after_expiry", "orders.term_after_expiry")):
            part = sel[sel["period"] == period]
            if len(part):
                out.append(Finding(key, {**base, "term": term, "made_utc": order.made,
                                         "expires": order.expires or "until further order", **_span(part)},
                                   tuple(part["event_id"])))
        mast = cells[(cells["order_id"] == order.id) & (cells["term"] == term)
                     & (cells["period"] == "after_service")]
        if len(mast):
            out.append(Finding("orders.cell_mast_after_service", {
                **base, "term": term, **_span(mast), "cells": sorted(mast["cell_id"].unique().tolist()),
                "closest_mast_to_zone_m": float(mast["mast_to_zone_m"].min())}, tuple(mast["event_id"])))
    unatt = stray[(stray["order_id"] == order.id) & (stray["period"] == "after_service")]
    if len(unatt):
        senders = sorted(unatt["sender"].fillna("(no sender given)").unique().tolist())
        out.append(Finding("orders.unattributed_after_service", {
            **base, **_span(unatt), "senders": senders, "protected": [_who(case, p) for p in order.protected]},
            tuple(unatt["event_id"])))
    if order.exceptions:
        out.append(Finding("orders.exceptions", {**base, "exceptions": list(order.exceptions)}, ()))
    return out


def _shorter_than_two_years(order: Order, tz: str) -> bool:
    """Return whether the order expires before the same calendar date two years after it was made."""
    made = pd.Timestamp(order.made).tz_convert(tz).date()
    ends = order.expires
    if isinstance(ends, dt.datetime):
        ends = pd.Timestamp(ends).tz_convert(tz).date()
    two_years = made.replace(year=made.year + 2, day=min(made.day, 28 if made.month == 2 else made.day))
    return ends < two_years  # type: ignore[operator]
