"""The parser registry: an explicit tuple, checked by a completeness test.

Detection asks every parser's cheap ``sniff``; exactly one must claim a file,
otherwise the user is asked for ``--format``. Adding a parser means adding its
module here (``tests/test_registry.py`` fails if a module is left out).
"""

from __future__ import annotations

from atlas.parsing import ParserSpec
from parsers import (
    android_calllog_db,
    android_mmssms_db,
    anpr_csv,
    axiom_csv,
    cdr_csv,
    cell_sites,
    diary,
    email_mime,
    geojson,
    google_takeout_json,
    gpx,
    ios_callhistory_db,
    ios_sms_db,
    kml,
    meta_dyi_json,
    signal_txt,
    snapchat_json,
    table_mapping,
    telegram_json,
    tower_dump_csv,
    ufed_xml,
    whatsapp_txt,
    xry_txt,
)

PARSERS: tuple[ParserSpec, ...] = (
    android_calllog_db.PARSER,
    android_mmssms_db.PARSER,
    anpr_csv.PARSER,
    axiom_csv.PARSER,
    cdr_csv.PARSER,
    cell_sites.PARSER,
    diary.PARSER,
    email_mime.PARSER,
    geojson.PARSER,
    google_takeout_json.PARSER,
    gpx.PARSER,
    ios_callhistory_db.PARSER,
    ios_sms_db.PARSER,
    kml.PARSER,
    meta_dyi_json.PARSER,
    signal_txt.PARSER,
    snapchat_json.PARSER,
    table_mapping.PARSER,
    telegram_json.PARSER,
    tower_dump_csv.PARSER,
    ufed_xml.PARSER,
    whatsapp_txt.PARSER,
    xry_txt.PARSER,
)
