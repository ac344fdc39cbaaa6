"""Tests for the Cellebrite report.xml / .ufdr parser (parsers/ufed_xml.py).

Streaming memory is not a unit test: the benchmark should run
``parsers._ufed_synth.write_report`` for a multi-GB report and watch peak RSS
(about 70 MB was seen for a 250 MB, 300 000-record report).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers._ufed_synth import write_report
from parsers.ufed_xml import PARSER, sniff
from tests.parsing_helpers import run_parser

MODELS = "xpath:/project/decodedData/modelType"
WA_CHAT = f"{MODELS}[@type='Chat']/model[@id='chat-0001']/multiModelField[@name='Messages']"
JPEG = b"\xff\xd8\xff\xe0 fake jpeg bytes"
OPUS = b"OggS fake voice note"


@pytest.fixture
def report(data_dir: Path) -> Path:
    path = data_dir / "parsers" / "ufed_xml" / "report.xml"
    assert path.is_file(), f"committed test input missing: {path}"
    return path


def by_locator(events, suffix):
    found = [e for e in events if e.locator.endswith(suffix)]
    assert len(found) == 1, f"{suffix}: {[e.locator for e in events]}"
    return found[0]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_counts(report):
    events, rejections = run_parser(PARSER, report)
    assert len(events) + len(rejections) == 27  # 9 metadata items + 18 decoded records
    assert len(events) == 24
    assert len(rejections) == 3


def test_representative_call_field_by_field(report):
    events, _ = run_parser(PARSER, report)
    e = by_locator(events, "/model[@id='call-0001']")
    assert e.locator == f"{MODELS}[@type='Call']/model[@id='call-0001']"
    assert e.kind == "call"
    assert e.part == 0
    assert e.timestamp_utc == utc("2023-06-01T20:15:02+00:00")
    assert e.timestamp_source == "2023-06-01T21:15:02.000+01:00"
    assert e.tz_basis == "offset-in-source"
    assert e.tz_flag == "ok"
    assert e.direction == "incoming"
    assert e.sender == "tel:+447700900456"
    assert e.sender_name == "Do not answer"
    assert e.recipients == ("tel:+447700900123",)
    assert e.channel == "phone"
    assert e.status == "established"
    assert e.duration_s == 205.5
    assert e.deleted == "intact"
    assert e.flags == ()
    assert e.text is None and e.attachments == ()
    assert e.extra["jump_targets"] == ["f-0001"]
    assert e.extra["timestamp_format"] == "TimeStampKnown"
    assert e.extra["video_call"] == "False"


def test_rejections(report):
    _, rejections = run_parser(PARSER, report)
    got = [(r.locator, r.reason) for r in rejections]
    assert got == [
        (
            f"{MODELS}[@type='SMS']/model[@id='sms-0003']",
            "field TimeStamp: timestamp '01/06/2023 21:30' is not ISO 8601",
        ),
        (
            f"{MODELS}[@type='Chat']/model[@id='chat-0003']",
            "Chat holds no InstantMessage models (nothing to place on a timeline)",
        ),
        (
            f"{MODELS}[@type='CreditCard']/model[@id='cc-0001']",
            "unsupported model type 'CreditCard'",
        ),
    ]
    assert "cc-0001" in rejections[2].raw


CASES = [
    pytest.param(
        "/model[@id='call-0002']",
        dict(
            kind="call",
            timestamp_utc=utc("2023-06-01T21:40:10+00:00"),
            tz_basis="utc-declared",
            direction="incoming",
            status="missed",
            deleted="deleted",
            sender="tel:+447700900456",
            recipients=(),
        ),
        id="z_offset_missed_deleted_general_role",
    ),
    pytest.param(
        "/model[@id='call-0003']",
        dict(
            channel="whatsapp",
            direction="outgoing",
            deleted="deleted",
            duration_s=None,
            recipients=("whatsapp:+447700900456",),
            flags=("duration_unparsed",),
        ),
        id="trash_whatsapp_call_bad_duration",
    ),
    pytest.param(
        "/model[@id='sms-0001']",
        dict(
            kind="sms",
            channel="sms",
            timestamp_utc=utc("2023-06-01T20:20:44+00:00"),
            tz_basis="offset-in-source",
            direction="incoming",
            status="read",
            text="You can't ignore me forever. I know where you are.",
        ),
        id="sms_bst_inbox",
    ),
    pytest.param(
        "/model[@id='sms-0002']",
        dict(
            direction="outgoing",
            deleted="recovered",
            flags=("carved",),
            recipients=("tel:+447700900456",),
        ),
        id="sms_carved_sent",
    ),
    pytest.param(
        "/model[@id='mms-0001']",
        dict(
            kind="mms",
            attachments=("files\\Image\\IMG_0001.JPG",),
            text="Nice car",
            recipients=("tel:+447700900123",),
        ),
        id="mms_attachment_no_container",
    ),
    pytest.param(
        "/model[@id='im-0001']",
        dict(
            kind="chat_message",
            channel="whatsapp",
            thread="Dave",
            direction="incoming",
            sender="whatsapp:+447700900456",
            sender_name="Dave",
            recipients=("whatsapp:+447700900123",),
        ),
        id="whatsapp_incoming",
    ),
    pytest.param(
        "/model[@id='im-0002']",
        dict(
            timestamp_utc=utc("2023-06-02T07:05:00.123+00:00"),
            timestamp_source="2023-06-02T08:05:00.123",
            tz_basis="report-setting:Europe/London",
            tz_flag="ok",
            direction="outgoing",
            sender="whatsapp:+447700900123",
            recipients=("whatsapp:+447700900456",),
            flags=("recipients_from_participants",),
        ),
        id="no_offset_uses_report_zone",
    ),
    pytest.param(
        "/model[@id='im-0003']",
        dict(deleted="deleted", text=None, attachments=("files\\Audio\\PTT-20230602-WA0001.opus",)),
        id="deleted_voice_note",
    ),
    pytest.param(
        "/model[@id='im-0101']",
        dict(
            channel="instagram",
            thread="dave.r_1990",
            sender="instagram:dave.r_1990",
            deleted="unknown",
            text="saw you at the station 👀",
        ),
        id="instagram_handle",
    ),
    pytest.param(
        "/model[@id='email-0001']",
        dict(
            kind="email",
            channel="email",
            sender="email:dave.r@example.org",
            recipients=("email:victim@example.com",),
            direction="incoming",
        ),
        id="email_display_name",
    ),
    pytest.param(
        "/model[@id='loc-0001']",
        dict(
            kind="location_fix",
            latitude=51.501364,
            longitude=-0.14189,
            accuracy_m=12.0,
            location_method="gps",
            channel="life360",
            tz_basis="utc-declared",
        ),
        id="location_gps",
    ),
    pytest.param(
        "/model[@id='loc-0002']",
        dict(
            latitude=51.4975,
            longitude=-0.1357,
            location_method="wifi",
            deleted="recovered",
            tz_flag="ambiguous",
            tz_basis="report-setting:Europe/London",
            timestamp_utc=utc("2023-10-29T00:30:00+00:00"),
            flags=("carved",),
        ),
        id="carved_location_comma_decimals_dst_ambiguous",
    ),
    pytest.param(
        "/model[@id='app-0001']",
        dict(
            kind="app_event",
            text="Life360",
            status="installed",
            timestamp_utc=utc("2023-05-20T13:00:00+00:00"),
        ),
        id="installed_app",
    ),
]


@pytest.mark.parametrize(("suffix", "expected"), CASES)
def test_awkward_records(report, suffix, expected):
    events, _ = run_parser(PARSER, report)
    e = by_locator(events, suffix)
    for name, value in expected.items():
        assert getattr(e, name) == value, name


def test_contact_is_an_attribution_hint(report):
    events, _ = run_parser(PARSER, report)
    e = by_locator(events, "/model[@id='contact-0001']")
    assert e.kind == "contact" and e.direction == "none"
    assert e.timestamp_utc == utc("2023-04-11T18:02:00+00:00")
    assert e.extra["hint"] == "contact"
    assert e.extra["saved_name"] == "Do not answer"
    assert e.extra["identifiers"] == ["tel:+447700900456", "email:dave.r@example.org"]


def test_device_info_items(report):
    events, _ = run_parser(PARSER, report)
    info = [e for e in events if e.kind == "device_info"]
    assert len(info) == 9
    msisdn = [
        e for e in info if e.locator == "xpath:/project/metadata[3][@section='Device Info']/item[3]"
    ][0]
    assert (
        msisdn.tz_flag == "no_time" and msisdn.timestamp_utc is None and msisdn.tz_basis == "none"
    )
    assert msisdn.extra["name"] == "MSISDN"
    assert msisdn.extra["hint"] == "device_own_identifier"
    assert msisdn.extra["identifier"] == "tel:+447700900123"
    imei = [e for e in info if e.extra["name"] == "IMEI"][0]
    assert imei.extra["identifier"] == "imei:356789104567891"
    zone_item = [e for e in info if e.extra["name"] == "Time zone settings (ID)"][0]
    assert (
        zone_item.extra["value"] == "_Europe/London"
        and zone_item.extra["timezone"] == "Europe/London"
    )


@pytest.mark.parametrize(
    ("setting", "source_tz", "basis", "when", "flags"),
    [
        pytest.param(
            "_Europe/London",
            "America/New_York",
            "report-setting:Europe/London",
            "2023-06-02T07:05:00.123+00:00",
            (),
            id="setting_beats_case_default",
        ),
        pytest.param(
            None,
            "America/New_York",
            "assumed:America/New_York",
            "2023-06-02T12:05:00.123+00:00",
            None,
            id="no_setting_assumes_case_default",
        ),
        pytest.param(
            "(UTC+00:00) Dublin, Edinburgh",
            "America/New_York",
            "assumed:America/New_York",
            "2023-06-02T12:05:00.123+00:00",
            ("timezone_setting_unrecognised",),
            id="unrecognised_setting",
        ),
    ],
)
def test_zone_for_times_without_offset(report, tmp_path, setting, source_tz, basis, when, flags):
    xml = report.read_text(encoding="utf-8")
    line = (
        '<item name="Time zone settings (ID)" sourceExtraction="0" systemtype="System.String">'
        "<![CDATA[_Europe/London]]></item>"
    )
    assert line in xml
    xml = xml.replace(line, "" if setting is None else line.replace("_Europe/London", setting))
    path = tmp_path / "report.xml"
    path.write_text(xml, encoding="utf-8")
    events, rejections = run_parser(PARSER, path, ParseOptions(source_tz=source_tz))
    assert len(events) + len(rejections) == (26 if setting is None else 27)
    e = by_locator(events, "/model[@id='im-0002']")
    assert (e.tz_basis, e.timestamp_utc) == (basis, utc(when))
    if flags is not None:
        item = [x for x in events if x.extra.get("name") == "Time zone settings (ID)"][0]
        assert item.flags == flags


def _ufdr(
    tmp_path: Path, report: Path, extra_members: dict[str, bytes], name: str = "JS-1.ufdr"
) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(report, "report.xml")
        for member_name, data in extra_members.items():
            zf.writestr(member_name, data)
    return path


def test_ufdr_streams_report_and_hashes_attachments(tmp_path, report):
    path = _ufdr(tmp_path, report, {"files/Image/IMG_0001.JPG": JPEG, "settings.json": b"{}"})
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    events, rejections = run_parser(PARSER, path)
    assert (len(events), len(rejections)) == (24, 3)
    mms = by_locator(events, "/model[@id='mms-0001']")
    assert mms.locator == f"zip:report.xml#{MODELS}[@type='MMS']/model[@id='mms-0001']"
    assert mms.extra["attachment_sha256"] == {
        "files\\Image\\IMG_0001.JPG": hashlib.sha256(JPEG).hexdigest()
    }
    assert mms.flags == ()
    voice = by_locator(events, "/model[@id='im-0003']")
    assert voice.locator == f"zip:report.xml#{WA_CHAT}/model[@id='im-0003']"
    assert "attachment_sha256" not in voice.extra
    assert "attachment_not_in_container" in voice.flags
    assert (
        rejections[2].locator == f"zip:report.xml#{MODELS}[@type='CreditCard']/model[@id='cc-0001']"
    )
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(os.listdir(tmp_path)) == ["JS-1.ufdr"]


@pytest.mark.parametrize(
    "bad_name",
    [
        pytest.param("../evil.txt", id="parent_dir"),
        pytest.param("files/../../evil.txt", id="nested_parent_dir"),
        pytest.param("/etc/cron.d/evil", id="absolute"),
        pytest.param("C:\\Windows\\evil.dll", id="drive_letter"),
        pytest.param("..\\evil.txt", id="backslash_parent_dir"),
    ],
)
def test_ufdr_member_path_traversal_refused(tmp_path, report, bad_name):
    path = _ufdr(tmp_path, report, {bad_name: b"x"})
    with pytest.raises(SourceError) as exc:
        run_parser(PARSER, path)
    assert bad_name in exc.value.reason
    assert exc.value.locator == f"zip:{bad_name}"


def test_ufdr_zip_bomb_refused(tmp_path, report):
    path = _ufdr(tmp_path, report, {"files/Uncategorized/zeros.bin": bytes(16 << 20)})
    with pytest.raises(SourceError) as exc:
        run_parser(PARSER, path)
    assert "files/Uncategorized/zeros.bin" in exc.value.reason and "inflates" in exc.value.reason


def test_container_without_report(tmp_path):
    path = tmp_path / "JS-1.ufdr"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("files/Image/a.jpg", JPEG)
    with pytest.raises(SourceError, match="no report.xml"):
        run_parser(PARSER, path)
    other = tmp_path / "photos.zip"
    other.write_bytes(path.read_bytes())
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, other)


def test_dtd_and_external_entity_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    path = tmp_path / "report.xml"
    path.write_text(
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE project [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
        '<project xmlns="http://pa.cellebrite.com/report/2.0"><decodedData><modelType type="SMS">'
        '<model type="SMS" id="s1"><field name="Body" type="String">'
        '<value type="String">&xxe;</value></field>'
        "</model></modelType></decodedData></project>\n",
        encoding="utf-8",
    )
    seen = []
    with pytest.raises(SourceError) as exc:
        for item in PARSER.parse(Source.from_path(str(path)), ParseOptions()):
            seen.append(item)
    assert seen == []
    assert "DTD" in exc.value.reason and "TOP SECRET" not in str(exc.value)


def test_truncated_report_is_a_source_error(tmp_path, report):
    data = report.read_bytes()
    path = tmp_path / "report.xml"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError) as exc:
        run_parser(PARSER, path)
    assert exc.value.locator.startswith("line:")
    assert int(exc.value.locator.removeprefix("line:")) > 1
    assert "not well formed" in exc.value.reason


def test_missing_time_and_missing_id(tmp_path):
    path = tmp_path / "report.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<project xmlns="http://pa.cellebrite.com/report/2.0">'
        '<decodedData><modelType type="SMS"><model type="SMS" deleted_state="Intact">'
        '<field name="Folder" type="String"><value type="String">Inbox</value></field>'
        '<field name="TimeStamp" type="TimeStamp"><empty /></field>'
        '<field name="Body" type="String"><value type="String">no time</value></field>'
        "</model></modelType></decodedData></project>\n",
        encoding="utf-8",
    )
    events, rejections = run_parser(PARSER, path)
    assert (len(events), len(rejections)) == (1, 0)
    e = events[0]
    assert e.locator == f"{MODELS}[@type='SMS']/model[1]"
    assert (e.timestamp_utc, e.timestamp_source, e.tz_flag, e.tz_basis) == (
        None,
        None,
        "no_time",
        "none",
    )
    assert e.direction == "incoming" and e.text == "no time"


def test_other_xml_is_not_this_format(tmp_path):
    path = tmp_path / "track.gpx"
    path.write_text(
        '<?xml version="1.0"?><gpx xmlns="http://www.topografix.com/GPX/1/1"></gpx>',
        encoding="utf-8",
    )
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)


def _zip_head(first_member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(first_member, b"<x/>")
    return buf.getvalue()[:4096]


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        pytest.param(b"", "report.xml", False, id="empty"),
        pytest.param(
            b'<?xml version="1.0"?><gpx xmlns="http://www.topografix.com/GPX/1/1">',
            "a.gpx",
            False,
            id="gpx",
        ),
        pytest.param(
            b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">',
            "a.kml",
            False,
            id="kml",
        ),
        pytest.param(
            b'<?xml version="1.0"?><project name="x"><a/></project>',
            "report.xml",
            False,
            id="generic_xml",
        ),
        pytest.param(
            b'<?xml version="1.0"?>\n<project xmlns="http://pa.cellebrite.com/report/2.0" id="1">',
            "report.xml",
            True,
            id="report_xml",
        ),
        pytest.param(_zip_head("files/a.jpg"), "JS-1.ufdr", True, id="ufdr_by_name"),
        pytest.param(_zip_head("report.xml"), "JS-1.zip", True, id="zip_report_first"),
        pytest.param(_zip_head("_chat.txt"), "WhatsApp Chat.zip", False, id="other_zip"),
    ],
)
def test_sniff(head, filename, expected):
    assert sniff(head, filename) is expected


def test_committed_report_sniffs(report):
    assert sniff(report.read_bytes()[:65536], "report.xml")


def test_synthetic_report_counts_and_determinism(tmp_path):
    first, second = tmp_path / "a.xml", tmp_path / "b.xml"
    expected = write_report(str(first), 400, seed=11)
    write_report(str(second), 400, seed=11)
    assert first.read_bytes() == second.read_bytes()
    events, rejections = run_parser(PARSER, first)
    assert len(events) + len(rejections) == expected["read"] == 407
    assert len(rejections) == expected["rejected"]
    assert {r.reason for r in rejections} <= {"unsupported model type 'Cookie'"}


def test_illegal_xml_characters_kept_as_visible_text(tmp_path):
    # PA writes control characters as &#x1; references or raw bytes, both illegal in XML 1.0.
    body = b"call me&#x1;now\x02ok &amp; fine &#x41;"
    path = tmp_path / "report.xml"
    path.write_bytes(
        b'<?xml version="1.0" encoding="utf-8"?>\n<project xmlns="http://pa.cellebrite.com/report/2.0">'
        b'<decodedData><modelType type="SMS"><model type="SMS" id="s1" deleted_state="Intact">'
        b'<field name="Body" type="String"><value type="String">' + body + b"</value></field>"
        b"</model></modelType></decodedData></project>\n"
    )
    events, rejections = run_parser(PARSER, path)
    assert (len(events), len(rejections)) == (1, 0)
    assert events[0].text == "call me&#x1;now\u2402ok & fine A"
    assert events[0].flags == ("invalid_xml_character",)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_clean_reader_handles_references_split_across_reads(chunk):
    from parsers._ufed_stream import CleanReader

    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            out, self.data = self.data[:chunk], self.data[chunk:]
            return out

    src = b"a&#x1F;b&#9;c&#31;d&amp;e\x00f" * 3
    got = CleanReader(Trickle(src)).read()
    assert got == b"a&amp;#x1F;b&#9;c&amp;#31;d&amp;e\xe2\x90\x80f" * 3
