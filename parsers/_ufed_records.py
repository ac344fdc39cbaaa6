"""Cellebrite report.xml: non-communication records (Contact, Location, apps, device entries).

Each handler receives a complete top-level ``model`` element and returns
exactly one item. Contacts are kept as attribution hints: the saved name and
every number, address and user id, because what the phone's owner called a
number ("Do not answer") matters.
"""

from __future__ import annotations

import re

from lxml import etree

from atlas.events import EventDraft, Rejection
from atlas.identifiers import email, tel
from parsers._ufed_fields import (
    channel_of,
    first_text,
    ident,
    multi_values,
    parse_number,
    raw_excerpt,
    sub_models,
    text,
    value_el,
)
from parsers._ufed_models import Ctx, common_args, finish

# Keywords in a Location's origin/type fields -> location_method.
LOCATION_METHODS = (
    ("gps", "gps"),
    ("wi-fi", "wifi"),
    ("wifi", "wifi"),
    ("wlan", "wifi"),
    ("cell", "cell"),
    ("fused", "fused"),
    ("manual", "manual"),
)
LOCATION_METHOD_FIELDS = ("LocationOrigin", "Origin", "Type", "Category", "Source")
CONTACT_ENTRY_TYPES = {
    "PhoneNumber": "phone",
    "EmailAddress": "email",
    "EMailAddress": "email",
    "UserID": "user_id",
    "WebAddress": "web",
}


def contact(model: etree._Element, where: str, ctx: Ctx) -> EventDraft | Rejection:
    """Map a Contact as an attribution hint: the saved name and every number, address or id."""
    args = common_args(model, where, ctx, ("TimeCreated", "TimeModified"))
    if isinstance(args, Rejection):
        return args
    source = text(model, "Source")
    channel = channel_of(source, None)
    entries, identifiers = [], []
    for entry in sub_models(model, "Entries"):
        kind = CONTACT_ENTRY_TYPES.get(entry.get("type") or "", entry.get("type"))
        value = text(entry, "Value")
        if value is None:
            continue
        entries.append({"type": kind, "category": text(entry, "Category"), "value": value})
        if kind == "phone":
            got = tel(value, ctx.region)
        elif kind == "email":
            got = email(value)
        elif kind == "user_id":
            got = ident(value, channel or "unknown_app", ctx.region)
        else:
            got = None
        if got is not None and got.value not in identifiers:
            identifiers.append(got.value)
            if not got.parsed and "contact_unparsed_identifier" not in args["flags"]:
                args["flags"].append("contact_unparsed_identifier")
    name = text(model, "Name", strip=False)
    args["extra"].update(
        hint="contact",
        saved_name=name,
        identifiers=identifiers,
        entries=entries,
        source_app=source,
        account=text(model, "Account"),
        group=text(model, "Group"),
        notes=multi_values(model, "Notes"),
    )
    args.update(kind="contact", direction="none", channel=channel)
    return finish(args)


def location(model: etree._Element, where: str, ctx: Ctx) -> EventDraft | Rejection:
    """Map a Location: coordinates, accuracy in metres where numeric, method from origin fields."""
    args = common_args(model, where, ctx, ("TimeStamp", "StartTime"))
    if isinstance(args, Rejection):
        return args
    lat = lon = None
    for pos in sub_models(model, "Position"):
        lat, lon = parse_number(text(pos, "Latitude")), parse_number(text(pos, "Longitude"))
    if (lat is None) != (lon is None):
        return Rejection(where, "Position has only one of Latitude/Longitude", raw_excerpt(model))
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return Rejection(where, f"coordinates out of range: {lat}, {lon}", raw_excerpt(model))
    if lat is None:
        args["flags"].append("no_coordinates")
    elif lat == 0 and lon == 0:
        args["flags"].append("null_island")
    accuracy_raw = first_text(model, "GpsHorizontalAccuracy", "Accuracy", "Precision")
    accuracy = parse_number(accuracy_raw)
    if accuracy is not None and accuracy < 0:
        accuracy = None
    method = "unknown"
    hay = " ".join(filter(None, (text(model, f) for f in LOCATION_METHOD_FIELDS))).lower()
    for needle, mapped in LOCATION_METHODS:
        if re.search(rf"\b{re.escape(needle)}\b", hay):
            method = mapped
            break
    source = text(model, "Source")
    args["extra"].update(
        source_app=source,
        name=text(model, "Name"),
        address=text(model, "PositionAddress"),
        description=text(model, "Description"),
        accuracy_source=accuracy_raw,
        location_type=text(model, "Type"),
        origin=first_text(model, "LocationOrigin", "Origin"),
        confidence=text(model, "Confidence"),
    )
    args.update(
        kind="location_fix",
        latitude=lat,
        longitude=lon,
        accuracy_m=accuracy,
        location_method=method,
        channel=channel_of(source, None),
        direction="none",
    )
    return finish(args)


def installed_app(model: etree._Element, where: str, ctx: Ctx) -> EventDraft | Rejection:
    """Map an InstalledApplication; the time is its install (purchase) date where given."""
    args = common_args(model, where, ctx, ("PurchaseDate", "InstallDate"))
    if isinstance(args, Rejection):
        return args
    deleted_v = value_el(model, "DeletedDate")
    if deleted_v is not None and (deleted_v.text or "").strip():
        reading, raw, _ = ctx.clock.read(deleted_v)
        args["extra"]["app_deleted_source"] = raw
        if reading.utc is not None:
            args["extra"]["app_deleted_utc"] = reading.utc.isoformat()
    args["extra"].update(
        app_name=text(model, "Name"),
        app_identifier=text(model, "Identifier"),
        version=text(model, "Version"),
        permissions=multi_values(model, "Permissions"),
    )
    args.update(
        kind="app_event",
        direction="none",
        status="installed",
        text=text(model, "Name") or text(model, "Identifier"),
    )
    return finish(args)


def device_entry(model: etree._Element, where: str, ctx: Ctx) -> EventDraft | Rejection:
    """Map a DeviceInfoEntry or UserAccount model to device information."""
    args = common_args(model, where, ctx, ())
    if isinstance(args, Rejection):
        return args
    if model.get("type") == "UserAccount":
        source = first_text(model, "ServiceType", "Source")
        channel = channel_of(source, None)
        name = first_text(model, "Username", "Name")
        args["extra"].update(
            hint="device_account",
            section="decodedData",
            name=source,
            value=name,
            service_identifier=text(model, "ServiceIdentifier"),
        )
        got = ident(name, channel, ctx.region) if name and channel else None
        if got is not None:
            args["extra"]["identifier"] = got.value
        args.update(channel=channel)
    else:
        args["extra"].update(
            section="decodedData",
            name=text(model, "EntryName"),
            value=text(model, "EntryValue", strip=False),
        )
    args.update(kind="device_info", direction="none")
    return finish(args)
