"""The case workspace and ``case.toml``.

A case directory holds::

    case.toml            what the analyst declares: URN, analyst, persons and the identifiers
                         attributed to each (with the basis), places, key dates, orders
    store/               the event store (``atlas.store``)
    log/analysis.jsonl   one JSON line per command (``atlas.log``)
    results/, report/    analysis results (``atlas analyse``) and the statement (``atlas report``)

``load_case`` validates everything and raises ``CaseConfigError`` naming the key
(``persons[2].identifiers[0].value``) and what is wrong. The commented example
written by ``atlas init`` is ``atlas/case_template.toml``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas import identifiers as ids
from atlas.errors import CaseConfigError
from atlas.timeparse import from_local, zone

CASE_FILE = "case.toml"
ROLES = ("suspect", "victim", "other")
KEY_DATE_KINDS = ("relationship_ended", "stop_requested", "blocked", "warned", "reported",
                  "arrested", "charged", "other")
ORDER_TYPES = ("stalking_protection_order", "interim_stalking_protection_order",
               "restraining_order", "non_molestation_order", "bail_conditions",
               "domestic_abuse_protection_order", "other")
FSR_STATUSES = ("compliant", "non_compliant", "not_applicable")
TEMPLATE = Path(__file__).with_name("case_template.toml")


@dataclass(frozen=True)
class Attribution:
    """An identifier attributed to a person, with the basis for saying so."""

    value: str
    basis: str
    parsed: bool = True


@dataclass(frozen=True)
class Person:
    """A person in the case and the identifiers attributed to them."""

    id: str
    name: str
    role: str
    identifiers: tuple[Attribution, ...] = ()


@dataclass(frozen=True)
class Place:
    """A named place (a centre and a radius in metres)."""

    name: str
    lat: float
    lon: float
    radius_m: float
    person: str | None = None


@dataclass(frozen=True)
class KeyDate:
    """A dated event in the case, such as the end of the relationship or a block."""

    kind: str
    at: dt.datetime | dt.date
    note: str = ""
    person: str | None = None
    identifier: str | None = None


@dataclass(frozen=True)
class Zone:
    """An area an order prohibits: a named place with a radius."""

    place: str
    radius_m: float


@dataclass(frozen=True)
class Order:
    """A protective order or bail condition as structured terms."""

    id: str
    type: str
    subject: str
    protected: tuple[str, ...]
    prohibited_channels: tuple[str, ...]
    zones: tuple[Zone, ...]
    exceptions: tuple[str, ...]
    made: dt.datetime
    served: dt.datetime | None
    expires: dt.datetime | dt.date | None


@dataclass(frozen=True)
class Analyst:
    """Who runs the analysis."""

    name: str
    role: str
    organisation: str
    initials: str


@dataclass(frozen=True)
class StatementHeader:
    """What the officer completes for the witness statement (``[statement]`` in case.toml).

    Every field may be absent while the analysis runs; ``atlas report`` refuses to write the
    statement until the required ones are filled in. ``fsr_status`` has no default: Atlas never
    assumes compliance with the Forensic Science Regulator's Code.
    """

    occupation: str | None = None
    age: str | None = None
    date: dt.date | None = None
    fsr_status: str | None = None
    fsr_details: str = ""
    requested_by: str = ""
    instructions: str = ""
    experience: str = ""
    protective_marking: str = ""
    exhibit_descriptions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Case:
    """A validated case workspace."""

    root: Path
    urn: str
    analyst: Analyst
    display_timezone: str = "Europe/London"
    default_region: str = "GB"
    date_order: str = "dmy"
    persons: tuple[Person, ...] = ()
    places: tuple[Place, ...] = ()
    key_dates: tuple[KeyDate, ...] = ()
    orders: tuple[Order, ...] = ()
    statement: StatementHeader = StatementHeader()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def store_dir(self) -> Path:
        """Return the event store directory."""
        return self.root / "store"

    @property
    def log_path(self) -> Path:
        """Return the analysis log path."""
        return self.root / "log" / "analysis.jsonl"

    def person(self, person_id: str) -> Person:
        """Return the person with ``person_id`` (matching id or name, case-insensitive)."""
        for p in self.persons:
            if p.id == person_id or p.id.lower() == person_id.lower() or p.name.lower() == person_id.lower():
                return p
        known = ", ".join(f"{p.id} ({p.name})" for p in self.persons) or "none declared"
        raise CaseConfigError("persons", f"no person {person_id!r}; known: {known}")

    def identifier_owner(self) -> dict[str, str]:
        """Return a map from attributed identifier to person id."""
        return {a.value: p.id for p in self.persons for a in p.identifiers}

    def identifiers_of(self, person_id: str) -> tuple[str, ...]:
        """Return the identifiers attributed to a person, sorted."""
        return tuple(sorted(a.value for a in self.person(person_id).identifiers))


def case_path(case_dir: str | Path) -> Path:
    """Return the path of ``case.toml`` in a case directory."""
    return Path(case_dir) / CASE_FILE


def write_new_case(case_dir: str | Path, urn: str, analyst: str, role: str = "Digital investigator",
                   organisation: str = "", initials: str | None = None) -> Path:
    """Write a commented ``case.toml`` for a new case; refuse to overwrite one."""
    root = Path(case_dir)
    target = case_path(root)
    if target.exists():
        raise CaseConfigError("", "already exists; edit it instead of running init again", str(target))
    _check_urn(urn)
    if not analyst.strip():
        raise CaseConfigError("analyst.name", "must not be empty")
    initials = initials or "".join(w[0] for w in analyst.split() if w[:1].isalpha()).upper() or "XX"
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in (("URN", urn), ("ANALYST", analyst), ("ROLE", role),
                       ("ORGANISATION", organisation), ("INITIALS", initials)):
        text = text.replace(f'"@{key}@"', json.dumps(value, ensure_ascii=False))
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("store", "log", "exhibits"):
        (root / sub).mkdir(exist_ok=True)
    target.write_text(text, encoding="utf-8")
    load_case(root)  # the template itself must validate
    return target


def load_case(case_dir: str | Path) -> Case:
    """Read and validate ``case.toml``; raise ``CaseConfigError`` naming the key on failure."""
    root = Path(case_dir)
    path = case_path(root)
    if not path.is_file():
        raise CaseConfigError("", f"not found; create the case with 'atlas init {root} --urn URN "
                              "--analyst NAME'", str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CaseConfigError("", f"not valid TOML: {exc}", str(path)) from exc
    except UnicodeDecodeError as exc:
        raise CaseConfigError("", f"not UTF-8 text: {exc}", str(path)) from exc
    return _Validator(data, str(path)).case(root)


def _check_urn(urn: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/ \-]{2,39}", urn.strip()):
        raise CaseConfigError("case.urn", f"{urn!r} is not a case reference (3-40 letters, digits, "
                              "'/', '-' or spaces)")


class _Validator:
    """Walks the TOML document, naming each key it checks."""

    def __init__(self, data: dict[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def fail(self, key: str, problem: str) -> CaseConfigError:
        return CaseConfigError(key, problem, self.path)

    def table(self, obj: Any, key: str) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise self.fail(key, f"must be a table, not {type(obj).__name__}")
        return obj

    def text(self, tbl: dict[str, Any], key: str, where: str, required: bool = True,
             default: str = "") -> str:
        value = tbl.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}.{key}", "is required")
            return default
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"must be text, not {type(value).__name__}")
        if required and not value.strip():
            raise self.fail(f"{where}.{key}", "must not be empty")
        return value.strip()

    def number(self, tbl: dict[str, Any], key: str, where: str, lo: float, hi: float) -> float:
        value = tbl.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where}.{key}", "is required and must be a number")
        if not lo <= value <= hi:
            raise self.fail(f"{where}.{key}", f"{value} is outside {lo}..{hi}")
        return float(value)

    def choice(self, tbl: dict[str, Any], key: str, where: str, allowed: tuple[str, ...]) -> str:
        value = self.text(tbl, key, where)
        if value not in allowed:
            raise self.fail(f"{where}.{key}", f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def unknown_keys(self, tbl: dict[str, Any], where: str, allowed: set[str]) -> None:
        extra = sorted(set(tbl) - allowed)
        if extra:
            raise self.fail(f"{where}.{extra[0]}" if where else extra[0],
                            f"unknown key; expected one of {', '.join(sorted(allowed))}")

    def when(self, value: Any, key: str, tz: str, date_ok: bool) -> dt.datetime | dt.date:
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                return value.astimezone(dt.UTC)
            reading = from_local(value, tz)
            if reading.flag != "ok":
                raise self.fail(key, f"{value.isoformat()} is {reading.flag} in {tz} (a clock change); "
                                "write it with its offset, e.g. 2024-10-27T01:30:00+01:00")
            return reading.utc  # type: ignore[return-value]
        if isinstance(value, dt.date) and date_ok:
            return value
        wanted = "a date or date-time" if date_ok else "a date-time (e.g. 2024-06-03T14:30:00)"
        raise self.fail(key, f"must be {wanted}, not {value!r}")

    def case(self, root: Path) -> Case:
        d = self.data
        self.unknown_keys(d, "", {"schema", "case", "analyst", "persons", "places", "key_dates", "orders",
                                   "statement"})
        if d.get("schema", 1) != 1:
            raise self.fail("schema", f"version {d.get('schema')!r} is not supported (expected 1)")
        c = self.table(d.get("case"), "case") if "case" in d else None
        if c is None:
            raise self.fail("case", "table is required")
        self.unknown_keys(c, "case", {"urn", "display_timezone", "default_region", "date_order"})
        urn = self.text(c, "urn", "case")
        _check_urn(urn)
        tz = self.text(c, "display_timezone", "case", required=False, default="Europe/London")
        try:
            zone(tz)
        except ValueError as exc:
            raise self.fail("case.display_timezone", str(exc)) from None
        region = self.text(c, "default_region", "case", required=False, default="GB").upper()
        if not re.fullmatch(r"[A-Z]{2}", region):
            raise self.fail("case.default_region", f"{region!r} is not a two-letter region code")
        order = self.text(c, "date_order", "case", required=False, default="dmy")
        if order not in ("dmy", "mdy", "ymd"):
            raise self.fail("case.date_order", f"{order!r} is not one of dmy, mdy, ymd")

        a = self.table(d.get("analyst", {}), "analyst")
        self.unknown_keys(a, "analyst", {"name", "role", "organisation", "initials"})
        initials = self.text(a, "initials", "analyst")
        if not re.fullmatch(r"[A-Z]{1,5}", initials):
            raise self.fail("analyst.initials", f"{initials!r} must be 1-5 capital letters (for exhibit refs)")
        analyst = Analyst(self.text(a, "name", "analyst"), self.text(a, "role", "analyst"),
                          self.text(a, "organisation", "analyst", required=False), initials)

        persons = tuple(self.person(p, i, region) for i, p in enumerate(self.array(d, "persons")))
        self.unique([p.id for p in persons], "persons", "id")
        seen: dict[str, str] = {}
        for i, p in enumerate(persons):
            for j, att in enumerate(p.identifiers):
                if att.value in seen and seen[att.value] != p.id:
                    raise self.fail(f"persons[{i}].identifiers[{j}].value",
                                    f"{att.value} is already attributed to {seen[att.value]}; an "
                                    "identifier can be attributed to one person only")
                seen[att.value] = p.id
        person_ids = {p.id for p in persons}
        places = tuple(self.place(p, i, person_ids) for i, p in enumerate(self.array(d, "places")))
        self.unique([p.name for p in places], "places", "name")
        key_dates = tuple(self.key_date(k, i, tz, person_ids, region)
                          for i, k in enumerate(self.array(d, "key_dates")))
        orders = tuple(self.order(o, i, tz, person_ids, {p.name for p in places})
                       for i, o in enumerate(self.array(d, "orders")))
        self.unique([o.id for o in orders], "orders", "id")
        statement = self.statement(self.table(d.get("statement", {}), "statement"))
        return Case(root=root, urn=urn, analyst=analyst, display_timezone=tz, default_region=region,
                    date_order=order, persons=persons, places=places, key_dates=key_dates,
                    orders=orders, statement=statement, raw=d)

    def statement(self, s: dict[str, Any]) -> StatementHeader:
        """Check the statement header; missing fields are allowed here and refused by the report."""
        where = "statement"
        self.unknown_keys(s, where, {"occupation", "age", "date", "fsr_status", "fsr_details",
                                     "requested_by", "instructions", "experience", "protective_marking",
                                     "exhibit_descriptions"})
        texts = {k: self.text(s, k, where, required=False) for k in (
            "occupation", "age", "fsr_status", "fsr_details", "requested_by", "instructions", "experience",
            "protective_marking")}
        age = texts["age"]
        if age and not (age.lower() == "over 18" or (age.isdigit() and int(age) < 18)):
            raise self.fail(f"{where}.age", f"{age!r} must be \"Over 18\" or the age in years if under 18")
        status = texts["fsr_status"]
        if status and status not in FSR_STATUSES:
            raise self.fail(f"{where}.fsr_status", f"{status!r} is not one of {', '.join(FSR_STATUSES)}")
        if status in ("non_compliant", "not_applicable") and not texts["fsr_details"]:
            raise self.fail(f"{where}.fsr_details", f"is required when fsr_status is {status!r}: say what "
                            "does not comply and why, or why the Code does not apply")
        when = s.get("date")
        if when is not None and (not isinstance(when, dt.date) or isinstance(when, dt.datetime)):
            raise self.fail(f"{where}.date", f"must be a date (e.g. 2025-01-20), not {when!r}")
        descriptions = self.table(s.get("exhibit_descriptions", {}), f"{where}.exhibit_descriptions")
        for ref, text in descriptions.items():
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{where}.exhibit_descriptions.{ref}", "must be non-empty text")
        return StatementHeader(
            occupation=texts["occupation"] or None, age=age or None, date=when,
            fsr_status=status or None, fsr_details=texts["fsr_details"],
            requested_by=texts["requested_by"], instructions=texts["instructions"],
            experience=texts["experience"], protective_marking=texts["protective_marking"],
            exhibit_descriptions=tuple(sorted((k, v.strip()) for k, v in descriptions.items())))

    def array(self, d: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = d.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "must be an array of tables ([[" + key + "]])")
        return [self.table(v, f"{key}[{i}]") for i, v in enumerate(value)]

    def unique(self, values: list[str], where: str, key: str) -> None:
        seen: set[str] = set()
        for i, v in enumerate(values):
            if v in seen:
                raise self.fail(f"{where}[{i}].{key}", f"{v!r} is used twice")
            seen.add(v)

    def person(self, p: dict[str, Any], i: int, region: str) -> Person:
        where = f"persons[{i}]"
        self.unknown_keys(p, where, {"id", "name", "role", "identifiers"})
        pid = self.text(p, "id", where)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,31}", pid):
            raise self.fail(f"{where}.id", f"{pid!r} must start with a letter and use letters, digits, _ or -")
        atts = []
        raw_ids = p.get("identifiers", [])
        if not isinstance(raw_ids, list):
            raise self.fail(f"{where}.identifiers", "must be an array of tables")
        for j, a in enumerate(raw_ids):
            w = f"{where}.identifiers[{j}]"
            a = self.table(a, w)
            self.unknown_keys(a, w, {"value", "basis"})
            value = self.text(a, "value", w)
            basis = self.text(a, "basis", w)
            try:
                norm = ids.normalise(value, region)
            except ValueError as exc:
                raise self.fail(f"{w}.value", str(exc)) from None
            if norm.value.startswith("tel:") and not norm.parsed:
                raise self.fail(f"{w}.value", f"{value!r} is not a valid phone number for region {region}")
            atts.append(Attribution(norm.value, basis, norm.parsed))
        return Person(pid, self.text(p, "name", where), self.choice(p, "role", where, ROLES),
                      tuple(sorted(atts, key=lambda x: x.value)))

    def place(self, p: dict[str, Any], i: int, person_ids: set[str]) -> Place:
        where = f"places[{i}]"
        self.unknown_keys(p, where, {"name", "lat", "lon", "radius_m", "person"})
        person = self.text(p, "person", where, required=False) or None
        if person is not None and person not in person_ids:
            raise self.fail(f"{where}.person", f"{person!r} is not a person id")
        return Place(self.text(p, "name", where), self.number(p, "lat", where, -90, 90),
                     self.number(p, "lon", where, -180, 180),
                     self.number(p, "radius_m", where, 1, 100_000), person)

    def key_date(self, k: dict[str, Any], i: int, tz: str, person_ids: set[str], region: str) -> KeyDate:
        where = f"key_dates[{i}]"
        self.unknown_keys(k, where, {"kind", "at", "note", "person", "identifier"})
        if "at" not in k:
            raise self.fail(f"{where}.at", "is required")
        person = self.text(k, "person", where, required=False) or None
        if person is not None and person not in person_ids:
            raise self.fail(f"{where}.person", f"{person!r} is not a person id")
        ident = self.text(k, "identifier", where, required=False) or None
        if ident is not None:
            try:
                ident = ids.normalise(ident, region).value
            except ValueError as exc:
                raise self.fail(f"{where}.identifier", str(exc)) from None
        return KeyDate(self.choice(k, "kind", where, KEY_DATE_KINDS),
                       self.when(k["at"], f"{where}.at", tz, date_ok=True),
                       self.text(k, "note", where, required=False), person, ident)

    def order(self, o: dict[str, Any], i: int, tz: str, person_ids: set[str], places: set[str]) -> Order:
        where = f"orders[{i}]"
        self.unknown_keys(o, where, {"id", "type", "subject", "protected", "prohibited_channels",
                                     "zones", "exceptions", "made", "served", "expires"})
        subject = self.text(o, "subject", where)
        if subject not in person_ids:
            raise self.fail(f"{where}.subject", f"{subject!r} is not a person id")
        protected = o.get("protected", [])
        if not isinstance(protected, list) or not protected:
            raise self.fail(f"{where}.protected", "must be a non-empty list of person ids")
        for j, pid in enumerate(protected):
            if pid not in person_ids:
                raise self.fail(f"{where}.protected[{j}]", f"{pid!r} is not a person id")
        channels = o.get("prohibited_channels", [])
        if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
            raise self.fail(f"{where}.prohibited_channels", "must be a list of channel or kind names "
                            "(e.g. \"any\", \"call\", \"sms\", \"whatsapp\")")
        zones = []
        for j, z in enumerate(o.get("zones", [])):
            w = f"{where}.zones[{j}]"
            z = self.table(z, w)
            self.unknown_keys(z, w, {"place", "radius_m"})
            name = self.text(z, "place", w)
            if name not in places:
                raise self.fail(f"{w}.place", f"{name!r} is not a place name in [[places]]")
            zones.append(Zone(name, self.number(z, "radius_m", w, 1, 100_000)))
        exceptions = o.get("exceptions", [])
        if not isinstance(exceptions, list) or not all(isinstance(e, str) for e in exceptions):
            raise self.fail(f"{where}.exceptions", "must be a list of text")
        if "made" not in o:
            raise self.fail(f"{where}.made", "is required")
        made = self.when(o["made"], f"{where}.made", tz, date_ok=False)
        served = self.when(o["served"], f"{where}.served", tz, date_ok=False) if "served" in o else None
        if served is not None and served < made:  # type: ignore[operator]
            raise self.fail(f"{where}.served", "is before the order was made")
        expires = self.when(o["expires"], f"{where}.expires", tz, date_ok=True) if "expires" in o else None
        return Order(self.text(o, "id", where), self.choice(o, "type", where, ORDER_TYPES), subject,
                     tuple(protected), tuple(channels), tuple(zones), tuple(exceptions), made,
                     served, expires)  # type: ignore[arg-type]
