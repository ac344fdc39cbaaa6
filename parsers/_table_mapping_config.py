"""Read and check the TOML mapping of the ``table_mapping`` parser.

The mapping arrives already parsed (``options.mapping``). Every problem is a
``UsageError`` naming the mapping file and the key, so the analyst can fix
the mapping before anything is read from the exhibit. The format itself is
documented in ``parsers/table_mapping.py`` and ``docs/table-mapping.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from atlas.errors import UsageError
from atlas.events import DELETION_STATES, DIRECTIONS, KINDS, LOCATION_METHODS
from atlas.timeparse import zone

SECTIONS = ("table", "time", "fields", "constants", "values", "identifiers")
TABLE_KEYS = ("type", "sheet", "header_row", "encoding", "delimiter", "quotechar",
              "list_separator")
TIME_KEYS = ("column", "format", "timezone")
TIME_KEYWORDS = ("iso", "unix_s", "unix_ms")

# Event fields a column may fill, grouped by how the cell is read.
ENUM_FIELDS: dict[str, tuple[str, ...] | None] = {
    "kind": KINDS,
    "direction": DIRECTIONS,
    "location_method": LOCATION_METHODS,
    "deleted": DELETION_STATES,
    "status": None,  # free text, or coded through [values.status]
    "channel": None,
}
IDENT_FIELDS = ("sender", "recipients")
TEXT_FIELDS = ("sender_name", "text", "thread", "cell_id", "attachments")
NUMBER_FIELDS = ("duration_s", "latitude", "longitude", "accuracy_m")
FIELDS = (*ENUM_FIELDS, *IDENT_FIELDS, *TEXT_FIELDS, *NUMBER_FIELDS)
CONSTANT_FIELDS = ("kind", "direction", "location_method", "deleted", "status", "channel",
                   "thread")
IDENT_SCHEMES = ("tel", "email", "vrm", "raw", "handle:<platform>", "name:<channel>")


@dataclass(frozen=True)
class Mapping:
    """A checked mapping: what every column means and how to read the time."""

    path: str
    table_type: str | None
    sheet: str | None
    header_row: int
    encoding: str
    delimiter: str
    quotechar: str
    list_separator: str
    time_columns: tuple[str, ...]
    time_format: str
    timezone: str
    fields: dict[str, str]
    constants: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)

    def mapped_columns(self) -> tuple[str, ...]:
        """Return every header the mapping names, time columns first."""
        return (*self.time_columns, *self.fields.values())


def load(raw: dict[str, Any] | None, path: str | None, default_tz: str) -> Mapping:
    """Check a parsed mapping and return it as a ``Mapping``; raise UsageError when invalid."""
    where = path or "(mapping)"
    if raw is None:
        raise UsageError("the table_mapping format needs a mapping file: "
                         "use --format table_mapping --mapping FILE (see docs/table-mapping.md)")
    if not isinstance(raw, dict):
        raise _bad(where, "", "must be a TOML document of tables")
    _only(where, "", raw, SECTIONS)
    table = _table(where, raw, "table")
    time = _table(where, raw, "time")
    fields_ = _table(where, raw, "fields")
    constants = _table(where, raw, "constants")
    values = _table(where, raw, "values")
    identifiers = _table(where, raw, "identifiers")
    _only(where, "table", table, TABLE_KEYS)
    _only(where, "time", time, TIME_KEYS)
    _only(where, "fields", fields_, FIELDS)
    _only(where, "constants", constants, CONSTANT_FIELDS)
    _only(where, "values", values, tuple(ENUM_FIELDS))
    _only(where, "identifiers", identifiers, IDENT_FIELDS)

    table_type = table.get("type")
    if table_type is not None and table_type not in ("csv", "xlsx"):
        raise _bad(where, "table.type", f"must be 'csv' or 'xlsx', not {table_type!r}")
    header_row = table.get("header_row", 1)
    if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1:
        raise _bad(where, "table.header_row", f"must be a whole number from 1, not {header_row!r}")
    encoding = _string(where, "table.encoding", table.get("encoding", "utf-8-sig"))
    try:
        "".encode(encoding)
    except LookupError:
        raise _bad(where, "table.encoding", f"unknown encoding {encoding!r}") from None
    chars = {}
    for key, default in (("delimiter", ","), ("quotechar", '"'), ("list_separator", ";")):
        value = _string(where, f"table.{key}", table.get(key, default))
        if len(value) != 1 and key != "list_separator":
            raise _bad(where, f"table.{key}", f"must be one character, not {value!r} "
                       "(write a tab as \"\\t\")")
        chars[key] = value
    sheet = table.get("sheet")
    if sheet is not None:
        sheet = _string(where, "table.sheet", sheet)

    column = time.get("column")
    if column is None:
        raise _bad(where, "time.column", "is required: the header of the time column "
                   "(or a list such as [\"Date\", \"Time\"], joined with one space)")
    columns = (column,) if isinstance(column, str) else column
    if not isinstance(columns, (list, tuple)) or not columns or not all(
            isinstance(c, str) and c.strip() for c in columns):
        raise _bad(where, "time.column", f"must be a header or a list of headers, not {column!r}")
    time_format = _string(where, "time.format", time.get("format"), required=True)
    _check_time_format(where, time_format)
    timezone = _string(where, "time.timezone", time.get("timezone", default_tz))
    try:
        zone(timezone)
    except ValueError as exc:
        raise _bad(where, "time.timezone", str(exc)) from None

    for key, value in fields_.items():
        _string(where, f"fields.{key}", value, required=True)
    for key in fields_:
        if key in constants:
            raise _bad(where, f"constants.{key}", f"is also mapped to a column in fields.{key}; "
                       "choose one")
    if "kind" not in fields_ and "kind" not in constants:
        raise _bad(where, "constants.kind", "every event needs a kind: set constants.kind or "
                   f"fields.kind (kinds: {', '.join(KINDS)})")
    if ("latitude" in fields_) != ("longitude" in fields_):
        raise _bad(where, "fields.latitude", "latitude and longitude are mapped together")
    for key, value in constants.items():
        _string(where, f"constants.{key}", value, required=True)
        allowed = ENUM_FIELDS.get(key)
        if allowed and value not in allowed:
            raise _bad(where, f"constants.{key}", f"{value!r} is not one of {', '.join(allowed)}")

    codes: dict[str, dict[str, str]] = {}
    for key, table_ in values.items():
        if not isinstance(table_, dict):
            raise _bad(where, f"values.{key}", "must be a table of \"source code\" = \"value\"")
        if key not in fields_:
            raise _bad(where, f"values.{key}", f"is given but fields.{key} names no column")
        allowed = ENUM_FIELDS[key]
        for code, value in table_.items():
            _string(where, f"values.{key}.{code}", value, required=True)
            if allowed and value not in allowed:
                raise _bad(where, f"values.{key}.{code}",
                           f"{value!r} is not one of {', '.join(allowed)}")
        codes[key] = dict(table_)

    idents: dict[str, str] = {}
    for key in IDENT_FIELDS:
        if key in fields_:
            scheme = _string(where, f"identifiers.{key}", identifiers.get(key), required=True,
                             hint=f"say how fields.{key} is normalised: "
                                  f"one of {', '.join(IDENT_SCHEMES)}")
            if not _valid_scheme(scheme):
                raise _bad(where, f"identifiers.{key}", f"{scheme!r} is not one of "
                           f"{', '.join(IDENT_SCHEMES)}")
            idents[key] = scheme
        elif key in identifiers:
            raise _bad(where, f"identifiers.{key}", f"is given but fields.{key} names no column")

    return Mapping(
        path=where, table_type=table_type, sheet=sheet, header_row=header_row, encoding=encoding,
        delimiter=chars["delimiter"], quotechar=chars["quotechar"],
        list_separator=chars["list_separator"], time_columns=tuple(c.strip() for c in columns),
        time_format=time_format, timezone=timezone,
        fields={k: v.strip() for k, v in fields_.items()}, constants=dict(constants),
        values=codes, identifiers=idents,
    )


def _check_time_format(where: str, fmt: str) -> None:
    if fmt in TIME_KEYWORDS:
        return
    if "%" not in fmt:
        raise _bad(where, "time.format", f"{fmt!r} is neither a strptime format (with % "
                   f"directives) nor one of {', '.join(TIME_KEYWORDS)}")
    if "%Z" in fmt:
        # strptime accepts a zone name and then throws it away, leaving a naive time.
        raise _bad(where, "time.format", "%Z is not applied by strptime; write a literal zone "
                   "(e.g. '%Y-%m-%d %H:%M:%S UTC') and set time.timezone, or use %z for offsets")
    sample = datetime(2001, 2, 3, 4, 5, 6, 7000, tzinfo=UTC)
    try:
        datetime.strptime(sample.strftime(fmt), fmt)  # noqa: DTZ007 - format check only
    except ValueError as exc:
        raise _bad(where, "time.format",
                   f"{fmt!r} is not a usable strptime format: {exc}") from None


def _valid_scheme(scheme: str) -> bool:
    if scheme in ("tel", "email", "vrm", "raw"):
        return True
    prefix, _, rest = scheme.partition(":")
    return prefix in ("handle", "name") and bool(rest.strip())


def _table(where: str, raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise _bad(where, key, f"must be a table ([{key}])")
    return value


def _only(where: str, section: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            name = f"{section}.{key}" if section else key
            raise _bad(where, name, f"unknown key; allowed: {', '.join(allowed)}")


def _string(where: str, key: str, value: Any, required: bool = False, hint: str = "") -> str:
    if value is None and not required:
        return value
    if not isinstance(value, str) or not value:
        problem = hint or "must be a non-empty string"
        raise _bad(where, key, problem if value is None else f"{problem}, not {value!r}")
    return value


def _bad(where: str, key: str, problem: str) -> UsageError:
    return UsageError(f"mapping {where}: {key}: {problem}" if key
                      else f"mapping {where}: {problem}")
