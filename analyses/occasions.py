"""Occasions: the first and last relevant record, distinct UK dates, and an advisory six-month calculator.

Method:
    A relevant record is any of: (a) a contact record (call, sms, mms,
    chat_message, email, social_interaction, social_post) whose sender is
    attributed to a suspect and a recipient to a victim (``atlas.attribution``);
    (b) a location record of a suspect's device (``device:<exhibit>``
    attribution; ANPR through ``vrm:``) within a case place linked to a victim,
    tested with its uncertainty r: d + r <= R, r the stated accuracy or
    ``assumed_accuracy_m`` (indeterminate records are not counted); (c) a
    record the ``orders`` analysis lists as recorded after service and
    relevant to an order term (contacts, and zone records that are within;
    never indeterminate or cell-mast records). A record counts once, with all
    its categories. Each record's day is its UK local calendar date (the
    display zone), so a record at 23:30 UTC in summer falls on the next day.
    The ``per_day`` table counts records per date. Whether several records are
    one occasion or many is a legal judgement: the unit here is the record.

    The calculator (``analyses/_occasions_limit.py``) takes the last occasion
    relied on (``last_relied_on``, a UK local date; by default the date of the
    last relevant record), excludes that day and applies the
    corresponding-date rule (month-end where the sixth month has no such
    day), and shows its working. It warns when fewer than two relevant
    records fall on or before that date, when they fall on one date only,
    when the last record's date is uncertain (tz_flag ambiguous or
    nonexistent, no zone in the source, a coarse time precision, an
    approximate time), and when the store holds no relevant record on an
    officer's date. It is advisory and applies only to s.2 and s.2A PHA 1997.
Limitations:
    Wording lives in report_templates/analyses/occasions.toml under the keys in
    ``LIMITATIONS``; the calculator's working steps are factual arithmetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analyses import _occasions_limit as limit
from analyses import _orders_terms as terms
from analyses import orders
from atlas.analysis import AnalysisResult, AnalysisSpec, Finding
from atlas.attribution import role_ids
from atlas.case import Case
from atlas.errors import ParamError

REQUIRES = tuple(dict.fromkeys((*orders.REQUIRES, "tz_flag", "tz_basis", "flags")))
LIMITATIONS = tuple(f"occasions.{k}" for k in (
    "records_not_occasions", "uk_local_dates", "device_not_person", "selection",
    "same_message_two_exhibits", "gaps_not_absence",
    "advisory", "commencement", "either_way"))
RECORD_COLUMNS = ("event_id", "timestamp_utc", "time_uk", "date_uk", "exhibit_ref", "locator", "kind",
                  "channel", "categories", "tz_flag", "time_precision", "date_uncertain")
DAY_COLUMNS = ("date_uk", "records", "contacts", "place_records", "order_records", "first_utc",
               "last_utc", "first_event_id", "last_event_id")


@dataclass(frozen=True, kw_only=True)
class Params:
    """Settings for occasions and the advisory time-limit calculator; every value is logged."""

    last_relied_on: str = ""
    """UK local date (YYYY-MM-DD) of the last occasion the officer relies on; empty means the date
    of the last relevant record found."""
    as_of: str = ""
    """UK local date (YYYY-MM-DD) to count the days remaining from; empty means none are counted
    (Atlas never reads the clock)."""
    assumed_accuracy_m: float = 50.0
    """Uncertainty radius for a location record whose source states none."""
    include_order_records: bool = True
    """Count records the orders analysis lists after service as relevant."""

    def __post_init__(self) -> None:
        for name in ("last_relied_on", "as_of"):
            value = getattr(self, name)
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise ParamError(name, value, "must be a date written YYYY-MM-DD") from None
        if not 0 <= self.assumed_accuracy_m <= 10_000:
            raise ParamError("assumed_accuracy_m", self.assumed_accuracy_m, "must be 0 to 10000 metres")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Find the relevant records, count them per UK date and run the calculator; ``events`` is not modified."""
    records = relevant_records(events, case, params)
    per_day = _per_day(records)
    findings: list[Finding] = []
    steps: list[str] = []
    if records.empty:
        findings.append(Finding("occasions.none", {}, ()))
    else:
        ids = tuple(records["event_id"])
        first, last = records.iloc[0], records.iloc[-1]
        findings.append(Finding("occasions.summary", {
            "records": len(records), "days": len(per_day), "first_utc": first["timestamp_utc"],
            "last_utc": last["timestamp_utc"], "first_date": first["date_uk"], "last_date": last["date_uk"],
            "contacts": int(per_day["contacts"].sum()), "place_records": int(per_day["place_records"].sum()),
            "order_records": int(per_day["order_records"].sum())}, ids))
        for key, rec in (("occasions.first", first), ("occasions.last", last)):
            findings.append(Finding(key, {"time_utc": rec["timestamp_utc"], "date_uk": rec["date_uk"],
                                          "exhibit_ref": rec["exhibit_ref"], "locator": rec["locator"],
                                          "kind": rec["kind"], "categories": rec["categories"]},
                                    (rec["event_id"],)))
    if params.last_relied_on or not records.empty:
        calc, steps = _calculator(records, case, params)
        findings += calc
    tables = {"records": records[list(RECORD_COLUMNS)], "per_day": per_day,
              "time_limit_working": pd.DataFrame({"step": range(1, len(steps) + 1), "text": steps},
                                                 columns=["step", "text"])}
    return AnalysisResult(analysis=ANALYSIS, params=params, tables=tables, findings=tuple(findings),
                          limitations=LIMITATIONS,
                          counts={"relevant_records": len(records), "distinct_days": len(per_day)})


def relevant_records(events: pd.DataFrame, case: Case, params: Params) -> pd.DataFrame:
    """Return the relevant records (see Method), one row each, sorted by (time, event id).

    Columns: ``RECORD_COLUMNS`` then ``tz_basis`` and ``flags`` (for the date-uncertainty reasons).
    """
    suspects, victims = role_ids(case, "suspect"), role_ids(case, "victim")
    contacts = terms.contacts(events, case)
    to_victim = contacts["recipient_persons"].map(lambda ps: any(p in victims for p in ps)).astype(bool)
    hits = [contacts.loc[contacts["sender_person"].isin(suspects) & to_victim, ["event_id"]]
            .assign(category="contact")]
    places = [p for p in case.places if p.person in victims]
    for person in sorted(suspects):
        loc = terms.located(events, case, person, params.assumed_accuracy_m)
        for place in places:
            d = terms.haversine_m(place.lat, place.lon, loc["latitude"].to_numpy(), loc["longitude"].to_numpy())
            status = terms.zone_status(d, loc["radius_m"].to_numpy(), place.radius_m,
                                       loc["cell_based"].to_numpy(dtype=bool))
            hits.append(loc.loc[status == "within", ["event_id"]].assign(category=f"place:{place.name}"))
    if params.include_order_records and case.orders:
        rows, _cells, _stray = orders.order_rows(
            events, case, orders.Params(assumed_accuracy_m=params.assumed_accuracy_m), contacts)
        within = rows["zone_status"].isna() | (rows["zone_status"] == "within")
        keep = (rows["period"] == "after_service") & within
        hits.append(rows.loc[keep, ["event_id"]].assign(category="order:" + rows.loc[keep, "order_id"]))
    hit = pd.concat(hits, ignore_index=True).drop_duplicates()
    cats = (hit.sort_values(["event_id", "category"], kind="stable")
            .groupby("event_id")["category"].agg("; ".join))
    rec = events.loc[events["event_id"].isin(cats.index)]
    precision = terms.extras(rec["extra"]).map(lambda d: d.get("time_precision"))
    out = pd.DataFrame({
        "event_id": rec["event_id"], "timestamp_utc": rec["timestamp_utc"],
        "time_uk": terms.uk_time(rec["timestamp_utc"], case.display_timezone),
        "date_uk": terms.uk_date(rec["timestamp_utc"], case.display_timezone),
        "exhibit_ref": rec["exhibit_ref"], "locator": rec["locator"], "kind": rec["kind"],
        "channel": rec["channel"], "categories": rec["event_id"].map(cats), "tz_flag": rec["tz_flag"],
        "time_precision": precision.astype(object), "tz_basis": rec["tz_basis"],
        "flags": rec["flags"].map(lambda f: tuple(f) if f is not None else ()),
    })
    out["date_uncertain"] = (out["tz_flag"].isin(limit.UNCERTAIN_TZ_FLAGS) | out["tz_basis"].eq("none")
                             | out["time_precision"].isin(limit.COARSE_PRECISIONS)
                             | out["flags"].map(lambda f: "approximate" in f).astype(bool))
    out = out.sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)
    return out[[*RECORD_COLUMNS, "tz_basis", "flags"]]


def _per_day(records: pd.DataFrame) -> pd.DataFrame:
    """Return one row per UK date: counts by category and the first and last record."""
    if records.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DAY_COLUMNS})
    cats = records["categories"]
    flags = pd.DataFrame({"date_uk": records["date_uk"],
                          "contacts": cats.str.contains("contact", regex=False),
                          "place_records": cats.str.contains("place:", regex=False),
                          "order_records": cats.str.contains("order:", regex=False)})
    grouped = records.groupby("date_uk", sort=True)
    out = pd.DataFrame({
        "records": grouped.size(),
        **{c: flags.groupby("date_uk", sort=True)[c].sum().astype("int64")
           for c in ("contacts", "place_records", "order_records")},
        "first_utc": grouped["timestamp_utc"].first(), "last_utc": grouped["timestamp_utc"].last(),
        "first_event_id": grouped["event_id"].first(), "last_event_id": grouped["event_id"].last(),
    }).reset_index()
    return out[list(DAY_COLUMNS)]


def _calculator(records: pd.DataFrame, case: Case, params: Params) -> tuple[list[Finding], list[str]]:
    """Return the time-limit finding, its warnings, and the working steps."""
    given = bool(params.last_relied_on)
    last_day = (dt.date.fromisoformat(params.last_relied_on) if given
                else dt.date.fromisoformat(records["date_uk"].iloc[-1]))
    dates = records["date_uk"].map(dt.date.fromisoformat) if len(records) else pd.Series([], dtype=object)
    selected = records[(dates <= last_day).to_numpy(dtype=bool)]
    on_day = selected[selected["date_uk"] == last_day.isoformat()]
    event = on_day.iloc[-1] if len(on_day) else None
    as_of = dt.date.fromisoformat(params.as_of) if params.as_of else None
    deadline, steps, remaining = limit.working(last_day, None if event is None else event.to_dict(), given,
                                               case.display_timezone, as_of)
    ids = () if event is None else (event["event_id"],)
    out = [Finding("occasions.time_limit", {
        "last_relied_on": last_day, "chosen_by": "officer" if given else "last relevant record",
        "last_day_to_lay": deadline, "days_remaining": remaining, "working": steps,
        "working_text": " ".join(f"({n}) {s}" for n, s in enumerate(steps, start=1))}, ids)]
    if len(selected) < 2:
        out.append(Finding("occasions.warning_fewer_than_two", {"records": len(selected),
                                                                "last_relied_on": last_day},
                           tuple(selected["event_id"])))
    elif selected["date_uk"].nunique() < 2:
        out.append(Finding("occasions.warning_one_date", {
            "records": len(selected), "date_uk": selected["date_uk"].iloc[0], "last_relied_on": last_day},
            tuple(selected["event_id"])))
    if event is None and given:
        out.append(Finding("occasions.warning_no_record_on_date", {"last_relied_on": last_day}, ()))
    elif event is not None and (reasons := limit.uncertain_reasons(event)):
        out.append(Finding("occasions.warning_date_uncertain", {"last_relied_on": last_day, "reasons": reasons,
                                                                "time_utc": event["timestamp_utc"]}, ids))
    later = records[(dates > last_day).to_numpy(dtype=bool)]
    if len(later):
        out.append(Finding("occasions.records_after_relied_on", {
            "records": len(later), "last_relied_on": last_day, "last_utc": later["timestamp_utc"].iloc[-1]},
            tuple(later["event_id"])))
    return out, steps


ANALYSIS = AnalysisSpec(
    name="occasions",
    version="1.0",
    summary="First and last relevant record, distinct UK dates, and an advisory six-month calculator",
    requires=REQUIRES,
    params=Params,
    run=run,
)
