"""Write a large, realistic Cellebrite report.xml for benchmarks and fixtures (seeded, streaming).

``write_report(path, n_records, seed)`` writes the same bytes for the same
arguments. It writes model by model and never holds the document in memory, so
it can produce multi-gigabyte reports for the streaming-memory benchmark.
The shape follows ``tests/data/parsers/ufed_xml/report.xml``: metadata
sections, a few tagged files, then ``decodedData`` grouped by ``modelType``.
Every person, number and address in it is invented (Ofcom drama ranges).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import IO

from atlas.timeparse import zone

NS = "http://pa.cellebrite.com/report/2.0"
# Share of decoded records per type; "Cookie" is deliberately unsupported (rejected, counted).
MIX = (
    ("Call", 0.20),
    ("SMS", 0.25),
    ("InstantMessage", 0.35),
    ("Contact", 0.05),
    ("Location", 0.10),
    ("Email", 0.03),
    ("InstalledApplication", 0.01),
    ("Cookie", 0.01),
)
METADATA = (
    (
        "Additional Fields",
        (("DeviceInfoCreationTime", "14/06/2023 11:02:31"), ("UFED_PA_Version", "7.60.0.63")),
    ),
    (
        "Extraction Data",
        (
            ("DeviceInfoSelectedDeviceName", "Apple iPhone 12"),
            ("Time zone settings (ID)", "_Europe/London"),
        ),
    ),
    (
        "Device Info",
        (("IMEI", "356789104567891"), ("IMSI", "234150123456789"), ("MSISDN", "07700 900123")),
    ),
)
APPS = ("WhatsApp", "Instagram", "Facebook Messenger", "Snapchat", "Telegram", "Signal")
WORDS = (
    "where",
    "are",
    "you",
    "answer",
    "me",
    "now",
    "I",
    "saw",
    "your",
    "car",
    "outside",
    "please",
    "stop",
    "why",
    "did",
    "block",
    "ok",
    "later",
    "home",
    "late",
    "sorry",
    "call",
)
OWN = "+447700900123"


def write_report(path: str, n_records: int, seed: int) -> dict[str, int]:
    """Write a report with ``n_records`` decoded records; return what a parser should count.

    The result holds ``read`` (metadata items + decoded records, i.e. what the
    parser yields) and ``rejected`` (the unsupported models among them).
    """
    rng = random.Random(seed)
    counts = _split(n_records, rng)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n')
        out.write(
            f'<project xmlns="{NS}" id="00000000-0000-4000-8000-{seed:012d}" name="synthetic" '
            f'reportVersion="7.60.0.0" containsGarbage="False" extractionType="AdvancedLogical">\n'
        )
        for section, items in METADATA:
            out.write(f'  <metadata section="{section}">\n')
            for name, value in items:
                out.write(
                    f'    <item name="{name}" systemtype="System.String">{_cdata(value)}</item>\n'
                )
            out.write("  </metadata>\n")
        out.write("  <taggedFiles />\n  <decodedData>\n")
        for kind in (
            "Call",
            "SMS",
            "Contact",
            "Location",
            "Email",
            "InstalledApplication",
            "Cookie",
        ):
            if counts[kind]:
                out.write(f'    <modelType type="{kind}">\n')
                for i in range(counts[kind]):
                    _model(out, kind, i, rng)
                out.write("    </modelType>\n")
        if counts["InstantMessage"]:
            _chats(out, counts["InstantMessage"], rng)
        out.write("  </decodedData>\n</project>\n")
    items = sum(len(i) for _, i in METADATA)
    return {"read": items + n_records, "rejected": counts["Cookie"]}


def _split(n: int, rng: random.Random) -> dict[str, int]:
    counts = {kind: 0 for kind, _ in MIX}
    kinds, weights = zip(*MIX, strict=True)
    for kind in rng.choices(kinds, weights, k=n):
        counts[kind] += 1
    return counts


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _field(name: str, ftype: str, value: str | None) -> str:
    if value is None:
        return f'<field name="{name}" type="{ftype}"><empty /></field>'
    return (
        f'<field name="{name}" type="{ftype}"><value type="{ftype}">{_cdata(value)}</value></field>'
    )


def _time(rng: random.Random, name: str = "TimeStamp") -> str:
    utc = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400))
    local = utc.astimezone(zone("Europe/London"))
    if rng.random() < 0.05:  # some sources store wall-clock time only
        text = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(1000):03d}"
        shown = local.strftime("%Y-%m-%dT%H:%M:%S") + "+00:00"
        attrs = f'format="DateTimeOnly" formattedTimestamp="{shown}"'
    else:
        text = local.isoformat(timespec="milliseconds")
        attrs = (
            f'format="TimeStampKnown" formattedTimestamp="{local.isoformat(timespec="seconds")}"'
        )
    value = f'<value type="TimeStamp" {attrs}>{text}</value>'
    return f'<field name="{name}" type="TimeStamp">{value}</field>'


def _number(rng: random.Random) -> str:
    return f"+4477009{rng.randrange(100000):05d}"


def _party(pid: str, ident: str, role: str, owner: bool = False, name: str | None = None) -> str:
    return (
        f'<model type="Party" id="{pid}">'
        + _field("Identifier", "String", ident)
        + _field("Role", "PartyRole", role)
        + (_field("Name", "String", name) if name else "")
        + (_field("IsPhoneOwner", "Boolean", "True") if owner else "")
        + "</model>"
    )


def _attrs(kind: str, mid: str, rng: random.Random) -> str:
    state = rng.choices(("Intact", "Deleted", "Unknown"), (0.9, 0.08, 0.02))[0]
    return (
        f'type="{kind}" id="{mid}" deleted_state="{state}" decoding_confidence="High" '
        f'isrelated="False" source_index="{rng.randrange(10**6)}" extractionId="0"'
    )


def _words(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randrange(1, 14)))


def _model(out: IO[str], kind: str, i: int, rng: random.Random) -> None:
    mid = f"{kind.lower()}-{i:08d}"
    parts = [f"      <model {_attrs(kind, mid, rng)}>"]
    incoming = rng.random() < 0.6
    other = _number(rng)
    if kind == "Call":
        parts += [
            _field("Direction", "ModelDirections", "Incoming" if incoming else "Outgoing"),
            _field("Status", "CallStatus", rng.choice(("Established", "Missed", "Rejected"))),
            _time(rng),
            _field("Duration", "TimeSpan", f"00:{rng.randrange(60):02d}:{rng.randrange(60):02d}"),
            '<multiModelField name="Parties" type="Party">'
            + _party(f"{mid}-p", other, "From" if incoming else "To")
            + "</multiModelField>",
        ]
    elif kind in ("SMS", "Email"):
        ident = other if kind == "SMS" else f"user{rng.randrange(999)}@example.org"
        parts += [
            _field("Folder", "String", "Inbox" if incoming else "Sent"),
            _time(rng),
            _field("Body", "String", _words(rng)),
            f'<multiModelField name="{"Parties" if kind == "SMS" else "To"}" type="Party">'
            + _party(f"{mid}-p", ident, "From" if incoming else "To")
            + "</multiModelField>",
        ]
    elif kind == "Contact":
        parts += [
            _field(
                "Name", "String", rng.choice(("Dave", "Mum", "Work", "Do not answer", "Unknown"))
            ),
            '<multiModelField name="Entries" type="ContactEntry"><model type="PhoneNumber" '
            f'id="{mid}-e">' + _field("Value", "String", other) + "</model></multiModelField>",
        ]
    elif kind == "Location":
        parts += [
            _field("Source", "String", rng.choice(("Life360", "Google Maps", "Apple Maps"))),
            _time(rng),
            _field("Precision", "String", str(rng.randrange(3, 80))),
            f'<modelField name="Position" type="Coordinate"><model type="Coordinate" id="{mid}-c">'
            + _field("Latitude", "Double", f"{51.3 + rng.random() * 0.4:.6f}")
            + _field("Longitude", "Double", f"{-0.4 + rng.random() * 0.5:.6f}")
            + "</model></modelField>",
        ]
    elif kind == "InstalledApplication":
        parts += [
            _field("Name", "String", rng.choice(("Life360", "WhatsApp", "Find My"))),
            _time(rng, "PurchaseDate"),
        ]
    else:
        parts += [_field("Domain", "String", "example.org"), _field("Name", "String", "sid")]
    out.write("".join(parts) + "</model>\n")


def _chats(out: IO[str], n_messages: int, rng: random.Random) -> None:
    out.write('    <modelType type="Chat">\n')
    written, chat = 0, 0
    while written < n_messages:
        size = min(n_messages - written, rng.randrange(1, 400))
        app, other, cid = rng.choice(APPS), _number(rng), f"chat-{chat:08d}"
        out.write(
            f"      <model {_attrs('Chat', cid, rng)}>"
            + _field("Source", "String", app)
            + _field("Id", "String", other)
            + _field("Name", "String", f"contact {chat}")
            + '<multiModelField name="Participants" type="Party">'
            + _party(f"{cid}-p1", other, "General")
            + _party(f"{cid}-p2", OWN, "General", owner=True)
            + "</multiModelField>"
            + '<multiModelField name="Messages" type="InstantMessage">\n'
        )
        for j in range(size):
            mid = f"{cid}-m{j:06d}"
            incoming = rng.random() < 0.5
            sender = _party(f"{mid}-f", other if incoming else OWN, "From", owner=not incoming)
            out.write(
                f"        <model {_attrs('InstantMessage', mid, rng)}>"
                + _time(rng)
                + _field("Body", "String", _words(rng))
                + f'<modelField name="From" type="Party">{sender}</modelField></model>\n'
            )
        out.write("      </multiModelField></model>\n")
        written += size
        chat += 1
    out.write("    </modelType>\n")
