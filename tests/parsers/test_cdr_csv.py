"""Tests for parsers/cdr_csv.py: UK operator CDRs through operator profiles."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from atlas.errors import SourceError, UsageError
from atlas.parsing import NotThisFormat, ParseOptions
from parsers._cdr_csv_profile import PROFILE_DIR, load, shipped
from parsers.cdr_csv import PARSER, sniff
from tests.parsing_helpers import run_parser


@pytest.fixture
def cdr_dir(data_dir: Path) -> Path:
    return data_dir / "parsers" / "cdr_csv"


def _mapping(path: Path) -> ParseOptions:
    with open(path, "rb") as fh:
        return ParseOptions(mapping=tomllib.load(fh), mapping_path=path.name)


def _run(cdr_dir: Path, name: str):
    mapping = cdr_dir / name.replace(".csv", ".mapping.toml")
    options = _mapping(mapping) if mapping.exists() else ParseOptions()
    return run_parser(PARSER, cdr_dir / name, options)


def _at(events, locator):
    return next(e for e in events if e.locator == locator)


ME = "tel:+447700900123"
FRIEND = "tel:+447700900456"


# --- counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "read", "accepted", "rejected"),
    [("ee.csv", 11, 6, 5), ("vodafone.csv", 9, 7, 2), ("o2.csv", 7, 6, 1),
     ("three.csv", 6, 4, 2), ("analyst_layout.csv", 4, 3, 1)],
    ids=["ee", "vodafone", "o2", "three", "analyst_mapping"],
)
def test_counts(cdr_dir, name, read, accepted, rejected):
    events, rej = _run(cdr_dir, name)
    assert (len(events) + len(rej), len(events), len(rej)) == (read, accepted, rejected)


def test_ee_first_event_field_by_field(cdr_dir):
    events, _ = _run(cdr_dir, "ee.csv")
    e = events[0]
    assert e.locator == "line:5"  # two title rows and a blank line above the header on line 4
    assert e.part == 0
    assert e.kind == "call"
    assert e.timestamp_utc == datetime(2024, 3, 14, 9, 15, 2, tzinfo=UTC)
    assert e.timestamp_source == "14/03/2024 09:15:02"
    assert e.tz_basis == "assumed:Europe/London"
    assert e.tz_flag == "ok"
    assert e.date_order == "dmy:assumed"
    assert e.end_utc is None
    assert e.duration_s == 125.0
    assert e.direction == "outgoing"
    assert e.sender == ME
    assert e.sender_name is None
    assert e.recipients == (FRIEND,)
    assert e.channel == "phone"
    assert e.thread is None and e.text is None and e.attachments == ()
    assert e.status is None
    assert e.latitude is None and e.longitude is None and e.accuracy_m is None
    assert e.location_method == "cell"
    assert e.cell_id == "234-30-1234-56789"
    assert e.deleted == "unknown"
    assert e.flags == ()
    assert e.extra == {
        "cdr_profile": "ee", "record_type": "MOC", "target": ME,
        "last_cell_id": "234-30-1234-56790", "imei": "356938035643809",
        "imsi": "234301234567890", "First Cell Address": "1 High Street, Leeds LS1 1AA",
    }


# --- direction, parties and time per profile ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "locator", "kind", "direction", "utc", "flag", "sender", "recipients", "flags"),
    [
        ("ee.csv", "line:6", "call", "incoming", datetime(2024, 3, 14, 18, 40, 11, tzinfo=UTC),
         "ok", None, (ME,), ("party_withheld",)),
        ("ee.csv", "line:7", "sms", "outgoing", datetime(2024, 3, 15, 7, 2, 45, tzinfo=UTC),
         "ok", ME, (FRIEND,), ()),
        ("ee.csv", "line:8", "sms", "incoming", datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
         "nonexistent", "tel:+447700900789", (ME,), ()),
        ("ee.csv", "line:9", "cell_event", "none", datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
         "ambiguous", None, (), ()),
        ("ee.csv", "line:10", "call", "outgoing", datetime(2024, 10, 27, 2, 10, tzinfo=UTC),
         "ok", ME, ("tel:+33612345678",), ("cell_id_unparsed",)),
        ("vodafone.csv", "line:5", "call", "outgoing",
         datetime(2024, 10, 26, 22, 59, 58, tzinfo=UTC),
         "ok", ME, (FRIEND,), ()),
        ("vodafone.csv", "line:6", "call", "incoming", datetime(2024, 10, 27, 0, 15, tzinfo=UTC),
         "ambiguous", None, (ME,), ("party_withheld",)),
        ("vodafone.csv", "line:7", "sms", "outgoing", datetime(2024, 10, 27, 2, 0, tzinfo=UTC),
         "ok", ME, ("tel:+447700900999",), ()),
        ("vodafone.csv", "line:10", "call", "outgoing", datetime(2024, 10, 29, 8, 0, tzinfo=UTC),
         "ok", "tel:+447700900555", (FRIEND,), ("target_mismatch",)),
        ("vodafone.csv", "line:11", "mms", "incoming", datetime(2024, 10, 29, 9, 0, tzinfo=UTC),
         "ok", FRIEND, (ME,), ()),
        ("o2.csv", "line:2-3", "call", "outgoing", datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC),
         "ok", ME, (FRIEND,), ()),
        ("o2.csv", "line:4", "call", "incoming", datetime(2024, 3, 31, 1, 0, tzinfo=UTC),
         "ok", FRIEND, (ME,), ()),
        ("o2.csv", "line:5", "sms", "outgoing", datetime(2024, 3, 31, 1, 59, 59, tzinfo=UTC),
         "nonexistent", ME, (FRIEND,), ()),
        ("o2.csv", "line:6", "sms", "incoming", datetime(2024, 4, 1, 9, 0, tzinfo=UTC),
         "ok", None, (ME,), ("party_withheld",)),
        ("o2.csv", "line:8", "call", "outgoing", datetime(2024, 4, 1, 11, 0, tzinfo=UTC),
         "ok", ME, ("tel:12345",), ("party_unparsed_number",)),
        ("three.csv", "line:3", "call", "outgoing", datetime(2024, 11, 5, 14, 0, tzinfo=UTC),
         "ok", ME, (FRIEND,), ()),
        ("three.csv", "line:4", "call", "incoming", datetime(2024, 11, 5, 15, 0, tzinfo=UTC),
         "ok", None, (ME,), ("party_withheld",)),
        ("three.csv", "line:6", "cell_event", "none", datetime(2024, 11, 5, 17, 0, tzinfo=UTC),
         "ok", None, (), ("cell_id_unparsed",)),
        ("analyst_layout.csv", "line:2", "call", "outgoing",
         datetime(2024, 10, 27, 0, 45, 10, tzinfo=UTC), "ambiguous", ME, (FRIEND,), ()),
        ("analyst_layout.csv", "line:3", "sms", "incoming",
         datetime(2024, 10, 27, 9, 0, tzinfo=UTC),
         "ok", FRIEND, (ME,), ()),
    ],
    ids=["ee_mtc_withheld", "ee_smsmo_bst", "ee_smsmt_spring_gap", "ee_gprs_autumn_doubled_hour",
         "ee_moc_international_after_change_bad_cell", "vf_mo_gmt", "vf_mt_withheld_a_ambiguous",
         "vf_sms_after_change", "vf_target_not_a_party", "vf_mms_mt", "o2_multiline_before_change",
         "o2_after_spring_change", "o2_spring_gap", "o2_private", "o2_short_code",
         "three_mo_eci", "three_mt_withheld", "three_data_bad_eci", "analyst_autumn_ambiguous",
         "analyst_sms_in"],
)
def test_direction_parties_and_time(cdr_dir, name, locator, kind, direction, utc, flag, sender,
                                    recipients, flags):
    events, _ = _run(cdr_dir, name)
    e = _at(events, locator)
    assert (e.kind, e.direction, e.timestamp_utc, e.tz_flag) == (kind, direction, utc, flag)
    assert (e.sender, e.recipients, e.flags) == (sender, recipients, flags)
    assert e.tz_basis == "assumed:Europe/London"


def test_data_session_and_cells(cdr_dir):
    events, _ = _run(cdr_dir, "ee.csv")
    e = _at(events, "line:9")
    assert (e.kind, e.status, e.channel, e.duration_s) == (
        "cell_event", "data_session", "data", 1800.0)
    assert e.cell_id == "234-30-1234-56791"  # written with spaces, normalised
    assert e.extra["first_cell_raw"] == "234 30 1234 56791"
    assert e.extra["last_cell_id"] == "234-30-1234-56789"
    assert _at(events, "line:7").cell_id == "234-30-1234-56789"  # leading zero dropped
    bad = _at(events, "line:10")
    assert (bad.cell_id, bad.location_method) == ("Unavailable", "cell")


def test_three_eci_becomes_enodeb_and_cell(cdr_dir):
    events, _ = _run(cdr_dir, "three.csv")
    e = events[0]
    assert e.cell_id == "234-20-123457-1"  # ECI 31604993 = eNodeB 123457 * 256 + cell 1
    assert e.extra["first_cell_raw"] == "31604993"
    assert e.extra["last_cell_id"] == "234-20-123457-2"
    assert e.duration_s == 600.0  # 00:10:00
    assert e.timestamp_source == "05/11/2024 14:00:00"


def test_vodafone_target_from_title_row_and_hms(cdr_dir):
    events, _ = _run(cdr_dir, "vodafone.csv")
    assert all(e.extra["target"] == ME for e in events)
    assert events[0].duration_s == 125.0
    data = _at(events, "line:9")
    assert (data.kind, data.sender, data.recipients, data.duration_s) == (
        "cell_event", None, (), 3600.0)
    assert data.extra["a_party_raw"] == "447700900123"
    assert data.extra["Charged Units"] == "12"


def test_o2_multiline_cell_keeps_locator_and_text(cdr_dir):
    events, _ = _run(cdr_dir, "o2.csv")
    assert events[0].extra["Site Address"] == "Unit 3, Mill Lane\nLeeds"
    assert events[1].locator == "line:4"


# --- rejections -----------------------------------------------------------------------------


FOOTER = "footer row below the records (matches footer_pattern of profile {}); not a record - " \
         "check its totals against the accepted count"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ee.csv", [
            ("line:11", "record type 'VOLTE' (column 'Call Type') is not in [record_types] of "
                        "profile cdr_profiles/ee.toml; add it there (or in a copy passed with "
                        "--mapping)"),
            ("line:12", "start time column 'Start Date' + 'Start Time': '32/10/2024 10:00:00' "
                        "does not match the profile's format '%d/%m/%Y %H:%M:%S'"),
            ("line:13", "row has 6 cells but the header has 11"),
            ("line:14", "duration column 'Duration (s)': '2m' is not a number of seconds"),
            ("line:16", FOOTER.format("ee")),
        ]),
        ("vodafone.csv", [
            ("line:12", "start time column 'Event Date/Time': '29/10/2024 25:00:00' does not "
                        "match the profile's format '%d/%m/%Y %H:%M:%S'"),
            ("line:13", FOOTER.format("vodafone")),
        ]),
        ("o2.csv", [("line:9", FOOTER.format("o2"))]),
        ("three.csv", [
            ("line:7", "duration column 'Duration': '1:2:3' is not hh:mm:ss"),
            ("line:8", FOOTER.format("three")),
        ]),
        ("analyst_layout.csv", [
            ("line:5", "record type 'FAX' (column 'Type') is not in [record_types] of profile "
                       "analyst_layout.mapping.toml; add it there (or in a copy passed with "
                       "--mapping)"),
        ]),
    ],
    ids=["ee", "vodafone", "o2", "three", "analyst_mapping"],
)
def test_rejections(cdr_dir, name, expected):
    _, rej = _run(cdr_dir, name)
    assert [(r.locator, r.reason) for r in rej] == expected


# --- profiles and mappings ------------------------------------------------------------------


def test_shipped_profiles_load_and_each_file_matches_only_its_own(cdr_dir):
    names = [p.name for p in shipped()]
    assert names == ["ee", "o2", "three", "vodafone"]
    for profile in shipped():
        head = (cdr_dir / f"{profile.name}.csv").read_bytes()
        assert sniff(head, f"{profile.name}.csv")
        events, _ = _run(cdr_dir, f"{profile.name}.csv")
        assert {e.extra["cdr_profile"] for e in events} == {profile.name}


def test_explicit_mapping_overrides_detection(cdr_dir):
    """A shipped profile passed as --mapping gives the same events as detection."""
    detected, _ = _run(cdr_dir, "ee.csv")
    explicit, _ = run_parser(PARSER, cdr_dir / "ee.csv", _mapping(PROFILE_DIR / "ee.toml"))
    assert [e.extra.pop("cdr_profile") for e in explicit] == ["ee"] * 6
    assert [(e.locator, e.timestamp_utc, e.sender, e.cell_id) for e in explicit] == \
        [(e.locator, e.timestamp_utc, e.sender, e.cell_id) for e in detected]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"record_type": "Type"}, "surprise": {}}, "surprise: unknown key"),
        ({"columns": {"datetime": "Timestamp", "other": "X"}},
         "columns.record_type: is required"),
        ({"columns": {"record_type": "Type", "datetime": "T", "a_party": "A"}},
         "needs other (the far end), or both a_party and b_party"),
        ({"columns": {"record_type": "Type", "datetime": "T", "other": "B"},
          "record_types": {"X": ["fax", "outgoing"]}}, "record_types.'X': must be [event"),
        ({"columns": {"record_type": "Type", "datetime": "T", "other": "B"},
          "time": {"timezone": "Mars/Olympus"}, "record_types": {"X": ["call", "outgoing"]}},
         "time.timezone: unknown time zone"),
        ({"columns": {"record_type": "Type", "datetime": "T", "other": "B"},
          "duration": {"unit": "minutes"}, "record_types": {"X": ["call", "outgoing"]}},
         "duration.unit: must be one of seconds, hh:mm:ss"),
    ],
    ids=["unknown_table", "no_record_type", "half_ab", "bad_event", "bad_zone", "bad_unit"],
)
def test_bad_mapping_is_usage_error(change, message):
    with pytest.raises(UsageError, match="CDR profile my.toml") as info:
        load(change, "my.toml", "Europe/London")
    assert message in str(info.value)


def test_mapping_whose_headers_are_absent_names_the_missing_columns(cdr_dir):
    options = _mapping(cdr_dir / "analyst_layout.mapping.toml")
    with pytest.raises(UsageError, match=r"missing from the closest row: 'Handset', 'Originating'"):
        run_parser(PARSER, cdr_dir / "ee.csv", options)


def test_unknown_layout_is_not_this_format(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("Date,From,To\n01/01/2024,1,2\n", encoding="utf-8")
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)


def test_header_matching_two_profiles_asks_for_mapping(tmp_path, cdr_dir):
    ee_header = (cdr_dir / "ee.csv").read_text(encoding="utf-8").splitlines()[3]
    o2_header = (cdr_dir / "o2.csv").read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "both.csv"
    path.write_text(ee_header + "," + o2_header + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"several CDR profiles \(ee, o2\)"):
        run_parser(PARSER, path)


def test_broken_quoting_is_source_error(tmp_path, cdr_dir):
    text = (cdr_dir / "o2.csv").read_text(encoding="utf-8").splitlines()[0] + "\n"
    text += '447700900123,Outgoing Call,01/04/2024,12:00:00,15,"0770"0900456,1,2,3,4,5\n'
    path = tmp_path / "broken.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match="line:2"):
        run_parser(PARSER, path)


# --- XLSX -----------------------------------------------------------------------------------


def test_xlsx_with_typed_cells_title_and_footer(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "CDR"
    ws.append(["EE Limited - Call Data Records"])
    ws.append(["Target MSISDN", "Call Type", "Start Date", "Start Time", "Duration (s)",
               "Other Party", "IMEI", "IMSI", "First Cell ID", "Last Cell ID"])
    day = datetime(2024, 10, 27)  # noqa: DTZ001 - a spreadsheet date cell has no zone
    ws.append([447700900123, "MOC", day, time(1, 30), 61, 7700900456,
               "356938035643809", "234301234567890", "234-30-1234-56789", None])
    ws.append([447700900123, "SMSMT", date(2024, 7, 1), time(12, 0), None, "447700900456",
               None, None, "234-30-1234-56790", None])
    ws.append(["Total Records", 2])
    path = tmp_path / "ee.xlsx"
    wb.save(path)
    assert not sniff(path.read_bytes()[:65536], "ee.xlsx")  # XLSX needs --format
    events, rej = run_parser(PARSER, path)
    assert (len(events), len(rej)) == (2, 1)
    e = events[0]
    assert e.locator == "xlsx:CDR!row=3"
    assert (e.timestamp_utc, e.tz_flag, e.timestamp_source, e.date_order) == (
        datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "ambiguous", "2024-10-27 01:30:00", None)
    assert (e.sender, e.recipients, e.duration_s) == (ME, (FRIEND,), 61.0)  # 7700900456 lost its 0
    assert events[1].timestamp_utc == datetime(2024, 7, 1, 11, 0, tzinfo=UTC)
    assert (rej[0].locator, rej[0].reason) == ("xlsx:CDR!row=5", FOOTER.format("ee"))


def test_sniff_refuses_empty_and_unprofiled(cdr_dir, data_dir):
    assert sniff(b"", "") is False
    assert sniff((cdr_dir / "analyst_layout.csv").read_bytes(), "analyst_layout.csv") is False
    cell_list = data_dir / "parsers" / "cell_sites" / "operator_list.csv"
    assert sniff(cell_list.read_bytes(), "operator_list.csv") is False
