"""Events map to persons only through case.toml attributions (identifiers and device exhibits)."""

from __future__ import annotations

import pandas as pd

from atlas.attribution import attribute, sent_by, sent_to
from atlas.case import load_case, write_new_case

PEOPLE = """
[[persons]]
id = "P1"
name = "Sam"
role = "suspect"
[[persons.identifiers]]
value = "tel:07700 900123"
basis = "Subscriber check"
[[persons]]
id = "P2"
name = "Vic"
role = "victim"
[[persons.identifiers]]
value = "device:DI/1"
basis = "Handset handed over by the victim, DI/1"
"""


def test_identifier_and_device_exhibit_attribution(tmp_path):
    write_new_case(tmp_path / "c", "01AB2345678", "Dana Irving")
    with open(tmp_path / "c" / "case.toml", "a", encoding="utf-8") as fh:
        fh.write(PEOPLE)
    case = load_case(tmp_path / "c")
    events = pd.DataFrame({
        "exhibit_ref": ["DI/1", "DI/1", "DI/1", "DI/2", "DI/1"],
        "direction": ["incoming", "outgoing", "unknown", "incoming", "unknown"],
        "sender": ["tel:+447700900123", None, "tel:+447700900123", "tel:+447700900123", "tel:+447700900999"],
        "recipients": [(), ("tel:+447700900123",), (), (), ()],
    })
    got = attribute(events, case)
    assert got["sender_person"].tolist() == ["P1", "P2", "P1", "P1", None]
    assert got["sender_basis"].tolist() == ["identifier", "device_exhibit", "identifier", "identifier", None]
    assert got["recipient_persons"].tolist() == [("P2",), ("P1",), ("P2",), (), ("P2",)]
    assert got["recipient_basis"].tolist() == ["device_exhibit", "identifier", "device_exhibit", None, "device_exhibit"]
    assert sent_by(events, case, "suspect").tolist() == [True, False, True, True, False]
    assert sent_to(events, case, "victim").tolist() == [True, False, True, False, True]
