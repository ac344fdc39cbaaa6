"""Contact graph: edges by channel and direction, attribution without merging, exports, synthetic case."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from analyses import contact_graph
from atlas.analysis import TEMPLATES, run_analyses
from atlas.case import Analyst, Attribution, Case, Person
from atlas.errors import ParamError
from atlas.store import load_events
from tests.analyses.helpers import event_ids_at, events, synthetic_case

S, V, NEW = "tel:+447700900001", "tel:+447700900002", "tel:+447700900099"
FORBIDDEN = ("stalking", "course of conduct", "breach", "harassment", "was at", "proves", "visited")


def _case(root: Path) -> Case:
    return Case(root=root, urn="01AB2345678", analyst=Analyst("Dana Irving", "Analyst", "", "DI"), persons=(
        Person("P1", "Sam Suspect", "suspect", (Attribution(S, "Victim's statement"),
                                                 Attribution("name:whatsapp:Sam", "Chat header"))),
        Person("P2", "Vic Victim", "victim", (Attribution(V, "Her own number"),
                                               Attribution("device:AB/1", "Her handset, exhibit AB/1"),
                                               Attribution("name:whatsapp:Vic", "Her own messages"))),
    ))


ROWS = [
    {"kind": "call", "timestamp_utc": "2024-05-01 10:00", "direction": "incoming", "sender": S, "recipients": [V],
     "channel": "call"},
    {"kind": "call", "timestamp_utc": "2024-05-02 10:00", "direction": "incoming", "sender": S, "recipients": [V],
     "channel": "call"},
    {"kind": "sms", "timestamp_utc": "2024-05-03 10:00", "direction": "incoming", "sender": S, "recipients": [V],
     "channel": "sms"},
    {"kind": "sms", "timestamp_utc": "2024-05-04 10:00", "direction": "outgoing", "sender": V, "recipients": [S],
     "channel": "sms"},
    {"kind": "sms", "timestamp_utc": "2024-05-05 10:00", "direction": "incoming", "sender": NEW,
     "recipients": [V], "channel": "sms"},
    {"kind": "chat_message", "timestamp_utc": "2024-05-06 10:00", "sender": "name:whatsapp:Sam",
     "channel": "whatsapp"},
    {"kind": "chat_message", "timestamp_utc": "2024-05-07 10:00", "sender": "name:whatsapp:Vic",
     "channel": "whatsapp"},
    {"kind": "call", "timestamp_utc": "2024-05-08 10:00", "direction": "incoming", "recipients": [V],
     "channel": "call", "status": "withheld"},
    {"kind": "location_fix", "timestamp_utc": "2024-05-08 11:00", "latitude": 53.8, "longitude": -1.5},
    {"kind": "social_post", "timestamp_utc": "2024-05-08 12:00", "sender": S, "channel": "instagram"},
    {"kind": "social_post", "timestamp_utc": "2024-05-08 13:00", "sender": S, "recipients": [V],
     "channel": "instagram"},
    {"kind": "sms", "timestamp_utc": None, "sender": S, "recipients": [V], "channel": "sms"},
    {"kind": "sms", "timestamp_utc": "2024-05-03 10:00", "direction": "outgoing", "sender": S,
     "recipients": [V], "channel": "sms", "exhibit_ref": "AB/2"},
    {"kind": "sms", "timestamp_utc": "2024-05-09 10:00", "direction": "incoming", "sender": NEW,
     "recipients": [V], "channel": "sms"},
]


@pytest.fixture
def frame():
    return events(ROWS)


def _result(frame, tmp_path, **params):
    return contact_graph.run(frame, _case(tmp_path), contact_graph.Params(**params))


def ids(frame, *rows: int) -> tuple[str, ...]:
    """Return the event ids of 1-based ``ROWS`` positions."""
    return tuple(frame["event_id"].iloc[r - 1] for r in rows)


def test_edges_split_by_channel_and_direction(frame, tmp_path):
    edges = _result(frame, tmp_path).tables["edges"]
    assert list(edges.columns) == list(contact_graph.EDGE_COLUMNS)
    got = {(r.source, r.target, r.channel, r.direction): (r.events, r.event_ids)
           for r in edges.itertuples(index=False)}
    assert got == {
        (S, V, "call", "incoming"): (2, ids(frame, 1, 2)),
        (S, V, "sms", "incoming"): (1, ids(frame, 3)),
        (S, V, "sms", "outgoing"): (1, ids(frame, 13)),
        (S, V, "instagram", "unknown"): (1, ids(frame, 11)),
        (V, S, "sms", "outgoing"): (1, ids(frame, 4)),
        (NEW, V, "sms", "incoming"): (2, ids(frame, 5, 14)),
        ("name:whatsapp:Sam", "device:AB/1", "whatsapp", "unknown"): (1, ids(frame, 6)),
        ("name:whatsapp:Vic", "unidentified:AB/1", "whatsapp", "unknown"): (1, ids(frame, 7)),
        ("unidentified:AB/1", V, "call", "incoming"): (1, ids(frame, 8)),
    }
    row = edges[(edges["source"] == NEW)].iloc[0]
    assert (row["first_utc"].isoformat(), row["last_utc"].isoformat()) == (
        "2024-05-05T10:00:00+00:00", "2024-05-09T10:00:00+00:00")
    assert edges[["source", "target", "channel", "direction"]].apply(tuple, axis=1).is_monotonic_increasing


def test_nodes_keep_unattributed_identifiers_apart(frame, tmp_path):
    result = _result(frame, tmp_path)
    nodes = result.tables["nodes"].set_index("node")
    assert list(nodes.index[:2]) == ["person:P1", "person:P2"]
    assert nodes.loc[NEW, "type"] == "identifier" and pd.isna(nodes.loc[NEW, "attributed_to"])
    assert (nodes.loc[NEW, "sent"], nodes.loc[NEW, "received"]) == (2, 0)
    assert nodes.loc[S, "attributed_to"] == "P1" and nodes.loc[S, "basis"] == "Victim's statement"
    assert nodes.loc["device:AB/1", "type"] == "device" and nodes.loc["device:AB/1", "attributed_to"] == "P2"
    assert nodes.loc["unidentified:AB/1", "type"] == "unidentified"
    # The suspect's person node counts records from all his identifiers, never the new number's.
    assert (nodes.loc["person:P1", "sent"], nodes.loc["person:P2", "received"]) == (6, 9)
    graph = _graph(result, tmp_path / "out")
    assert graph.nodes[NEW]["attributed_to"] == ""
    assert not any(d["relation"] == "attributed" for _, _, d in graph.out_edges(NEW, data=True))
    attributed = [(u, v, d["basis"]) for u, v, d in graph.edges(data=True) if d["relation"] == "attributed"]
    assert (S, "person:P1", "Victim's statement") in attributed
    assert result.counts == {"contacts_considered": 11, "links": 11, "edges": 9, "nodes": 9,
                             "undated_contacts_excluded": 1}


def test_person_findings_cite_every_event_in_time_order(frame, tmp_path):
    result = _result(frame, tmp_path, min_unattributed_events=1)
    by_key = [(f.key, f.values.get("channel"), f.values["count"], f.event_ids) for f in result.findings
              if f.key.startswith("contact_graph.p")]
    assert by_key == [
        ("contact_graph.pair_total", None, 6, ids(frame, 1, 2, 3, 13, 6, 11)),
        ("contact_graph.person_channel", "call", 2, ids(frame, 1, 2)),
        ("contact_graph.person_channel", "instagram", 1, ids(frame, 11)),
        ("contact_graph.person_channel", "sms", 2, ids(frame, 3, 13)),
        ("contact_graph.person_channel", "whatsapp", 1, ids(frame, 6)),
        ("contact_graph.pair_total", None, 1, ids(frame, 4)),
        ("contact_graph.person_channel", "sms", 1, ids(frame, 4)),
    ]
    total = result.findings[0]
    assert total.values["attribution_bases"] == ["device_exhibit", "identifier"]
    assert total.values["first_utc"].isoformat() == "2024-05-01T10:00:00+00:00"
    others = {f.key: (f.values["identifier"], f.event_ids) for f in result.findings
              if not f.key.startswith("contact_graph.p")}
    assert others == {
        "contact_graph.unattributed_to": (NEW, ids(frame, 5, 14)),
        "contact_graph.sender_not_given": ("party not given in exhibit AB/1", ids(frame, 8)),
        "contact_graph.recipient_not_given": ("party not given in exhibit AB/1", ids(frame, 7)),
    }


def test_unattributed_threshold_and_zero_counts(tmp_path):
    frame = events(ROWS[4:5])
    result = _result(frame, tmp_path, min_unattributed_events=2)
    assert [f.key for f in result.findings] == ["contact_graph.pair_no_records", "contact_graph.pair_no_records"]
    assert result.findings[0].values["count"] == 0 and result.findings[0].event_ids == ()


def _graph(result, folder: Path) -> nx.MultiDiGraph:
    folder.mkdir(exist_ok=True)
    paths = contact_graph.ANALYSIS.render(result, _case(folder), folder)
    assert [p.name for p in paths] == ["contact_graph.graphml", "contact_graph.gexf", "contact_graph.png"]
    return nx.read_graphml(folder / "contact_graph.graphml", force_multigraph=True)


def test_exports_are_byte_identical_and_dateless(frame, tmp_path):
    result = _result(frame, tmp_path)
    digests = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        paths = contact_graph.ANALYSIS.render(_result(frame, tmp_path), _case(tmp_path), folder)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths})
    assert digests[0] == digests[1]
    gexf = (tmp_path / "one" / "contact_graph.gexf").read_text(encoding="utf-8")
    assert "lastmodifieddate" not in gexf
    graph = nx.read_gexf(tmp_path / "one" / "contact_graph.gexf")
    assert graph.number_of_nodes() == len(result.tables["nodes"])
    ml = nx.read_graphml(tmp_path / "one" / "contact_graph.graphml", force_multigraph=True)
    calls = [d for u, v, d in ml.edges(data=True) if (u, v) == (S, V) and d["channel"] == "call"]
    assert calls[0]["events"] == 2 and calls[0]["event_ids"] == " ".join(ids(frame, 1, 2))


def test_params_are_checked():
    with pytest.raises(ParamError):
        contact_graph.Params(min_unattributed_events=0)
    with pytest.raises(ParamError):
        contact_graph.Params(chart_max_nodes=1)


def test_every_key_has_wording_without_legal_labels():
    words = tomllib.loads((TEMPLATES / "contact_graph.toml").read_text(encoding="utf-8"))
    keys = {"contact_graph.pair_total", "contact_graph.pair_no_records", "contact_graph.person_channel",
            "contact_graph.unattributed_to", "contact_graph.unattributed_from",
            "contact_graph.sender_not_given", "contact_graph.recipient_not_given"}
    assert keys <= set(words["findings"]) and set(contact_graph.LIMITATIONS) <= set(words["limitations"])
    text = json.dumps(words).lower()
    assert not [w for w in FORBIDDEN if w in text]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "case"
    case, truth = synthetic_case(root, device_owners={"DI/1": "P2"})
    return case, truth


def test_synthetic_case_end_to_end(synthetic):
    case, truth = synthetic
    (doc,) = run_analyses(case, specs=(contact_graph.ANALYSIS,))
    stored = load_events(case.root)
    ident, counts = truth["identifiers"], truth["counts"]
    edges = _csv_edges(case.root / "results" / "contact_graph" / "edges.csv")

    def between(a: str, b: str) -> int:
        return sum(n for (s, t, _c, _d), n in edges.items() if (s, t) == (a, b))

    orig, victim = ident["suspect_original"], ident["victim"]
    assert between(orig, victim) + between(victim, orig) == counts["table_rows_by_party"]["orig"]
    assert between(ident["friend"], victim) + between(victim, ident["friend"]) == \
        counts["table_rows_by_party"]["friend"]
    assert between(ident["suspect_new"], victim) == truth["new_number"]["records"]
    assert between("unidentified:DI/2", victim) == len(truth["withheld_calls"])
    assert between(ident["suspect_whatsapp_name"], "device:DI/1") == counts["whatsapp_suspect"]

    findings = doc["findings"]
    totals = {(f["values"]["sender"], f["values"]["recipient"]): f for f in findings
              if f["key"] == "contact_graph.pair_total"}
    channel = {(f["values"]["sender"], f["values"]["recipient"], f["values"]["channel"]): f["values"]["count"]
               for f in findings if f["key"] == "contact_graph.person_channel"}
    assert channel[("P1", "P2", "whatsapp")] == counts["whatsapp_suspect"]
    p1_p2 = totals[("P1", "P2")]["event_ids"]
    when = stored.set_index("event_id")["timestamp_utc"]
    assert when[p1_p2].is_monotonic_increasing and len(set(p1_p2)) == len(p1_p2)
    # The new number is never merged into the suspect: it is its own finding, with its first record.
    loose = [f for f in findings if f["key"].startswith("contact_graph.unattributed")]
    assert [f["values"]["identifier"] for f in loose] == [ident["suspect_new"]]
    first_new = event_ids_at(stored, [truth["new_number"]["first_contact"]])[0]
    assert loose[0]["event_ids"][0] == first_new and loose[0]["values"]["count"] == truth["new_number"]["records"]
    assert not set(loose[0]["event_ids"]) & set(p1_p2)
    withheld = [f for f in findings if f["key"] == "contact_graph.sender_not_given"]
    assert [f["event_ids"] for f in withheld] == [event_ids_at(stored, truth["withheld_calls"])]
    # Every planted threat and every contact after service is cited by a suspect or new-number finding.
    cited = set(p1_p2) | set(loose[0]["event_ids"])
    assert set(event_ids_at(stored, truth["threats"])) <= cited
    assert set(event_ids_at(stored, truth["contacts_after_service"]["records"])) <= cited
    for f in findings:
        assert f["text"] and not [w for w in FORBIDDEN if w in f["text"].lower()]


def test_synthetic_results_byte_identical(synthetic):
    case, _truth = synthetic
    digests = []
    for _ in range(2):
        run_analyses(case, specs=(contact_graph.ANALYSIS,))
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted((case.root / "results").rglob("*")) if p.is_file()})
    assert digests[0] == digests[1] and "contact_graph.gexf" in digests[0]


def _csv_edges(path: Path) -> dict[tuple[str, str, str, str], int]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        return {(r["source"], r["target"], r["channel"], r["direction"]): int(r["events"])
                for r in csv.DictReader(fh)}


def test_no_contacts_still_lists_persons_and_renders(tmp_path):
    result = _result(events([{"kind": "location_fix", "timestamp_utc": "2024-05-01 10:00"}]), tmp_path)
    assert result.tables["edges"].empty and len(result.tables["nodes"]) == 7
    assert [f.key for f in result.findings] == ["contact_graph.pair_no_records"] * 2
    assert len(contact_graph.ANALYSIS.render(result, _case(tmp_path), tmp_path)) == 3
