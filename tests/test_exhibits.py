"""Derived exhibits (atlas.exhibits, atlas.redact): files, hashes, sources, inert cells, redaction."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from atlas import redact
from atlas.analysis import run_analyses
from atlas.case import load_case
from atlas.exhibits import produce_exhibits
from atlas.ingest import ingest_file
from atlas.provenance import sha256_file
from atlas.store import load_events, read_manifest
from tests.analyses.helpers import synthetic_case

HOSTILE = "=HYPERLINK(\"http://x.invalid\",\"open\") <b>bold</b> \u202eevil\u202c \x07bell ]]> +44 7700 900766"

CASE_TOML = r'''schema = 1
[case]
urn = "01AB2345678"

[analyst]
name = "Jo Example"
role = "Digital investigator"
organisation = "Example Police"
initials = "JE"

[[persons]]
id = "P1"
name = "Alex Suspect"
role = "suspect"
[[persons.identifiers]]
value = "name:whatsapp:Alex"
basis = "Name shown for the other party in the export, JE/1"

[[persons]]
id = "P2"
name = "Sam Complainant"
role = "victim"
[[persons.identifiers]]
value = "device:JE/1"
basis = "WhatsApp export made from her handset"

[[persons]]
id = "P3"
name = "Chris Friend"
role = "other"
[[persons.identifiers]]
value = "tel:+447700900766"
basis = "Her statement: a friend's number"
[[persons.identifiers]]
value = "name:whatsapp:Chris"
basis = "Name in the group chat"
'''


def _chat() -> str:
    lines = []
    for d in range(1, 8):
        lines.append(f"{d:02d}/03/2024, 09:0{d} - Alex: message {d}")
        lines.append(f"{d:02d}/03/2024, 10:0{d} - Sam: reply {d}")
    lines.append(f"08/03/2024, 11:00 - Alex: {HOSTILE}")
    lines.append("08/03/2024, 11:05 - Alex: tell Chris Friend to call 07700900766")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("exhibits") / "case"
    (root / "exhibits").mkdir(parents=True)
    (root / "case.toml").write_text(CASE_TOML, encoding="utf-8")
    (root / "exhibits" / "chat.txt").write_text(_chat(), encoding="utf-8")
    case = load_case(root)
    ingest_file(case, root / "exhibits" / "chat.txt", "JE/1", "whatsapp_txt")
    run_analyses(case, only=("coverage", "contact_graph", "frequency"))
    return case


def _produce(case, out: Path, redacting: bool = False):  # noqa: ANN001, ANN202
    ids = load_events(case.root, columns=["event_id"])["event_id"].tolist()
    return produce_exhibits(case, out, "JE", 2, cited_event_ids=ids, redact_third_parties=redacting)


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_files_hashes_refs_and_sources(small):
    produced = _produce(small, small.root / "report" / "exhibits")
    refs = [p.ref for p in produced]
    assert refs == [f"JE/{n}" for n in range(2, 2 + len(produced))]
    sha = {i["exhibit_ref"]: i["source_sha256"] for i in read_manifest(small.root)["ingests"]}
    for p in produced:
        path = small.root / p.path
        assert path.is_file() and p.path.startswith("report/exhibits/")
        assert sha256_file(str(path)) == p.sha256
        assert p.sources == (("JE/1", sha["JE/1"]),)
        assert p.production.startswith(f"I produce as exhibit {p.ref} ")
    kinds = {Path(p.path).suffix for p in produced}
    assert {".png", ".xlsx", ".csv"} <= kinds
    assert any("chronology" in p.path for p in produced)


def test_byte_identical_on_a_second_run(small):
    first = {p.ref: p.sha256 for p in _produce(small, small.root / "report" / "run-a")}
    second = {p.ref: p.sha256 for p in _produce(small, small.root / "report" / "run-b")}
    assert first == second


def test_hostile_text_is_inert_in_csv_and_xlsx(small):
    out = small.root / "report" / "hostile"
    produced = _produce(small, out)
    chron_csv = next(out / Path(p.path).name for p in produced if p.path.endswith("chronology.csv"))
    cells = [c for row in _rows(chron_csv) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    hostile = next(c for c in cells if "HYPERLINK" in c)
    assert hostile.startswith("'=") and "[U+202E]" in hostile and "[U+0007]" in hostile
    assert "\u202e" not in hostile and "\x07" not in hostile
    for p in produced:
        if p.path.endswith(".xlsx"):
            wb = load_workbook(out / Path(p.path).name)
            for ws in wb.worksheets:
                for row in ws.iter_rows():
                    assert all(c.data_type != "f" for c in row)
            with zipfile.ZipFile(out / Path(p.path).name) as z:
                assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
                assert b"2000-01-01T00:00:00Z" in z.read("docProps/core.xml")


def test_redaction_replaces_third_parties_everywhere_and_keeps_the_map_in_the_case(small, tmp_path):
    out = small.root / "report" / "exhibits-redacted"
    produced = _produce(small, out, redacting=True)
    assert all(p.redacted for p in produced if not p.path.endswith(".png"))
    assert not any(p.analysis == "contact_graph" and p.path.endswith(".png") for p in produced)
    text = "\n".join(
        "\n".join(",".join(r) for r in _rows(out / Path(p.path).name)) for p in produced if p.path.endswith(".csv"))
    assert "Person 3" in text
    assert "Chris Friend" not in text and "07700900766" not in text and "+447700900766" not in text
    mapping = json.loads((out.parent / "redaction_map.json").read_text(encoding="utf-8"))
    assert mapping["pseudonyms"][0]["pseudonym"] == "Person 3" and mapping["pseudonyms"][0]["person"] == "P3"
    assert not list(out.glob("*redaction*"))


def test_pseudonymise_whole_tokens_and_national_form(small):
    case = small
    assert redact.pseudonymise(case, "Call tel:+447700900766 or 07700900766 now") == \
        "Call Person 3 or Person 3 now"
    assert redact.pseudonymise(case, "Chris Friend and Christopher") == "Person 3 and Christopher"
    assert redact.pseudonymise(case, "077009007660") == "077009007660"  # inside a longer number


def test_synthetic_case_map_files_parse_and_schedule_is_produced(tmp_path):
    case, _ = synthetic_case(tmp_path / "case")
    run_analyses(case, only=("colocation", "schedule"))
    produced = produce_exhibits(case, case.root / "report" / "exhibits", "DI", 5, cited_event_ids=[])
    kml = [p for p in produced if p.path.endswith(".kml")]
    assert kml and kml[0].media_type == "application/vnd.google-earth.kml+xml"
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(case.root / kml[0].path), parser).getroot()
    assert root.tag.endswith("kml")
    schedule = [p for p in produced if p.path.endswith("schedule_schedule.csv")]
    assert schedule and "Schedule of occasions" in schedule[0].title
    assert {r for r, _ in schedule[0].sources} >= {"DI/1"}


def test_a_derived_reference_never_repeats_a_source_reference(small, tmp_path):
    from atlas.errors import AtlasError

    with pytest.raises(AtlasError, match="JE/1 is already a source exhibit"):
        produce_exhibits(small, small.root / "report" / "clash", "JE", 1, cited_event_ids=[])
    assert not (small.root / "report" / "clash").exists()
