"""Identifier normalisation: E.164 phone numbers, verbatim and flagged when unparseable."""

from __future__ import annotations

import pytest

from atlas.identifiers import Ident, email, normalise, tel, vrm, whatsapp_jid


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("07700 900123", "GB", Ident("tel:+447700900123", True)),
        ("+44 7700 900123", "GB", Ident("tel:+447700900123", True)),
        ("447700900123", "GB", Ident("tel:+447700900123", True)),
        ("0044 7700 900123", "GB", Ident("tel:+447700900123", True)),
        ("1 555-521-5554", "US", Ident("tel:+15555215554", True)),
        ("1 555-521-5554", "GB", Ident("tel:1 555-521-5554", False)),
        ("not a number", "GB", Ident("tel:not a number", False)),
    ],
    ids=["uk-national", "uk-international", "uk-no-plus", "uk-00", "us-in-us", "us-in-gb", "garbage"],
)
def test_tel(raw, region, expected):
    assert tel(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "  ", "Withheld", "PRIVATE", "-2"])
def test_withheld_numbers_are_not_identifiers(raw):
    assert tel(raw) is None


def test_other_schemes():
    assert email('"Jo" <Jo.Smith@Example.org>') == Ident("email:jo.smith@example.org", True)
    assert vrm("ab12 cde") == Ident("vrm:AB12CDE", True)
    assert whatsapp_jid("447700900123@s.whatsapp.net") == Ident("whatsapp:+447700900123", True)
    assert normalise("instagram:@Some.Handle").value == "instagram:some.handle"
    assert normalise("name:WhatsApp:Dave 🙂").value == "name:whatsapp:Dave 🙂"


@pytest.mark.parametrize("value, message", [("07700900123", "no scheme"), ("fax:123", "unknown identifier scheme")])
def test_normalise_errors(value, message):
    with pytest.raises(ValueError, match=message):
        normalise(value)
