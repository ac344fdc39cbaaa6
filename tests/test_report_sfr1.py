"""atlas report --sfr1: the one-page SFR1-style summary on a small hand-made case.

One module-scoped case (a WhatsApp export, four analyses, statement and summary written once);
tests that change it work on a copy.
"""

from __future__ import annotations

import collections
import re
import shutil
import zipfile

import pypdf
import pypdfium2 as pdfium
import pytest
from docx import Document
from docx.oxml.ns import qn

from atlas import _report_sfr1, log
from atlas.analysis import run_analyses
from atlas.case import load_case
from atlas.cli import main
from atlas.errors import CaseConfigError
from atlas.ingest import ingest_file
from atlas.provenance import sha256_file
from atlas.report import write_report
from atlas.verify import verify
from atlas.wording import WordingError
from tests.test_report_checks import CASE_TOML, _chat

NUMBERED = re.compile(r"^(\d+)\.\t(.*)$", re.S)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("sfr1") / "smallcase"
    (root / "exhibits").mkdir(parents=True)
    (root / "case.toml").write_text(CASE_TOML, encoding="utf-8")
    (root / "exhibits" / "chat.txt").write_text(_chat(9), encoding="utf-8")
    case = load_case(root)
    ingest_file(case, root / "exhibits" / "chat.txt", "JE/1", "whatsapp_txt")
    run_analyses(case, only=("coverage", "contact_graph", "frequency", "occasions"))
    result = write_report(case, sfr1=True)
    return root, result


@pytest.fixture
def copy(small, tmp_path):
    target = tmp_path / "smallcase"
    shutil.copytree(small[0], target)
    return target


def _paragraphs(path) -> list[str]:  # noqa: ANN001
    """Every body paragraph's text (w:t and w:tab in reading order), table cells included."""
    doc = Document(str(path))
    return ["".join("\t" if t.tag == qn("w:tab") else t.text or "" for t in p.iter(qn("w:t"), qn("w:tab")))
            for p in doc.element.body.iter(qn("w:p"))]


def _findings(path) -> list[str]:  # noqa: ANN001
    """The numbered findings of the summary's DOCX, without their numbers, in order."""
    out = []
    for text in _paragraphs(path):
        m = NUMBERED.match(text)
        if m:
            assert int(m.group(1)) == len(out) + 1
            out.append(m.group(2))
    return out


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_written_logged_and_exactly_one_page(small):
    root, result = small
    assert [p.name for p in result.sfr1_files] == ["sfr1.docx", "sfr1.pdf"]
    assert len(pypdf.PdfReader(str(root / "report/sfr1.pdf")).pages) == 1
    entry = log.read(root)[-1]
    assert entry["command"] == "report" and entry["args"]["sfr1"] is True
    logged = {o["path"]: o["sha256"] for o in entry["outputs"]}
    for name in ("sfr1.docx", "sfr1.pdf"):
        assert logged[f"report/{name}"] == sha256_file(str(root / "report" / name))
    assert entry["counts"]["sfr1_findings"] == result.sfr1_findings == len(_findings(root / "report/sfr1.docx")) > 1


def test_each_finding_is_verbatim_in_the_statement_with_its_citation(small):
    root, result = small
    statement = _paragraphs(root / "report/statement.docx")
    statement_pdf = _compact("".join(p.extract_text() for p in pypdf.PdfReader(str(root / "report/statement.pdf")).pages))
    findings = _findings(root / "report/sfr1.docx")
    assert findings
    for text in findings:
        assert text in statement, text[:80]                       # a whole paragraph of the statement
        assert re.search(r"\[[\d,]+ records?: [^\]]+\]$", text), text[-60:]
        assert _compact(text) in statement_pdf
    summary = "\n".join(_paragraphs(root / "report/sfr1.docx"))
    assert f"The full statement holds {result.findings} findings" in summary
    assert "Below, in the statement's order, is the first finding that cites records of each of them." in summary
    # The FSR paragraph is the statement's, verbatim; the header names the statement by its hash.
    fsr = next(p for p in statement if p.startswith("I declare that the work described"))
    assert fsr in _paragraphs(root / "report/sfr1.docx")
    assert sha256_file(str(root / "report/statement.pdf")) in summary
    assert "01AB2345678" in summary and "JE/1 (1 exhibit)" in summary
    assert "not a witness statement under section 9 of the Criminal Justice Act 1967" in summary


def test_docx_and_pdf_say_the_same(small):
    root, _ = small
    pdf_text = pypdf.PdfReader(str(root / "report/sfr1.pdf")).pages[0].extract_text()
    furniture = {"OFFICIAL-SENSITIVE (when complete)", _report_sfr1.config()["title"], "Page 1 of 1",
                 _report_sfr1.config()["subtitle"], "URN: 01AB2345678"}
    body = [line for line in pdf_text.splitlines() if line.strip() not in furniture]
    docx = [p for p in _paragraphs(root / "report/sfr1.docx") if p.strip()]
    # The DOCX writes the number and a tab before a finding; the PDF draws the number as a bullet.
    docx_compact = _compact("".join(docx))
    pdf_compact = _compact("".join(body))
    assert collections.Counter(docx_compact) == collections.Counter(pdf_compact)
    for paragraph in docx:
        assert _compact(paragraph) in pdf_compact, paragraph[:80]
    header = "\n".join(p.text for p in Document(str(root / "report/sfr1.docx")).sections[0].header.paragraphs)
    assert _report_sfr1.config()["title"] in header and "URN: 01AB2345678" in header


def test_the_page_stays_inside_its_margins(small, tmp_path):
    root, _ = small
    page = pdfium.PdfDocument(str(root / "report/sfr1.pdf"))[0]
    image = page.render(scale=1).to_pil().convert("L")
    right = int(_report_sfr1.MARGIN_X + _report_sfr1.FRAME_W) + 2
    assert image.crop((right, 0, image.width, image.height)).getextrema()[0] > 200
    assert image.getextrema()[0] < 100


def test_two_runs_give_identical_bytes(small, tmp_path):
    root, _ = small
    again = tmp_path / "again"
    shutil.copytree(root, again)
    entry = log.read(root)[-1]
    write_report(load_case(again), sfr1=True, log_record=entry["args"]["log"], case_label=root.name)
    for name in ("sfr1.docx", "sfr1.pdf", "statement.pdf"):
        assert (again / "report" / name).read_bytes() == (root / "report" / name).read_bytes(), name
    with zipfile.ZipFile(again / "report/sfr1.docx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "2025-02-03T00:00:00Z" in z.read("docProps/core.xml").decode()


@pytest.mark.parametrize(("line", "key"), [
    ('occupation = "Police staff, digital investigator"\n', "statement.occupation"),
    ('age = "Over 18"\n', "statement.age"),
    ("date = 2025-02-03\n", "statement.date"),
    ('fsr_status = "compliant"\n', "statement.fsr_status"),
])
def test_missing_header_fields_refuse_as_the_statement_does(copy, line, key):
    path = copy / "case.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(line, ""), encoding="utf-8")
    for name in ("sfr1.pdf", "sfr1.docx"):
        (copy / "report" / name).unlink()
    with pytest.raises(CaseConfigError) as err:
        write_report(load_case(copy), sfr1=True)
    assert err.value.key == key
    assert not (copy / "report/sfr1.pdf").exists() and not (copy / "report/sfr1.docx").exists()


def test_the_wording_check_runs_on_the_summary_before_anything_is_written(copy, monkeypatch):
    real = _report_sfr1.render

    def render(name, **values):  # noqa: ANN001, ANN003, ANN202
        out = real(name, **values)
        return [*out, "The records prove the suspect was at her home."] if name == "sfr1_purpose.j2" else out

    monkeypatch.setattr(_report_sfr1, "render", render)
    for name in ("sfr1.pdf", "sfr1.docx", "statement.pdf", "statement.docx"):
        (copy / "report" / name).unlink()
    with pytest.raises(WordingError) as err:
        write_report(load_case(copy), sfr1=True)
    assert {v.rule for v in err.value.violations} == {"proves", "was_at"}
    assert not list((copy / "report").glob("*.pdf")) and not list((copy / "report").glob("*.docx"))


def test_findings_that_do_not_fit_are_left_out_and_counted(copy, monkeypatch):
    real = _report_sfr1.render_pdf
    # Pretend a page holds one finding only: the first by priority is kept, the rest are left out.
    monkeypatch.setattr(_report_sfr1, "render_pdf",
                        lambda s: (real(s)[0], 1 if s.shown <= 1 else 2))
    result = write_report(load_case(copy), sfr1=True)
    assert result.sfr1_findings == 1
    text = "\n".join(_paragraphs(copy / "report/sfr1.docx"))
    assert re.search(r"first finding that cites records of 1 of them; those of the other \d+ were left out "
                     "to keep this summary to one page", text)
    kept = _findings(copy / "report/sfr1.docx")[0]
    assert "contact records sent from identifiers attributed to P1" in kept    # contact_graph: first priority


def test_verify_reruns_it_and_a_report_without_the_flag_removes_it(copy):
    report = verify(copy)
    assert not report.problems, report.problems
    data = bytearray((copy / "report/sfr1.pdf").read_bytes())
    data[len(data) // 2] ^= 1
    (copy / "report/sfr1.pdf").write_bytes(bytes(data))
    assert any("MODIFIED" in p and "report/sfr1.pdf" in p for p in verify(copy).problems)
    write_report(load_case(copy))
    assert not (copy / "report/sfr1.pdf").exists() and not (copy / "report/sfr1.docx").exists()
    assert not verify(copy).problems


def test_cli_flag_writes_the_chosen_format(copy, capsys):
    assert main(["report", str(copy), "--sfr1", "--format", "docx"]) == 0
    out = capsys.readouterr().out
    assert "sfr1.docx" in out and "SFR1 summary" in out
    assert (copy / "report/sfr1.docx").exists() and not (copy / "report/sfr1.pdf").exists()
    # With no PDF written, the summary names the DOCX statement it repeats.
    text = "\n".join(_paragraphs(copy / "report/sfr1.docx"))
    assert f"statement.docx, SHA-256 {sha256_file(str(copy / 'report/statement.docx'))}" in text
