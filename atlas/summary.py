"""A readable summary of what the store holds, for the demo and for a quick check."""

from __future__ import annotations

import pandas as pd

from atlas.case import Case
from atlas.store import load_events, read_manifest
from atlas.timeparse import display


def summarise(case: Case) -> str:
    """Return a plain-text summary of the store: exhibits, counts, periods, flags."""
    manifest = read_manifest(case.root)
    lines = [f"Case {case.urn} — analyst {case.analyst.name}; times shown in {case.display_timezone} "
             "(GMT/BST marked)"]
    if not manifest["ingests"]:
        return "\n".join([*lines, "The store is empty: ingest a source with 'atlas ingest'."])
    frame = load_events(case.root, columns=["exhibit_ref", "source_sha256", "kind", "timestamp_utc", "tz_flag"])
    lines.append("")
    lines.append("Exhibits")
    total = {"read": 0, "accepted": 0, "rejected": 0, "out_of_scope": 0}
    for entry in manifest["ingests"]:
        c = entry["counts"]
        for k in total:
            total[k] += c[k]
        rows = frame[frame["source_sha256"] == entry["source_sha256"]]
        times = rows["timestamp_utc"].dropna()
        period = ("no timed records" if times.empty else
                  f"{display(times.min().to_pydatetime(), case.display_timezone)} to "
                  f"{display(times.max().to_pydatetime(), case.display_timezone)}")
        scope = f"; scoped: {entry['scope']['reason']}" if entry.get("scope") else ""
        lines.append(f"  {entry['exhibit_ref']:<8} {entry['source_path']}  [{entry['parser']} "
                     f"{entry['parser_version']}]")
        lines.append(f"           read {c['read']} = accepted {c['accepted']} + rejected {c['rejected']}"
                     f" + out of scope {c['out_of_scope']}; {period}{scope}")
        lines.append(f"           SHA-256 {entry['source_sha256']}")
    lines.append(f"  Total: read {total['read']} = accepted {total['accepted']} + rejected "
                 f"{total['rejected']} + out of scope {total['out_of_scope']}")
    lines.append("")
    lines.append("Events by kind")
    for kind, n in frame["kind"].value_counts().sort_index().items():
        lines.append(f"  {kind:<20} {n}")
    flags = frame["tz_flag"].value_counts().sort_index()
    odd = {k: int(v) for k, v in flags.items() if k != "ok"}
    if odd:
        lines.append("")
        lines.append("Time flags (local times at a clock change, or no time in the source)")
        for k, v in odd.items():
            lines.append(f"  {k:<20} {v}")
    return "\n".join(lines)


__all__ = ["summarise", "pd"]
