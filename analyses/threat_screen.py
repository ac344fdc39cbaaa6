"""Threat screen: messages whose text matches a documented lexicon, tagged for officer review.

Method:
    The text of every communication record of the kinds in ``kinds`` (calls, SMS, MMS,
    chat messages, e-mails, social interactions and posts; any sender, any direction) is
    matched against the lexicon in ``analyses/threat_lexicon.toml`` or the file given in
    ``lexicon_path``. The lexicon has categories (threat of violence, self-harm threat,
    surveillance statement, reference to the complainant's movements or places, sexual
    content, demand or coercion, threat to share images, reference to the order, court or
    police), each a list of regular expressions matched case-insensitively, inside word
    boundaries, on NFKC-normalised text; the file documents the rules. Simple negation: in
    a negatable category a match preceded, within ``window_words`` words of the same clause,
    by a negation cue is set aside in the ``negated`` table and not counted. A message is
    tagged once per category it matches, with every matched phrase. One ``extractall`` per
    pattern does the matching; no loop runs over messages.

    Tags are counted per sender (the person case.toml attributes the sender to; otherwise
    the sender's identifier; otherwise "not given" on that exhibit), per category, per UK
    local month and per UK local day. The ``tagged`` table lists each tagged message with
    its UK local time, exhibit, locator, sender, category, phrases, an escaped excerpt and
    the verbatim text (the CSV writer makes formula-like cells inert).

    Measured on the synthetic case (seed 7, exhibits DI/1 and DI/2): all 11 planted threats
    are tagged; 0 of the 391 ordinary records (everyday, pleading and friends' messages)
    are tagged; of the other 1,145 records that are not planted threats, 34 are tagged (26
    references to the order or police, 7 demands, 2 references to places), none as a
    threat of violence or a surveillance statement (``tests/analyses/test_threat_screen.py``).
Limitations:
    Wording lives in report_templates/analyses/threat_screen.toml under the keys in
    ``LIMITATIONS``. In short: a tag is a prompt to read the message, not a finding of
    threat; a lexicon misses threats worded otherwise and tags innocent uses; negation
    handling is simple; the same message held on two exhibits is tagged twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analyses import _threat_screen_lexicon as tl
from analyses._threat_screen_findings import findings_for
from analyses._threat_screen_render import render
from atlas.analysis import AnalysisResult, AnalysisSpec
from atlas.attribution import attribute
from atlas.case import Case
from atlas.errors import ParamError
from atlas.events import KINDS
from atlas.timeline import terminal_safe
from atlas.timeparse import display

REQUIRES = (
    "event_id",
    "timestamp_utc",
    "kind",
    "channel",
    "direction",
    "sender",
    "recipients",
    "exhibit_ref",
    "source_sha256",
    "seq",
    "locator",
    "text",
)
LIMITATIONS = (
    "threat_screen.tags_for_review",
    "threat_screen.lexicon_limits",
    "threat_screen.negation_simple",
    "threat_screen.device_not_person",
    "threat_screen.store_only",
    "threat_screen.duplicates_across_exhibits",
    "threat_screen.uk_local_time",
)
DEFAULT_KINDS = ("call", "sms", "mms", "chat_message", "email", "social_interaction", "social_post")
ORDER = ["timestamp_utc", "exhibit_ref", "source_sha256", "seq"]
TAGGED_COLUMNS = (
    "time_local",
    "timestamp_utc",
    "exhibit_ref",
    "locator",
    "event_id",
    "kind",
    "channel",
    "sender",
    "sender_person",
    "sender_group",
    "category",
    "category_label",
    "phrases",
    "excerpt",
    "text",
)
MONTH_COLUMNS = ("month_local", "category", "sender_group", "messages", "days")
SENDER_COLUMNS = (
    "sender_group",
    "sender_person",
    "category",
    "category_label",
    "messages",
    "days",
    "first_utc",
    "last_utc",
    "exhibits",
)


@dataclass(frozen=True, kw_only=True)
class Params:
    """Choices for this analysis; every value, and the lexicon used, goes into the analysis log."""

    lexicon_path: str = ""
    """A force's own lexicon file (TOML, same layout as analyses/threat_lexicon.toml); empty
    means the lexicon shipped with Atlas."""
    kinds: tuple[str, ...] = DEFAULT_KINDS
    """Event kinds whose text is screened."""
    context_chars: int = 60
    """Characters of context kept either side of a match in the excerpt."""
    lexicon_sha256: str = field(init=False, default="")
    """SHA-256 of the lexicon file read (set when the parameters are checked)."""
    lexicon: tl.Lexicon | None = field(init=False, default=None)
    """The lexicon read, every category and pattern (set when the parameters are checked)."""

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds:
            raise ParamError("kinds", self.kinds, f"must be event kinds from: {', '.join(KINDS)}")
        if not 10 <= self.context_chars <= 500:
            raise ParamError("context_chars", self.context_chars, "must be 10 to 500")
        path = Path(self.lexicon_path) if self.lexicon_path else tl.DEFAULT_LEXICON
        if not path.is_file():
            raise ParamError(
                "lexicon_path", self.lexicon_path, "must name an existing lexicon file"
            )
        try:
            lexicon, digest = tl.load(path)
        except ValueError as exc:
            raise ParamError("lexicon_path", self.lexicon_path, str(exc)) from None
        # Frozen: the lexicon read is stored once, so run() does no I/O and the log records it.
        object.__setattr__(self, "lexicon", lexicon)
        object.__setattr__(self, "lexicon_sha256", digest)


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Tag messages matching the lexicon; ``events`` is not modified."""
    tz = case.display_timezone
    lex = params.lexicon
    msgs = events.loc[
        events["kind"].isin(params.kinds) & events["text"].notna() & (events["text"] != "")
    ]
    msgs = msgs.sort_values(ORDER, kind="stable", na_position="last").reset_index(drop=True)
    att = attribute(msgs, case)
    msgs = msgs.assign(sender_person=att["sender_person"].to_numpy())
    msgs["sender_group"] = msgs["sender_person"].where(
        msgs["sender_person"].notna(),
        msgs["sender"].where(msgs["sender"].notna(), "not given (" + msgs["exhibit_ref"] + ")"),
    )
    found = tl.matches(msgs["text"], lex, params.context_chars)
    labels = {c.id: c.label for c in lex.categories}
    order = {c.id: n for n, c in enumerate(lex.categories)}
    kept, negated = _split(found)
    tagged = _tagged(msgs, kept, labels, order, tz, params.context_chars)
    negated_table = _tagged(msgs, negated, labels, order, tz, params.context_chars)
    tables = {
        "tagged": tagged,
        "negated": negated_table,
        "by_month": _by_month(tagged, order, tz),
        "by_sender": _by_sender(tagged, order, tz),
    }
    names = {p.id: p.name for p in case.persons}
    roles = {p.id: p.role for p in case.persons}
    findings = findings_for(tables, names, roles, len(msgs), params)
    counts = {
        "messages_screened": len(msgs),
        "matches": len(found),
        "tags": len(tagged),
        "messages_tagged": int(tagged["event_id"].nunique()),
        "negated_set_aside": len(negated_table),
        "categories": len(lex.categories),
    }
    return AnalysisResult(
        analysis=ANALYSIS,
        params=params,
        tables=tables,
        findings=findings,
        limitations=LIMITATIONS,
        counts=counts,
    )


def _split(found: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (message, category) pairs with a counted match, and those with only negated ones."""
    if found.empty:
        empty = pd.DataFrame(columns=["row", "category", "phrases", "before", "phrase", "after"])
        return empty, empty
    counted = found.loc[~found["negated"]]
    key = ["row", "category"]
    has_counted = (
        found.merge(counted[key].drop_duplicates(), on=key, how="left", indicator=True)["_merge"]
        == "both"
    )
    only_negated = found.loc[~has_counted.to_numpy()]
    return _per_pair(counted), _per_pair(only_negated)


def _per_pair(frame: pd.DataFrame) -> pd.DataFrame:
    """Collapse matches to one row per (message, category): all phrases, the first one's context."""
    if frame.empty:
        return pd.DataFrame(columns=["row", "category", "phrases", "before", "phrase", "after"])
    g = frame.groupby(["row", "category"], sort=False)
    out = g.agg(
        before=("before", "first"),
        phrase=("phrase", "first"),
        after=("after", "first"),
        phrases=("phrase", lambda s: list(dict.fromkeys(s))),
    )
    return out.reset_index()


def _tagged(
    msgs: pd.DataFrame, pairs: pd.DataFrame, labels: dict, order: dict, tz: str, context: int
) -> pd.DataFrame:
    if pairs.empty:
        return pd.DataFrame(columns=list(TAGGED_COLUMNS))
    rows = msgs.iloc[pairs["row"].to_numpy()].reset_index(drop=True)
    before = pairs["before"].str.lstrip()
    excerpt = (
        ("…" + before.str[-context:]).where(before.str.len() > context, before)
        + pairs["phrase"]
        + pairs["after"]
    )
    out = pd.DataFrame(
        {
            "time_local": rows["timestamp_utc"].map(
                lambda t: display(t.to_pydatetime(), tz) if pd.notna(t) else ""
            ),
            "timestamp_utc": rows["timestamp_utc"],
            "exhibit_ref": rows["exhibit_ref"],
            "locator": rows["locator"],
            "event_id": rows["event_id"],
            "kind": rows["kind"],
            "channel": rows["channel"],
            "sender": rows["sender"],
            "sender_person": rows["sender_person"],
            "sender_group": rows["sender_group"],
            "category": pairs["category"].to_numpy(),
            "category_label": pairs["category"].map(labels).to_numpy(),
            "phrases": pairs["phrases"].to_numpy(),
            "excerpt": excerpt.map(lambda t: terminal_safe(t, 200)).to_numpy(),
            "text": rows["text"],
        }
    )
    out["_row"], out["_cat"] = pairs["row"].to_numpy(), pairs["category"].map(order).to_numpy()
    out = out.sort_values(["_row", "_cat"], kind="stable")
    return out[list(TAGGED_COLUMNS)].reset_index(drop=True)


def _by_month(tagged: pd.DataFrame, order: dict, tz: str) -> pd.DataFrame:
    if tagged.empty:
        return pd.DataFrame(columns=list(MONTH_COLUMNS))
    local = tagged["timestamp_utc"].dt.tz_convert(tz)
    t = tagged.assign(month_local=local.dt.strftime("%Y-%m"), day=local.dt.strftime("%Y-%m-%d"))
    out = (
        t.groupby(["month_local", "category", "sender_group"], sort=True)
        .agg(messages=("event_id", "size"), days=("day", "nunique"))
        .reset_index()
    )
    out["_cat"] = out["category"].map(order)
    out = out.sort_values(["month_local", "_cat", "sender_group"], kind="stable")
    return out[list(MONTH_COLUMNS)].reset_index(drop=True)


def _by_sender(tagged: pd.DataFrame, order: dict, tz: str) -> pd.DataFrame:
    if tagged.empty:
        return pd.DataFrame(columns=list(SENDER_COLUMNS))
    day = tagged["timestamp_utc"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d")
    g = tagged.assign(day=day, person=tagged["sender_person"].fillna("")).groupby(
        ["sender_group", "category"], sort=True
    )
    out = g.agg(
        sender_person=("person", "first"),
        category_label=("category_label", "first"),
        messages=("event_id", "size"),
        days=("day", "nunique"),
        first_utc=("timestamp_utc", "min"),
        last_utc=("timestamp_utc", "max"),
        exhibits=("exhibit_ref", lambda s: sorted(s.unique().tolist())),
    ).reset_index()
    out["_cat"] = out["category"].map(order)
    out = out.sort_values(["sender_group", "_cat"], kind="stable")
    return out[list(SENDER_COLUMNS)].reset_index(drop=True)


ANALYSIS = AnalysisSpec(
    name="threat_screen",
    version="1.0",
    summary="Messages matching a documented threat lexicon, tagged for officer review, counted per "
    "sender, category, month and day",
    requires=REQUIRES,
    params=Params,
    run=run,
    render=render,
    statement_role="leads",
)
