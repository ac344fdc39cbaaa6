"""Contact graph: who-contacted-whom as a network of identifiers, with the persons they are attributed to.

Method:
    Contact records are the kinds call, sms, mms, chat_message, email and
    social_interaction, plus social_post records that name recipients; records
    with no time are left out and counted. Each record links its sender to each
    of its recipients, so a record with three recipients makes three links (the
    record is counted once in every link it makes). Where the source gives no
    sender or no recipient, the missing end is the device or account the exhibit
    came from (``device:<exhibit>``) when the record's direction says so
    (an outgoing record was sent by it, an incoming one received by it, and a
    record of unknown direction from someone other than the person that device
    is attributed to was received by it, as ``atlas.attribution`` does), and
    otherwise a placeholder ``unidentified:<exhibit>`` node, never a guess.

    Links are grouped into edges by (source, target, channel, direction), the
    direction being the record's own, relative to the device or account the
    exhibit came from, so the same message seen on two exhibits stays on two
    edges. Each edge carries its number of records, its first and last record
    (UTC) and every record's event id in time order.

    Persons come from case.toml. An identifier attributed to a person there is
    linked to that person by an ``attributed`` edge carrying the basis; an
    identifier nobody is attributed stays an identifier node of its own and is
    never merged into a person. Person-level findings use
    ``atlas.attribution.attribute``: for each ordered pair of persons and each
    channel, the number of records, the first and last, and all their event ids;
    suspect-to-victim and victim-to-suspect totals are always stated, zero
    included. Identifiers not attributed to anyone that exchanged at least
    ``min_unattributed_events`` records with a victim's identifiers are listed,
    as are records reaching a victim with no sender given.

    ``render`` writes GraphML and GEXF (sorted nodes and edges, no dates in the
    file) for Gephi or i2, and a PNG of the busiest nodes drawn with a seeded
    layout.
Limitations:
    Wording lives in report_templates/analyses/contact_graph.toml under the
    keys listed in ``LIMITATIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses import _contact_graph_render as _render
from atlas.analysis import AnalysisResult, AnalysisSpec, Finding
from atlas.attribution import attribute
from atlas.case import Case
from atlas.errors import ParamError
from atlas.provenance import exhibit_key

CONTACT_KINDS = ("call", "sms", "mms", "chat_message", "email", "social_interaction")
POST_KIND = "social_post"
REQUIRES = ("event_id", "timestamp_utc", "kind", "channel", "direction", "sender", "recipients",
            "exhibit_ref")
LIMITATIONS = ("contact_graph.device_not_person", "contact_graph.attribution_from_case",
               "contact_graph.device_exhibit_assumption", "contact_graph.unidentified_ends",
               "contact_graph.per_recipient", "contact_graph.same_message_two_exhibits",
               "contact_graph.store_only")
EDGE_COLUMNS = ("source", "target", "channel", "direction", "events", "first_utc", "last_utc",
                "exhibits", "event_ids")
NODE_COLUMNS = ("node", "type", "label", "role", "attributed_to", "basis", "sent", "received")
NODE_TYPES = ("person", "identifier", "device", "unidentified")
ROLE_RANK = {"suspect": 0, "victim": 1, "other": 2}


@dataclass(frozen=True, kw_only=True)
class Params:
    """Settings for the contact graph; every value is written to the analysis log."""

    min_unattributed_events: int = 5
    """Smallest number of records an unattributed identifier exchanged with a victim's identifiers
    for it to be listed as a finding (every edge is in the ``edges`` table regardless)."""
    chart_max_nodes: int = 40
    """Largest number of identifier nodes drawn on the PNG chart (the busiest first)."""
    layout_seed: int = 1
    """Seed of the chart's force-directed layout, so the same graph is drawn the same way."""

    def __post_init__(self) -> None:
        if self.min_unattributed_events < 1:
            raise ParamError("min_unattributed_events", self.min_unattributed_events, "must be 1 or more")
        if not 2 <= self.chart_max_nodes <= 500:
            raise ParamError("chart_max_nodes", self.chart_max_nodes, "must be between 2 and 500")
        if self.layout_seed < 0:
            raise ParamError("layout_seed", self.layout_seed, "must be 0 or more")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Build the contact graph tables and findings; ``events`` is not modified."""
    candidate = events["kind"].isin((*CONTACT_KINDS, POST_KIND))
    recips = events.loc[candidate, "recipients"].map(_tuple).reindex(events.index, fill_value=())
    contact = events["kind"].isin(CONTACT_KINDS) | ((events["kind"] == POST_KIND) & (recips.map(len) > 0))
    dated = events["timestamp_utc"].notna()
    contacts = (events.loc[contact & dated, list(REQUIRES)].assign(recipients=recips[contact & dated])
                .sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True))
    links = _links(contacts, case)
    edges = _edges(links)
    nodes = _nodes(links, case)
    attributed = attribute(contacts, case)
    findings = (_person_findings(contacts, attributed, case)
                + _unattributed_findings(links, case, params))
    return AnalysisResult(
        analysis=ANALYSIS, params=params, tables={"edges": edges, "nodes": nodes},
        findings=tuple(findings), limitations=LIMITATIONS,
        counts={"contacts_considered": len(contacts), "links": len(links), "edges": len(edges),
                "nodes": len(nodes), "undated_contacts_excluded": int((contact & ~dated).sum())})


def _tuple(values: object) -> tuple[str, ...]:
    if values is None or (isinstance(values, float) and np.isnan(values)):
        return ()
    return tuple(sorted(dict.fromkeys(str(v) for v in values)))


def _links(contacts: pd.DataFrame, case: Case) -> pd.DataFrame:
    """Return one row per (record, recipient) with resolved ``source`` and ``target`` node ids."""
    owners = case.identifier_owner()
    device = "device:" + contacts["exhibit_ref"].astype(str)
    unidentified = "unidentified:" + contacts["exhibit_ref"].astype(str)
    direction = contacts["direction"].astype(str)
    source = contacts["sender"].astype(object).where(
        contacts["sender"].notna(), np.where(direction == "outgoing", device, unidentified))
    device_owner = device.map(owners)
    sender_owner = contacts["sender"].map(owners)
    # Same rule as atlas.attribution: with no recipients, an incoming record was received by the
    # exhibit's device, and so was one of unknown direction sent by someone other than its owner.
    received = (direction == "incoming") | (
        (direction == "unknown") & contacts["sender"].notna() & device_owner.notna()
        & (sender_owner.isna() | (sender_owner != device_owner)))
    fallback = pd.Series(np.where(received, device, unidentified), index=contacts.index)
    targets = contacts["recipients"].where(contacts["recipients"].map(len) > 0, fallback.map(lambda n: (n,)))
    links = contacts.assign(source=source, target=targets,
                            channel=contacts["channel"].fillna(contacts["kind"]).astype(str))
    links = links.explode("target", ignore_index=True)
    return links[["event_id", "timestamp_utc", "exhibit_ref", "source", "target", "channel", "direction"]]


def _edges(links: pd.DataFrame) -> pd.DataFrame:
    """Group links into edges; ``links`` is in time order, so a stable sort keeps it within an edge."""
    keys = ["source", "target", "channel", "direction"]
    ordered = links.sort_values(keys, kind="stable").reset_index(drop=True)
    starts = _starts(ordered, keys)
    stops = np.r_[starts[1:], len(ordered)].astype(np.int64)
    exhibits = ordered[[*keys, "exhibit_ref"]].drop_duplicates()
    exhibits = (exhibits.assign(_ref=exhibits["exhibit_ref"].map(lambda r: "%s\x1f%012d\x1f%s" % exhibit_key(r)))
                .sort_values([*keys, "_ref"], kind="stable").drop(columns="_ref").reset_index(drop=True))
    table = ordered.loc[starts, keys].reset_index(drop=True).assign(
        events=stops - starts,
        first_utc=ordered["timestamp_utc"].to_numpy()[starts] if len(starts) else [],
        last_utc=ordered["timestamp_utc"].to_numpy()[stops - 1] if len(starts) else [],
        exhibits=[a.tolist() for a in _split(exhibits["exhibit_ref"].to_numpy(), _starts(exhibits, keys))],
        event_ids=[tuple(a.tolist()) for a in _split(ordered["event_id"].to_numpy(), starts)])
    table["first_utc"] = pd.to_datetime(table["first_utc"], utc=True)
    table["last_utc"] = pd.to_datetime(table["last_utc"], utc=True)
    return table[list(EDGE_COLUMNS)]


def _starts(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Return the row positions where the ``keys`` of a sorted frame change (a group begins)."""
    if frame.empty:
        return np.zeros(0, dtype=np.int64)
    values = frame[keys]
    return np.flatnonzero((values != values.shift()).any(axis=1).to_numpy()).astype(np.int64)


def _split(values: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    return np.split(values, starts[1:]) if len(starts) else []


def _nodes(links: pd.DataFrame, case: Case) -> pd.DataFrame:
    sent = links.drop_duplicates(["event_id", "source"]).groupby("source").size()
    received = links.groupby("target")["event_id"].nunique()
    owners = case.identifier_owner()
    basis = {a.value: a.basis for p in case.persons for a in p.identifiers}
    by_person = links.assign(sp=links["source"].map(owners), tp=links["target"].map(owners))
    p_sent = by_person.dropna(subset=["sp"]).drop_duplicates(["event_id", "sp"]).groupby("sp").size()
    p_received = by_person.dropna(subset=["tp"]).groupby("tp")["event_id"].nunique()
    rows = [{"node": f"person:{p.id}", "type": "person", "label": f"{p.id} {p.name}", "role": p.role,
             "attributed_to": None, "basis": None, "sent": int(p_sent.get(p.id, 0)),
             "received": int(p_received.get(p.id, 0))}
            for p in case.persons]
    seen = sorted(set(owners) | set(links["source"]) | set(links["target"]))
    for node in seen:
        kind = node.split(":", 1)[0]
        rows.append({"node": node, "type": kind if kind in ("device", "unidentified") else "identifier",
                     "label": _label(node), "role": None, "attributed_to": owners.get(node),
                     "basis": basis.get(node), "sent": int(sent.get(node, 0)),
                     "received": int(received.get(node, 0))})
    table = pd.DataFrame(rows, columns=list(NODE_COLUMNS))
    rank = table["type"].map({t: i for i, t in enumerate(NODE_TYPES)})
    return (table.assign(_rank=rank).sort_values(["_rank", "node"], kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


def _label(node: str) -> str:
    if node.startswith("device:"):
        return f"device or account of exhibit {node.removeprefix('device:')}"
    if node.startswith("unidentified:"):
        return f"party not given in exhibit {node.removeprefix('unidentified:')}"
    return node


def _person_findings(contacts: pd.DataFrame, attributed: pd.DataFrame, case: Case) -> list[Finding]:
    frame = pd.concat([contacts[["event_id", "timestamp_utc", "channel", "kind"]], attributed], axis=1)
    frame = frame.assign(channel=frame["channel"].fillna(frame["kind"]).astype(str),
                         recipient_person=frame["recipient_persons"].map(list))
    frame = frame[frame["sender_person"].notna()].explode("recipient_person")
    frame = frame[frame["recipient_person"].notna() & (frame["recipient_person"] != frame["sender_person"])]
    people = {p.id: p for p in case.persons}
    findings: list[Finding] = []
    groups = dict(list(frame.groupby(["sender_person", "recipient_person"], sort=True)))
    suspects = [p.id for p in case.persons if p.role == "suspect"]
    victims = [p.id for p in case.persons if p.role == "victim"]
    pairs = set(groups) | {(s, v) for s in suspects for v in victims} | {(v, s) for s in suspects for v in victims}
    for a, b in sorted(pairs, key=lambda ab: (ROLE_RANK[people[ab[0]].role], ROLE_RANK[people[ab[1]].role], ab)):
        group = groups.get((a, b), frame.iloc[0:0])
        who = {"sender": people[a].id, "sender_name": people[a].name, "sender_role": people[a].role,
               "recipient": people[b].id, "recipient_name": people[b].name,
               "recipient_role": people[b].role}
        key = "contact_graph.pair_total" if len(group) else "contact_graph.pair_no_records"
        findings.append(_summary(key, who, group))
        for channel, part in group.groupby("channel", sort=True):
            findings.append(_summary("contact_graph.person_channel", {**who, "channel": channel}, part))
    return findings


def _summary(key: str, values: dict[str, object], part: pd.DataFrame) -> Finding:
    bases = sorted(set(part["sender_basis"].dropna()) | set(part["recipient_basis"].dropna()))
    return Finding(key=key, values={**values, "count": len(part),
                                    "first_utc": part["timestamp_utc"].min() if len(part) else None,
                                    "last_utc": part["timestamp_utc"].max() if len(part) else None,
                                    "attribution_bases": bases},
                   event_ids=tuple(part["event_id"]))


def _unattributed_findings(links: pd.DataFrame, case: Case, params: Params) -> list[Finding]:
    owners = case.identifier_owner()
    victims = {p.id for p in case.persons if p.role == "victim"}
    src_owner, dst_owner = links["source"].map(owners), links["target"].map(owners)
    loose_src = src_owner.isna() & ~links["source"].str.startswith("device:")
    loose_dst = dst_owner.isna() & ~links["target"].str.startswith("device:")
    found: list[tuple[tuple[object, ...], Finding]] = []
    for way, mask, other, person in (("to", loose_src & dst_owner.isin(victims), "source", dst_owner),
                                     ("from", loose_dst & src_owner.isin(victims), "target", src_owner)):
        part = links[mask].assign(node=links.loc[mask, other], person=person[mask])
        for (node, pid), group in part.groupby(["node", "person"], sort=True):
            group = group.drop_duplicates("event_id")
            unidentified = node.startswith("unidentified:")
            if not unidentified and len(group) < params.min_unattributed_events:
                continue
            victim = case.person(pid)
            key = "contact_graph.sender_not_given" if unidentified else f"contact_graph.unattributed_{way}"
            if unidentified and way == "from":
                key = "contact_graph.recipient_not_given"
            finding = Finding(key=key, values={
                "identifier": _label(node), "person": victim.id, "person_name": victim.name,
                "count": len(group), "channels": sorted(group["channel"].unique().tolist()),
                "exhibits": sorted(group["exhibit_ref"].unique().tolist(), key=exhibit_key),
                "first_utc": group["timestamp_utc"].min(), "last_utc": group["timestamp_utc"].max()},
                event_ids=tuple(group["event_id"]))
            found.append(((way != "to", unidentified, -len(group), node, pid), finding))
    return [f for _, f in sorted(found, key=lambda kf: kf[0])]


ANALYSIS = AnalysisSpec(
    name="contact_graph",
    version="1.0",
    summary="Network of identifiers and the persons they are attributed to, with contact counts per channel",
    requires=REQUIRES,
    params=Params,
    run=run,
    render=_render.render,
)
