"""atlas report on a small hand-made case: refusals, stale results, hostile text, verify, layout."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile

import pypdf
import pytest
from docx import Document

from atlas.analysis import run_analyses
from atlas.case import load_case
from atlas.cli import main
from atlas.errors import CaseConfigError, UsageError
from atlas.ingest import ingest_file
from atlas.report import write_report
from atlas.verify import verify
from atlas.wording import WordingError

HOSTILE = "=HYPERLINK(\"http://x.invalid\",\"open\") <b>bold</b> \u202eevil\u202c \x07bell"

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

[statement]
occupation = "Police staff, digital investigator"
age = "Over 18"
date = 2025-02-03
fsr_status = "compliant"
requested_by = "DS 1 Example"
instructions = "Set out the contact. =cmd|' /C calc'!A0 <script>x</script> \u202Eevil\u202C \u0007end"
'''


def _chat(days: int, start: int = 1) -> str:
    lines = []
    for d in range(start, start + days):
        lines.append(f"{d:02d}/03/2024, 09:0{d % 10} - Alex: message {d}")
        lines.append(f"{d:02d}/03/2024, 10:0{d % 10} - Sam: reply {d}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small") / "smallcase"
    (root / "exhibits").mkdir(parents=True)
    (root / "case.toml").write_text(CASE_TOML, encoding="utf-8")
    (root / "exhibits" / "chat.txt").write_text(_chat(9), encoding="utf-8")
    case = load_case(root)
    ingest_file(case, root / "exhibits" / "chat.txt", "JE/1", "whatsapp_txt")
    run_analyses(case, only=("coverage", "contact_graph", "frequency"))
    write_report(case)
    return root


@pytest.fixture
def copy(small, tmp_path):
    target = tmp_path / "smallcase"
    shutil.copytree(small, target)
    return target


def _edit(root, old: str, new: str) -> None:  # noqa: ANN001
    path = root / "case.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize(("line", "key"), [
    ('occupation = "Police staff, digital investigator"\n', "statement.occupation"),
    ('age = "Over 18"\n', "statement.age"),
    ("date = 2025-02-03\n", "statement.date"),
    ('fsr_status = "compliant"\n', "statement.fsr_status"),
])
def test_refuses_without_each_header_field_and_names_it(copy, line, key):
    _edit(copy, line, "")
    for name in ("statement.pdf", "statement.docx"):
        (copy / "report" / name).unlink()
    with pytest.raises(CaseConfigError) as err:
        write_report(load_case(copy))
    assert err.value.key == key and "required to write the statement" in err.value.message
    assert not (copy / "report" / "statement.pdf").exists()


def test_fsr_status_has_no_default_and_needs_details(copy):
    _edit(copy, 'fsr_status = "compliant"', 'fsr_status = ""')
    with pytest.raises(CaseConfigError, match="statement.fsr_status"):
        write_report(load_case(copy))
    _edit(copy, 'fsr_status = ""', 'fsr_status = "non_compliant"')
    with pytest.raises(CaseConfigError, match="statement.fsr_details"):
        load_case(copy)
    _edit(copy, 'fsr_status = "non_compliant"', 'fsr_status = "yes"')
    with pytest.raises(CaseConfigError, match="statement.fsr_status"):
        load_case(copy)
    _edit(copy, 'fsr_status = "yes"', 'fsr_status = "not_applicable"\nfsr_details = "Outside DIG 100."')
    write_report(load_case(copy))
    text = "\n".join(p.text for p in Document(str(copy / "report/statement.docx")).paragraphs)
    assert "I have not made a declaration of compliance" in text and "Outside DIG 100." in text
    assert "(version 1, in force on 3 February 2025)" in text


def test_contact_details_and_unknown_statement_keys_are_refused(copy):
    _edit(copy, 'age = "Over 18"', 'age = "Over 18"\nphone = "07700 900000"')
    with pytest.raises(CaseConfigError, match="statement.phone: unknown key"):
        load_case(copy)


def test_refuses_without_results(copy):
    shutil.rmtree(copy / "results")
    with pytest.raises(UsageError, match="run 'atlas analyse"):
        write_report(load_case(copy))


def test_refuses_results_older_than_the_store(copy):
    (copy / "exhibits" / "more.txt").write_text(_chat(3, start=20), encoding="utf-8")
    case = load_case(copy)
    ingest_file(case, copy / "exhibits" / "more.txt", "JE/2", "whatsapp_txt")
    with pytest.raises(UsageError, match="older store"):
        write_report(case)
    run_analyses(case, only=("coverage", "contact_graph", "frequency"))
    assert write_report(case).pages >= 2


def test_refuses_a_results_file_changed_after_logging(copy):
    path = copy / "results" / "coverage.json"
    path.write_text(path.read_text(encoding="utf-8").replace("coverage", "coverage ", 1), encoding="utf-8")
    with pytest.raises(UsageError, match="changed after"):
        write_report(load_case(copy))


def test_hostile_text_is_inert_in_docx_and_pdf(small):
    pdf_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(str(small / "report/statement.pdf")).pages)
    with zipfile.ZipFile(small / "report/statement.docx") as z:
        xml = z.read("word/document.xml").decode("utf-8")
    flat = re.sub(r"\s+", " ", pdf_text)
    # Markup is shown as text, not applied; the override and the bell are shown as markers.
    assert "<script>x</script>" in flat and "=cmd|' /C calc'!A0" in flat
    assert "[U+202E]evil[U+202C]" in flat and "[U+0007]end" in flat
    assert "\u202e" not in pdf_text and "\x07" not in pdf_text
    assert "&lt;script&gt;x&lt;/script&gt;" in xml and "<script>" not in xml
    assert "\u202e" not in xml and "\x07" not in xml and "[U+202E]evil" in xml


def test_renderers_escape_markup_and_neutralise_controls_directly():
    from atlas._report_docx import render_docx
    from atlas._report_model import Block, Statement, config, declaration_file, inert
    from atlas._report_pdf import render_pdf

    text = inert(HOSTILE)
    assert text == ("=HYPERLINK(\"http://x.invalid\",\"open\") <b>bold</b> [U+202E]evil[U+202C] [U+0007]bell")
    decl, sha = declaration_file(config()["declaration"])
    stmt = Statement(urn="01AB2345678", maker="Jo Example", age="Over 18", occupation="Analyst",
                     date_text="3 February 2025", marking="", labels=config()["labels"],
                     declaration_template=decl, declaration_name="s9", declaration_sha256=sha,
                     blocks=(Block("paragraph", text), Block("table", header=("a", "b"), rows=((text, "x"),),
                                                             widths=(0.5, 0.5))),
                     extra={"legal_basis": "", "date": dt.date(2025, 2, 3)})
    pdf, pages = render_pdf(stmt)
    assert pages == 1
    import io

    flat = re.sub(r"\s+", " ", pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert flat.count("<b>bold</b>") == 2 and "[U+202E]evil" in flat
    doc = Document(io.BytesIO(render_docx(stmt, pages)))
    assert doc.paragraphs[-1].text.startswith("=HYPERLINK") or any(
        p.text.startswith("=HYPERLINK") for p in doc.paragraphs)
    assert doc.tables[-1].rows[1].cells[0].text == text


def test_verify_reruns_the_report_and_names_a_changed_statement(copy):
    report = verify(copy)
    assert not report.problems, report.problems
    assert any(re.search(r"step \d+ report: \d+ output\(s\) reproduced byte for byte", line)
               for line in report.lines)
    data = bytearray((copy / "report/statement.pdf").read_bytes())
    data[len(data) // 2] ^= 1
    (copy / "report/statement.pdf").write_bytes(bytes(data))
    problems = verify(copy).problems
    assert any("MODIFIED" in p and "report/statement.pdf" in p for p in problems)


def test_cli_writes_one_format_and_refuses_conclusions(copy, monkeypatch, capsys):
    assert main(["report", str(copy), "--format", "docx"]) == 0
    assert (copy / "report/statement.docx").exists() and not (copy / "report/statement.pdf").exists()
    assert "statement.docx" in capsys.readouterr().out
    assert main(["report", str(copy), "--format", "odt"]) == 2
    assert main(["report", str(copy), "--exhibit-prefix", "je"]) == 2

    import atlas._report_content as content
    from atlas._report_model import Block

    real = content.intro
    monkeypatch.setattr(content, "intro", lambda f: [*real(f), Block("paragraph", "The records prove he stalked her.")])
    (copy / "report/statement.docx").unlink()
    assert main(["report", str(copy)]) == 1
    err = capsys.readouterr().err
    assert '"prove"' in err and '"stalked"' in err and "The records prove he stalked her." in err
    assert not (copy / "report/statement.docx").exists()
    with pytest.raises(WordingError):
        write_report(load_case(copy))


def test_declared_page_count_follows_the_layout(copy, monkeypatch):
    import atlas._report_pdf as pdf_module

    def pages_of(path):  # noqa: ANN001, ANN202
        reader = pypdf.PdfReader(str(path))
        first = re.sub(r"\s+", " ", reader.pages[0].extract_text())
        return len(reader.pages), int(re.search(r"consisting of (\d+) page", first).group(1))

    normal = pages_of(copy / "report/statement.pdf")
    assert normal[0] == normal[1]
    real = pdf_module._styles

    def big() -> dict:
        styles = real()
        for s in styles.values():
            s.fontSize, s.leading = s.fontSize * 1.8, s.leading * 1.8
        return styles

    monkeypatch.setattr(pdf_module, "_styles", big)
    write_report(load_case(copy))
    bigger = pages_of(copy / "report/statement.pdf")
    assert bigger[0] == bigger[1] > normal[0]


def test_fsr_code_version_by_date():
    from atlas._report_findings import fsr_code_version

    assert fsr_code_version(dt.date(2025, 10, 1)) == "1"
    assert fsr_code_version(dt.date(2025, 10, 2)) == "2"
    assert fsr_code_version(dt.date(2023, 1, 1)) == "none in force"


def test_completing_the_header_after_analysis_still_verifies(copy):
    _edit(copy, 'requested_by = "DS 1 Example"', 'requested_by = "DS 2 Example"')
    write_report(load_case(copy))
    report = verify(copy)
    assert not report.problems, report.problems
    assert any("case.toml has changed since this step; its outputs are reproduced" in line for line in report.lines)
    assert any(re.search(r"step \d+ report: superseded by step \d+", line) for line in report.lines)
    text = "\n".join(p.text for p in Document(str(copy / "report/statement.docx")).paragraphs)
    assert "DS 2 Example" in text
