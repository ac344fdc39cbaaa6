"""Render the contact graph's tables as GraphML, GEXF and a PNG chart (deterministic bytes).

The graph is rebuilt from the ``nodes`` and ``edges`` tables only: persons and identifiers are
nodes, ``attributed`` edges link an identifier to the person case.toml attributes it to (with the
basis), and ``contact`` edges carry channel, direction, record count, first and last record (UTC)
and the event ids. Nodes and edges are written in table order (already sorted), and the GEXF
``lastmodifieddate`` that networkx stamps from the clock is removed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from networkx.readwrite.gexf import GEXFWriter  # noqa: E402

ROLE_COLOURS = {"suspect": "#c0392b", "victim": "#2471a3", "other": "#7f8c8d"}
LIGHT = {"suspect": "#f1948a", "victim": "#85c1e9", "other": "#d5d8dc"}
UNATTRIBUTED = "#f5b041"
FIGSIZE = (11.0, 8.5)
DPI = 150


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def build_graph(nodes: pd.DataFrame, edges: pd.DataFrame) -> nx.MultiDiGraph:
    """Return the graph the tables describe, nodes and edges inserted in table order."""
    graph = nx.MultiDiGraph(name="Atlas contact graph")
    for rec in nodes.itertuples(index=False):
        graph.add_node(rec.node, label=rec.label, type=rec.type, role=_text(rec.role),
                       attributed_to=_text(rec.attributed_to), basis=_text(rec.basis),
                       sent=int(rec.sent), received=int(rec.received))
    rows: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for rec in nodes.itertuples(index=False):
        if _text(rec.attributed_to):
            rows.append(((rec.node, f"person:{rec.attributed_to}", "attributed", "", ""),
                         {"relation": "attributed", "channel": "", "direction": "", "events": 0,
                          "weight": 1.0, "first_utc": "", "last_utc": "", "exhibits": "",
                          "event_ids": "", "basis": _text(rec.basis)}))
    for rec in edges.itertuples(index=False):
        rows.append(((rec.source, rec.target, "contact", rec.channel, rec.direction),
                     {"relation": "contact", "channel": rec.channel, "direction": rec.direction,
                      "events": int(rec.events), "weight": float(rec.events),
                      "first_utc": _text(rec.first_utc), "last_utc": _text(rec.last_utc),
                      "exhibits": _text(rec.exhibits), "event_ids": _text(rec.event_ids), "basis": ""}))
    for number, (key, data) in enumerate(sorted(rows, key=lambda r: r[0])):
        graph.add_edge(key[0], key[1], key=f"e{number}", **data)
    return graph


def write_gexf(graph: nx.MultiDiGraph, path: Path) -> None:
    """Write GEXF 1.2 without the writer's clock-derived ``lastmodifieddate``."""
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.2draft")
    meta = writer.xml.find("meta")
    if meta is not None:
        meta.attrib.pop("lastmodifieddate", None)
    writer.add_graph(graph)
    with open(path, "wb") as fh:
        writer.write(fh)


def render(result: Any, case: Any, folder: Path) -> list[Path]:
    """Write ``contact_graph.graphml``, ``contact_graph.gexf`` and ``contact_graph.png``."""
    nodes, edges = result.tables["nodes"], result.tables["edges"]
    graph = build_graph(nodes, edges)
    graphml, gexf, png = (folder / f"contact_graph.{ext}" for ext in ("graphml", "gexf", "png"))
    nx.write_graphml(graph, graphml)
    write_gexf(graph, gexf)
    _chart(nodes, edges, result.params, png)
    return [graphml, gexf, png]


def _chart(nodes: pd.DataFrame, edges: pd.DataFrame, params: Any, path: Path) -> None:
    persons = nodes[nodes["type"] == "person"]
    others = nodes[nodes["type"] != "person"].assign(total=lambda t: t["sent"] + t["received"])
    others = others[others["total"] > 0].sort_values(["total", "node"], ascending=[False, True], kind="stable")
    shown = others.head(params.chart_max_nodes)
    keep = set(persons["node"]) | set(shown["node"])
    role_of = dict(zip(persons["node"], persons["role"], strict=True))

    drawn = nx.DiGraph()
    for node in [*persons["node"], *sorted(shown["node"])]:
        drawn.add_node(node)
    contact = edges[edges["source"].isin(keep) & edges["target"].isin(keep)]
    summed = contact.groupby(["source", "target"], sort=True)["events"].sum()
    for (a, b), n in summed.items():
        drawn.add_edge(a, b, events=int(n))
    attributed = [(r.node, f"person:{r.attributed_to}") for r in shown.itertuples(index=False)
                  if _text(r.attributed_to)]
    layout = nx.Graph()
    layout.add_nodes_from(drawn.nodes)
    layout.add_edges_from(drawn.to_undirected().edges)
    layout.add_edges_from(attributed)
    pos = nx.spring_layout(layout, seed=params.layout_seed, iterations=200)

    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.set_axis_off()
    nx.draw_networkx_edges(layout, pos, edgelist=attributed, ax=ax, style="dashed", edge_color="#999999",
                           arrows=False, width=1.0)
    widths = [0.6 + math.log1p(d["events"]) for _, _, d in drawn.edges(data=True)]
    nx.draw_networkx_edges(drawn, pos, ax=ax, width=widths, edge_color="#34495e", arrows=True,
                           arrowsize=12, connectionstyle="arc3,rad=0.12", node_size=500)
    nx.draw_networkx_edge_labels(drawn, pos, ax=ax, font_size=7, connectionstyle="arc3,rad=0.12",
                                 edge_labels={(a, b): str(d["events"]) for a, b, d in drawn.edges(data=True)})
    nx.draw_networkx_nodes(drawn, pos, ax=ax, nodelist=list(persons["node"]), node_shape="s", node_size=900,
                           node_color=[ROLE_COLOURS.get(r, "#7f8c8d") for r in persons["role"]])
    colours = [LIGHT.get(role_of.get(f"person:{r.attributed_to}", ""), "#d5d8dc") if _text(r.attributed_to)
               else ("#bbbbbb" if r.type == "unidentified" else UNATTRIBUTED) for r in shown.itertuples()]
    nx.draw_networkx_nodes(drawn, pos, ax=ax, nodelist=list(shown["node"]), node_size=350,
                           node_color=colours, edgecolors="#333333", linewidths=0.6)
    labels = {r.node: f"{r.label}\n({r.role})" for r in persons.itertuples()}
    labels.update({r.node: r.label.replace("device or account of exhibit ", "device/account ")
                   .replace("party not given in exhibit ", "not given, ") for r in shown.itertuples()})
    # Labels sit just above their node so the node and its arrows stay visible.
    above = {n: (xy[0], xy[1] + 0.045) for n, xy in pos.items()}
    nx.draw_networkx_labels(drawn, above, labels=labels, ax=ax, font_size=7, verticalalignment="bottom")
    ax.set_title("Contact records in the store: identifiers, and the persons case.toml attributes them to\n"
                 f"(numbers on arrows = records; {len(shown)} of {len(others)} identifier nodes shown, "
                 "busiest first)", fontsize=9)
    fig.legend(handles=[
        Line2D([], [], marker="s", ls="", color=ROLE_COLOURS["suspect"], label="person (suspect)"),
        Line2D([], [], marker="s", ls="", color=ROLE_COLOURS["victim"], label="person (victim)"),
        Line2D([], [], marker="o", ls="", color=UNATTRIBUTED, label="identifier not attributed"),
        Line2D([], [], ls="--", color="#999999", label="attributed in case.toml"),
        Line2D([], [], ls="-", color="#34495e", label="contact records (arrow: sender to recipient)"),
    ], loc="lower right", fontsize=7, frameon=False)
    fig.text(0.01, 0.01, "A device, number or account is not a person: links to persons are the "
             "attributions recorded in case.toml.", fontsize=7)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
