"""Turn ``threat_screen``'s tables into findings: template keys, values, event ids in time order."""

from __future__ import annotations

import pandas as pd

from atlas.analysis import Finding

ROLE_ORDER = {"suspect": 0, "victim": 1, "other": 2}


def findings_for(
    tables: dict[str, pd.DataFrame],
    names: dict[str, str],
    roles: dict[str, str],
    screened: int,
    params,
) -> tuple[Finding, ...]:
    """Return the screening summary, then one finding per sender and category.

    Senders come in this order: persons by role (suspect, victim, other) and id, then
    unattributed identifiers, then records with no sender; categories in lexicon order.
    """
    lex = params.lexicon
    tagged, negated, by_sender = tables["tagged"], tables["negated"], tables["by_sender"]
    summary = Finding(
        "threat_screen.screened",
        {
            "messages": screened,
            "kinds": list(params.kinds),
            "lexicon_version": lex.version,
            "lexicon_sha256": params.lexicon_sha256,
            "lexicon": params.lexicon_path or "analyses/threat_lexicon.toml",
            "categories": [c.label for c in lex.categories],
            "tagged_messages": int(tagged["event_id"].nunique()),
            "tags": len(tagged),
            "negated": len(negated),
        },
        (),
    )
    if tagged.empty:
        return (summary, Finding("threat_screen.no_tags", {"messages": screened}, ()))
    order = {c.id: n for n, c in enumerate(lex.categories)}
    groups = by_sender.assign(
        _kind=by_sender["sender_person"].map(lambda p: 0 if p else 1)
        + by_sender["sender_group"].str.startswith("not given (").astype(int),
        _role=by_sender["sender_person"].map(
            lambda p: ROLE_ORDER.get(roles.get(p, ""), 3) if p else 3
        ),
        _cat=by_sender["category"].map(order),
    )
    groups = groups.sort_values(["_kind", "_role", "sender_group", "_cat"], kind="stable")
    out = [summary]
    for g in groups.itertuples(index=False):  # one per sender and category
        rows = tagged.loc[
            (tagged["sender_group"] == g.sender_group) & (tagged["category"] == g.category)
        ]
        months = rows["time_local"].str[:7].value_counts().sort_index()
        values = {
            "category": g.category,
            "category_label": g.category_label,
            "messages": int(g.messages),
            "days": int(g.days),
            "first_utc": g.first_utc,
            "last_utc": g.last_utc,
            "exhibits": list(g.exhibits),
            "months": [f"{m}: {n}" for m, n in months.items()],
        }
        if g.sender_person:
            key = "threat_screen.tagged_person"
            values |= {
                "person": g.sender_person,
                "person_name": names.get(g.sender_person, ""),
                "role": roles.get(g.sender_person, ""),
            }
        elif g.sender_group.startswith("not given ("):
            key = "threat_screen.tagged_sender_not_given"
        else:
            key = "threat_screen.tagged_identifier"
            values |= {"identifier": g.sender_group}
        # ``tagged`` is in the store's order (time, then place in source), so ids are in time order.
        out.append(Finding(key, values, tuple(rows["event_id"])))
    return tuple(out)
