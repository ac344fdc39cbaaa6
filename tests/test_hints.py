"""Identity hints from an extraction are listed beside case.toml's attributions, never merged into them."""

from __future__ import annotations

import shutil

from atlas.case import load_case, write_new_case
from atlas.cli import main
from atlas.hints import identity_hints
from atlas.ingest import ingest_file

PEOPLE = """
[[persons]]
id = "P1"
name = "Sam Suspect"
role = "suspect"
[[persons.identifiers]]
value = "tel:07700 900456"
basis = "Subscriber check"
"""


def test_hints_from_a_ufed_report(tmp_path, data_dir, capsys):
    write_new_case(tmp_path / "c", "01AB2345678", "Dana Irving")
    with open(tmp_path / "c" / "case.toml", "a", encoding="utf-8") as fh:
        fh.write(PEOPLE)
    case = load_case(tmp_path / "c")
    report = case.root / "exhibits" / "report.xml"
    shutil.copy(data_dir / "parsers" / "ufed_xml" / "report.xml", report)
    ingest_file(case, report, "DI/1", fmt="ufed_xml")
    before = (case.root / "case.toml").read_bytes()

    hints = identity_hints(case)
    saved = hints[hints["hint"] == "contact"]
    row = saved[saved["identifier"] == "tel:+447700900456"].iloc[0]
    assert (row["label"], row["attributed_to"], row["exhibit_ref"]) == ("Do not answer", "P1", "DI/1")
    own = hints[hints["hint"] == "device_own_identifier"].set_index("identifier")
    assert own.loc["tel:+447700900123", "label"] == "MSISDN"
    assert own.loc["tel:+447700900123", "attributed_to"] == ""
    assert list(hints["identifier"]) == sorted(hints["identifier"])
    assert (case.root / "case.toml").read_bytes() == before

    assert main(["hints", str(case.root)]) == 0
    out = capsys.readouterr().out
    assert "Do not answer" in out and "attributed to P1 in case.toml" in out and "never change case.toml" in out
