"""Render ``docs/event-schema.md`` from ``EVENT_FIELDS`` (a test keeps the file in step).

Run ``python -m atlas.schema_doc > docs/event-schema.md`` after changing a field.
"""

from __future__ import annotations

from atlas.events import (
    DELETION_STATES,
    DIRECTIONS,
    EVENT_FIELDS,
    KINDS,
    LOCATION_METHODS,
    REJECTION_FIELDS,
    SCHEMA_VERSION,
    TZ_FLAGS,
)

INTRO = """# Event schema (version {version})

Every parser writes into this one model; `atlas/events.py` declares it once and this page is
generated from it (`python -m atlas.schema_doc > docs/event-schema.md`; a test fails when they differ).

* **core** fields are stamped by the ingest core, never by a parser: a parser cannot forge provenance.
* **parser** fields are what a parser reads from the source record.
* Times are stored in UTC (`timestamp_utc`), next to the timestamp exactly as the source wrote it
  (`timestamp_source`), how its zone was decided (`tz_basis`) and whether the local time was
  ambiguous or non-existent because of a clock change (`tz_flag`). Display is in UK local time
  with GMT/BST marked.
* `event_id` is the first 24 hex digits of SHA-256 over `source_sha256`, `locator` and `part`: the
  same file ingested again gives the same ids, and two identical messages on different lines
  stay distinct.
* Identifiers are scheme-prefixed: `tel:+447700900123`, `email:…`, `whatsapp:+44…`,
  `instagram:handle`, `name:whatsapp:Display Name`, `vrm:AB12CDE`. A phone number that cannot be
  read as E.164 is kept verbatim (`tel:1 555-521-5554`) and the event gets a flag such as
  `sender_unparsed_number`. An identifier is never a person: `case.toml` attributes identifiers to
  persons, each with its basis.
"""


def _table(rows: tuple) -> list[str]:
    out = ["| field | type | set by | meaning |", "|---|---|---|---|"]
    for f in rows:
        out.append(f"| `{f.name}` | {f.arrow} | {f.origin} | {f.doc.replace('|', '/')} |")
    return out


def render() -> str:
    """Return the Markdown text of the schema page."""
    lines = [INTRO.format(version=SCHEMA_VERSION), "## Event fields", ""]
    lines += _table(EVENT_FIELDS)
    lines += ["", "## Closed vocabularies", ""]
    for name, values in (("kind", KINDS), ("direction", DIRECTIONS), ("tz_flag", TZ_FLAGS),
                         ("location_method", LOCATION_METHODS), ("deleted", DELETION_STATES)):
        lines.append(f"* `{name}`: " + ", ".join(f"`{v}`" for v in values))
    lines += ["", "## Rejected-records ledger", "",
              "Every source record that could not become an event is kept here with its locator and",
              "the reason. For every ingest, read = accepted + rejected + out of scope.", ""]
    lines += _table(REJECTION_FIELDS)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
