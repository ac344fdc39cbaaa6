"""atlas report on the synthetic case: files, log, determinism, layout, citations, caveats, wording.

One module-scoped fixture builds and ingests the extended synthetic case, runs every analysis
and writes the statement once (and a second time into a copy, for the byte-identity check).
"""

from __future__ import annotations

import collections
import json
import re
import shutil
import zipfile

import pypdf
import pypdfium2 as pdfium
import pytest
from docx import Document
from docx.oxml.ns import qn

from atlas import log
from atlas._report_model import config
from atlas._report_pdf import FRAME_W, MARGIN_X
from atlas.analysis import run_analyses
from atlas.case import load_case
from atlas.provenance import sha256_file
from atlas.report import write_report
from atlas.store import read_manifest
from atlas.wording import check_blocks
from tests.analyses.helpers import synthetic_case

CITE = re.compile(r"\[([\d,]+) records?: ([^;\]]+)(?:; listed in ([^\]]+))?\]")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("report") / "case"
    case, _ = synthetic_case(root, extended=True)
    run_analyses(case)
    result = write_report(case)
    return case, result


@pytest.fixture(scope="module")
def blocks(demo):
    """The content model of the demo statement, as the wording check saw it."""
    import atlas.wording

    case, _ = demo
    seen = []
    real = atlas.wording.enforce
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(atlas.wording, "enforce", lambda b, rules=None: (seen.append(tuple(b)), real(b, rules)))
        write_report(case)
    return seen[0]


@pytest.fixture(scope="module")
def pdf_pages(demo):
    case, _ = demo
    reader = pypdf.PdfReader(str(case.root / "report" / "statement.pdf"))
    return [p.extract_text() for p in reader.pages]


@pytest.fixture(scope="module")
def docx_paragraphs(demo):
    case, _ = demo
    doc = Document(str(case.root / "report" / "statement.docx"))
    # Every w:t in reading order, per paragraph (fields such as NUMPAGES included).
    return ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))]


def test_files_are_written_and_every_output_is_hashed_in_the_log(demo):
    case, result = demo
    assert [p.name for p in result.statement_files] == ["statement.docx", "statement.pdf"]
    entry = log.read(case.root)[-1]
    assert entry["command"] == "report" and entry["status"] == "ok"
    logged = {o["path"]: o["sha256"] for o in entry["outputs"]}
    assert logged["report/statement.pdf"] == sha256_file(str(case.root / "report/statement.pdf"))
    assert logged["report/statement.docx"] == sha256_file(str(case.root / "report/statement.docx"))
    assert result.exhibits, "the exhibits module produced nothing"
    for ex in result.exhibits:
        assert ex.path.startswith("report/exhibits/")
        assert logged[ex.path] == ex.sha256 == sha256_file(str(case.root / ex.path))
    on_disk = sorted(p.relative_to(case.root).as_posix() for p in (case.root / "report/exhibits").rglob("*")
                     if p.is_file())
    assert on_disk == sorted(p for p in logged if p.startswith("report/exhibits/"))
    inputs = {i["path"] for i in entry["inputs"]}
    assert {"store/manifest.json", "case.toml", "results/frequency.json"} <= inputs
    assert entry["args"]["log"]["lines"] == len(log.read(case.root)) - 1
    assert entry["counts"]["pages"] == result.pages


def test_two_runs_give_identical_bytes(demo, tmp_path):
    case, _ = demo
    copy = tmp_path / "copy"
    shutil.copytree(case.root, copy)
    # The statement cites the log as it stood before the run that wrote it: cite the same state.
    pdf_sha = sha256_file(str(case.root / "report/statement.pdf"))
    entry = next(e for e in reversed(log.read(case.root)) if e["command"] == "report"
                 and {"path": "report/statement.pdf", "sha256": pdf_sha} in e["outputs"])
    again = write_report(load_case(copy), log_record=entry["args"]["log"], case_label=case.root.resolve().name)
    for name in ("statement.docx", "statement.pdf"):
        assert (copy / "report" / name).read_bytes() == (case.root / "report" / name).read_bytes(), name
    for ex in again.exhibits:
        assert (copy / ex.path).read_bytes() == (case.root / ex.path).read_bytes(), ex.path
    with zipfile.ZipFile(copy / "report/statement.docx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert z.namelist()[0] == "[Content_Types].xml"
        core = z.read("docProps/core.xml").decode()
    assert "2025-01-20T00:00:00Z" in core and "Dana Iqbal" in core


def test_every_page_has_header_page_x_of_y_and_signature(demo, pdf_pages):
    case, result = demo
    n = len(pdf_pages)
    assert n == result.pages > 5
    for i, text in enumerate(pdf_pages, start=1):
        assert "WITNESS STATEMENT" in text, i
        assert f"URN: {case.urn}" in text, i
        assert f"Page {i} of {n}" in text, i
        assert "Signature: ....." in text, i
        assert "OFFICIAL-SENSITIVE (when complete)" in text, i
    first = re.sub(r"\s+", " ", pdf_pages[0])
    assert f"This statement (consisting of {n} page(s) each signed by me)" in first
    assert "Statement of Dana Iqbal" in first and "Age if under 18 Over 18" in first
    assert "Occupation Police staff, digital investigator" in first
    assert "(end of statement)" in pdf_pages[-1]


def test_pages_render_and_no_text_leaves_the_frame(demo, tmp_path):
    case, result = demo
    pdf = pdfium.PdfDocument(str(case.root / "report" / "statement.pdf"))
    assert len(pdf) == result.pages
    left, right = MARGIN_X - 0.5, MARGIN_X + FRAME_W + 0.5
    for i in range(len(pdf)):
        page = pdf[i]
        width, height = page.get_size()
        assert (round(width), round(height)) == (595, 842)
        text = page.get_textpage()
        outside = []
        for c in range(text.count_chars()):
            x0, y0, x1, y1 = text.get_charbox(c)
            if x1 > x0 and not (left <= x0 and x1 <= right and 0 <= y0 and y1 <= height):
                outside.append(text.get_text_range(c, 1))
        assert not outside, f"page {i + 1}: text outside the frame: {''.join(outside)[:80]!r}"
        image = page.render(scale=1).to_pil().convert("L")
        if i in (0, len(pdf) - 1):
            image.save(tmp_path / f"page{i + 1}.png")
        # The margins right of the frame stay blank (nothing overflowed a table or a line).
        margin = image.crop((int(right) + 2, 0, image.width, image.height))
        assert margin.getextrema()[0] > 200, f"page {i + 1}: ink in the right margin"
        assert image.getextrema()[0] < 100, f"page {i + 1} is blank"
    assert (tmp_path / "page1.png").stat().st_size > 10_000


def _pdf_body(pages: list[str], case) -> str:  # noqa: ANN001
    """Return the PDF's text without the header and footer drawn at the end of each page."""
    out = []
    for i, text in enumerate(pages, start=1):
        furniture = {"OFFICIAL-SENSITIVE (when complete)", "WITNESS STATEMENT", config()["legal_basis"],
                     f"URN: {case.urn}", config()["labels"]["signed"], f"Page {i} of {len(pages)}"}
        lines = text.splitlines()
        while lines and lines[-1].strip() in furniture:
            lines.pop()
        out += lines
    return "\n".join(out).replace("•", "")


def test_docx_opens_and_its_text_agrees_with_the_pdf(demo, pdf_pages, docx_paragraphs):
    case, _ = demo
    body = _pdf_body(pdf_pages, case)
    compact_pdf = re.sub(r"\s+", "", body)
    docx_text = "\n".join(docx_paragraphs)
    compact_docx = re.sub(r"\s+", "", docx_text)
    # A table that runs onto another page repeats its header row in the PDF (Word repeats it
    # on screen from the tblHeader mark, not in the text): drop the repeats.
    for header in (v for k, v in config()["tables"].items() if not k.endswith("_widths")):
        row = re.sub(r"\s+", "", "".join(header))
        keep = compact_docx.count(row)
        head, *rest = compact_pdf.split(row)
        compact_pdf = head + "".join((row if i < keep else "") + part for i, part in enumerate(rest))
    # Same characters overall (tables wrap differently, so compare as a multiset) ...
    assert collections.Counter(compact_docx) == collections.Counter(compact_pdf)
    # ... and every body paragraph of the DOCX reads in the PDF in the same order of words.
    doc = Document(str(case.root / "report" / "statement.docx"))
    checked = 0
    for p in doc.paragraphs:
        text = "".join(t.text or "" for t in p._p.iter(qn("w:t")))
        if len(text) > 40:
            assert re.sub(r"\s+", "", text) in compact_pdf, text[:80]
            checked += 1
    assert checked > 100


def test_docx_layout_header_footer_and_fields(demo):
    case, result = demo
    doc = Document(str(case.root / "report" / "statement.docx"))
    section = doc.sections[0]
    header = "\n".join(p.text for p in section.header.paragraphs)
    assert "WITNESS STATEMENT" in header and f"URN: {case.urn}" in header
    footer_xml = section.footer._element.xml
    assert 'w:instr=" PAGE "' in footer_xml and 'w:instr=" NUMPAGES "' in footer_xml
    assert "Signature: ....." in section.footer.paragraphs[0].text
    body_xml = doc.element.body.xml
    assert 'w:instr=" NUMPAGES "' in body_xml and f"<w:t>{result.pages}</w:t>" in body_xml
    assert doc.core_properties.author == "Dana Iqbal"


def test_every_finding_cites_exhibits_that_exist(demo, docx_paragraphs):
    case, result = demo
    sources = {i["exhibit_ref"] for i in read_manifest(case.root)["ingests"]}
    produced = {ex.ref for ex in result.exhibits}
    chronology = [ex.ref for ex in result.exhibits if ex.analysis is None and "chronolog" in
                  f"{ex.title} {ex.path}".lower()]
    cited = [m for p in docx_paragraphs for m in CITE.finditer(p)]
    assert len(cited) >= result.findings > 50
    for m in cited:
        refs = [r.strip() for r in m.group(2).split(",")]
        assert refs and set(refs) <= sources, m.group(0)
        if chronology:
            assert m.group(3) == chronology[0] and m.group(3) in produced
    # The counts are the findings' own event counts.
    freq = json.loads((case.root / "results/frequency.json").read_text(encoding="utf-8"))
    totals = next(f for f in freq["findings"] if f["key"] == "frequency.totals")
    para = next(p for p in docx_paragraphs if p.startswith(totals["text"][:60]))
    assert f"[{len(totals['event_ids']):,} records:" in para


def test_leads_are_not_stated_as_findings(demo, docx_paragraphs):
    case, _ = demo
    text = "\n".join(docx_paragraphs)
    for name in ("threat_screen", "identifier_changes"):
        doc = json.loads((case.root / f"results/{name}.json").read_text(encoding="utf-8"))
        for f in doc["findings"]:
            assert f["text"][:50] not in text, f["key"]
    freq = json.loads((case.root / "results/frequency.json").read_text(encoding="utf-8"))
    for f in freq["findings"]:
        if f["key"] == "frequency.stop_request_candidate":
            assert f["text"][:50] not in text
    assert "are leads for the officer in the case to check" in text


def test_sections_in_order_with_method_times_and_limitations(docx_paragraphs):
    text = "\n".join(docx_paragraphs)
    headings = [config()["headings"][k] for k in ("intro", "material", "method", "findings", "not_shown",
                                                  "undermine", "produced", "fsr", "annex")]
    positions = [docx_paragraphs.index(h) for h in headings]
    assert positions == sorted(positions)
    assert "I used Atlas version" in text and "time-zone data" in text
    assert "Atlas stores every time in UTC" in text
    assert "I have not made a declaration of compliance" in text  # the demo's fsr_status
    assert "atlas verify case" in text


@pytest.mark.parametrize("caveat", ["identifiers", "device_extraction", "provider_download", "call_data_records",
                                    "cell_site", "tower_dump", "location", "anpr", "email", "diary", "mapped_table"])
def test_caveat_for_each_source_type_present(caveat, docx_paragraphs):
    from atlas._report_model import render_one

    probe = render_one(f"caveats/{caveat}.j2", exhibits="@@")
    first_words = probe.split("@@")[-1].strip()[:60] if "@@" in probe else probe[:60]
    assert any(first_words in p for p in docx_paragraphs), caveat


def test_coverage_gaps_and_victim_initiated_contact_are_listed(demo, docx_paragraphs):
    case, _ = demo
    text = "\n".join(docx_paragraphs)
    cov = json.loads((case.root / "results/coverage.json").read_text(encoding="utf-8"))
    gaps = [f for f in cov["findings"] if f["key"] == "coverage.gap"]
    assert gaps and all(g["text"][:60] in text for g in gaps)
    undermine = text[text.index(config()["headings"]["undermine"]):text.index(config()["headings"]["produced"])]
    assert "Contact recorded in the other direction" in undermine
    assert "P2 Sarah Collins (victim) to identifiers attributed to P1 Daniel Marsh (suspect)" in undermine


def test_the_demo_statement_passes_the_wording_check(blocks):
    assert len(blocks) > 200
    assert check_blocks(blocks) == []
    # The check did read the findings: the same blocks with one conclusion added fail.
    from atlas._report_model import Block

    bad = Block("paragraph", "These records prove the device was at the address.", source="test")
    assert [v.rule for v in check_blocks((*blocks, bad))] == ["proves", "was_at"]


def test_exhibit_references_continue_after_the_sources(demo):
    case, result = demo
    sources = [i["exhibit_ref"] for i in read_manifest(case.root)["ingests"]]
    highest = max(int(r.split("/")[1]) for r in sources if r.startswith("DI/"))
    refs = [ex.ref for ex in result.exhibits]
    assert refs == [f"DI/{n}" for n in range(highest + 1, highest + 1 + len(refs))]
    assert not set(refs) & set(sources)
    for ex in result.exhibits:
        assert all(ref in sources for ref, _ in ex.sources)
        assert f"exhibit {ex.ref}" in ex.production
