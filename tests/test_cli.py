"""The command line: every command works, logs itself, and reports errors without tracebacks."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from atlas.cli import main
from atlas.events import FIELD_NAMES
from atlas.log import read as read_log

PEOPLE = """
[[persons]]
id = "P1"
name = "Sam Suspect"
role = "suspect"
[[persons.identifiers]]
value = "name:whatsapp:Sam"
basis = "Name shown in the export"
"""
CHAT = ("12/05/2024, 09:16 - Sam: Morning\n"
        "12/05/2024, 09:17 - Vic: =cmd|' /C calc'!A0\n"
        "13/05/2024, 22:05 - Sam: I know where you are\x1b[2J\n")


@pytest.fixture
def case_dir(tmp_path) -> Path:
    root = tmp_path / "case"
    assert main(["init", str(root), "--urn", "01AB2345678", "--analyst", "Dana Irving"]) == 0
    with open(root / "case.toml", "a", encoding="utf-8") as fh:
        fh.write(PEOPLE)
    (root / "exhibits" / "chat.txt").write_text(CHAT, encoding="utf-8")
    return root


def test_init_check_ingest_events(case_dir, capsys, tmp_path):
    assert main(["check", str(case_dir)]) == 0
    assert "name:whatsapp:Sam" in capsys.readouterr().out
    assert main(["ingest", str(case_dir), str(case_dir / "exhibits" / "chat.txt"), "--exhibit", "DI/1"]) == 0
    out = capsys.readouterr().out
    assert "read 3, accepted 3, rejected 0" in out
    assert main(["events", str(case_dir), "--person", "P1"]) == 0
    out = capsys.readouterr().out
    assert "2024-05-12 09:16:00 BST" in out and "DI/1 line:1" in out
    assert "\x1b" not in out and "\\u001b" in out
    assert "2 event(s)" in out

    target = tmp_path / "timeline.csv"
    assert main(["events", str(case_dir), "--csv", str(target)]) == 0
    with open(target, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["display_time", *FIELD_NAMES]
    assert len(rows) == 3
    assert rows[1]["text"].startswith("'=cmd")
    assert rows[0]["display_time"] == "2024-05-12 09:16:00 BST"
    assert rows[0]["exhibit_ref"] == "DI/1" and rows[0]["locator"] == "line:1"

    assert main(["summary", str(case_dir)]) == 0
    assert "read 3 = accepted 3 + rejected 0 + out of scope 0" in capsys.readouterr().out

    commands = [(e["command"], e["status"]) for e in read_log(case_dir)]
    assert commands == [("init", "ok"), ("ingest", "ok"), ("events", "ok"), ("events", "ok")]
    last = read_log(case_dir)[-1]
    assert last["outputs"][0]["sha256"] and last["environment"]["atlas"]


def test_second_ingest_says_nothing_added(case_dir, capsys):
    args = ["ingest", str(case_dir), str(case_dir / "exhibits" / "chat.txt"), "--exhibit", "DI/1"]
    assert main(args) == 0
    assert main(args) == 0
    assert "already ingested as exhibit DI/1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [(["--format", "nope"], "unknown format 'nope'"),
     (["--only-with", "P1"], "needs --reason"),
     (["--only-with", "P9", "--reason", "x"], "no person 'P9'"),
     (["--from", "2024-10-27T01:30", "--reason", "x"], "ambiguous")],
    ids=["unknown-format", "scope-without-reason", "unknown-person", "ambiguous-bound"],
)
def test_usage_errors_exit_2_without_traceback(case_dir, capsys, extra, message):
    code = main(["ingest", str(case_dir), str(case_dir / "exhibits" / "chat.txt"), "--exhibit", "DI/1", *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_scope_is_recorded_in_log_and_manifest(case_dir, capsys):
    assert main(["ingest", str(case_dir), str(case_dir / "exhibits" / "chat.txt"), "--exhibit", "DI/1",
                 "--only-with", "P1", "--to", "2024-05-12", "--reason", "Victim consented to this period"]) == 0
    assert "read 3, accepted 1, rejected 0, out of scope 2" in capsys.readouterr().out
    manifest = json.loads((case_dir / "store" / "manifest.json").read_text())
    assert manifest["ingests"][0]["scope"]["reason"] == "Victim consented to this period"
    logged = read_log(case_dir)[-1]
    assert logged["args"]["scope"]["only_with"] == ["P1"]


def test_broken_case_file_names_key(case_dir, capsys):
    text = (case_dir / "case.toml").read_text().replace('role = "suspect"', 'role = "villain"')
    (case_dir / "case.toml").write_text(text)
    assert main(["check", str(case_dir)]) == 2
    assert "persons[0].role" in capsys.readouterr().err


@pytest.mark.slow
def test_console_entry_point_runs(case_dir):
    proc = subprocess.run([sys.executable, "-m", "atlas", "formats"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0 and "whatsapp_txt" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "atlas", "ingest", str(case_dir), str(case_dir / "nope.txt"),
                           "--exhibit", "DI/9"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
