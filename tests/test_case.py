"""The case workspace: init writes a valid commented case.toml; validation names the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from atlas.case import load_case, write_new_case
from atlas.errors import CaseConfigError

FULL = """
schema = 1
[case]
urn = "01AB2345678"
[analyst]
name = "Dana Irving"
role = "Digital investigator"
organisation = "Example Constabulary"
initials = "DI"
[[persons]]
id = "P1"
name = "Sam Suspect"
role = "suspect"
[[persons.identifiers]]
value = "tel:07700 900123"
basis = "Subscriber check DI/9"
[[persons.identifiers]]
value = "name:whatsapp:Sam"
basis = "Name shown in the victim's WhatsApp export DI/1"
[[persons]]
id = "P2"
name = "Vic Victim"
role = "victim"
[[persons.identifiers]]
value = "tel:+44 7700 900456"
basis = "Victim's statement"
[[places]]
name = "Victim home"
lat = 53.8
lon = -1.55
radius_m = 100
person = "P2"
[[key_dates]]
kind = "blocked"
at = 2024-05-10T21:00:00
person = "P2"
identifier = "tel:07700900123"
[[orders]]
id = "RO1"
type = "restraining_order"
subject = "P1"
protected = ["P2"]
prohibited_channels = ["any"]
zones = [{ place = "Victim home", radius_m = 500 }]
exceptions = ["Contact through solicitors"]
made = 2024-06-01T10:00:00
served = 2024-06-03T14:30:00
expires = 2026-06-01
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "case.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_init_writes_a_valid_commented_case(tmp_path):
    path = write_new_case(tmp_path / "c", "01AB2345678", "Dana Irving", organisation="Example")
    text = path.read_text(encoding="utf-8")
    assert "# [[persons]]" in text and "basis" in text
    case = load_case(tmp_path / "c")
    assert (case.urn, case.analyst.initials, case.display_timezone) == ("01AB2345678", "DI", "Europe/London")
    with pytest.raises(CaseConfigError, match="already exists"):
        write_new_case(tmp_path / "c", "01AB2345678", "Dana Irving")


def test_full_case_loads_and_normalises(tmp_path):
    case = load_case(_write(tmp_path, FULL))
    assert case.identifier_owner()["tel:+447700900123"] == "P1"
    assert case.identifiers_of("P2") == ("tel:+447700900456",)
    assert case.key_dates[0].at == dt.datetime(2024, 5, 10, 20, 0, tzinfo=dt.UTC)  # BST
    order = case.orders[0]
    assert order.served == dt.datetime(2024, 6, 3, 13, 30, tzinfo=dt.UTC)
    assert order.zones[0].radius_m == 500 and order.expires == dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    "old, new, key, problem",
    [
        ('urn = "01AB2345678"', 'urn = ""', "case.urn", "must not be empty"),
        ('initials = "DI"', 'initials = "di9"', "analyst.initials", "capital letters"),
        ('role = "suspect"', 'role = "stalker"', "persons[0].role", "not one of suspect, victim, other"),
        ('value = "tel:07700 900123"', 'value = "tel:12"', "persons[0].identifiers[0].value",
         "not a valid phone number"),
        ('value = "tel:07700 900123"', 'value = "07700900123"', "persons[0].identifiers[0].value", "no scheme"),
        ('basis = "Victim\'s statement"', 'basis = ""', "persons[1].identifiers[0].basis", "must not be empty"),
        ('value = "tel:+44 7700 900456"', 'value = "tel:07700900123"', "persons[1].identifiers[0].value",
         "already attributed to P1"),
        ("lat = 53.8", "lat = 153.8", "places[0].lat", "outside"),
        ('subject = "P1"', 'subject = "P9"', "orders[0].subject", "not a person id"),
        ('place = "Victim home"', 'place = "Nowhere"', "orders[0].zones[0].place", "not a place name"),
        ("served = 2024-06-03T14:30:00", "served = 2024-05-03T14:30:00", "orders[0].served", "before"),
        ("at = 2024-05-10T21:00:00", "at = 2024-10-27T01:30:00", "key_dates[0].at", "ambiguous"),
        ("at = 2024-05-10T21:00:00", 'at = "last week"', "key_dates[0].at", "must be a date"),
        ('kind = "blocked"', 'kind = "blockedd"', "key_dates[0].kind", "not one of"),
        ("[[places]]", "colour = 1\n[[places]]", "persons[1].identifiers[0].colour", "unknown key"),
    ],
    ids=["empty-urn", "bad-initials", "bad-role", "bad-number", "no-scheme", "empty-basis",
         "double-attribution", "lat-range", "bad-subject", "bad-zone", "served-before-made",
         "dst-ambiguous", "not-a-date", "bad-kind", "unknown-key"],
)
def test_validation_names_the_key(tmp_path, old, new, key, problem):
    assert old in FULL
    _write(tmp_path, FULL.replace(old, new, 1))
    with pytest.raises(CaseConfigError) as err:
        load_case(tmp_path)
    assert err.value.key == key
    assert problem in err.value.message
    assert "case.toml" in err.value.message


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(CaseConfigError, match="not found"):
        load_case(tmp_path)
    _write(tmp_path, "[case\nurn=")
    with pytest.raises(CaseConfigError, match="not valid TOML"):
        load_case(tmp_path)
