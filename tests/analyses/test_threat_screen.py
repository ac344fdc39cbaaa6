"""threat_screen: lexicon tags for officer review, negation, word boundaries, planted threats."""

from __future__ import annotations

import csv
import hashlib
import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analyses import threat_screen as ts
from atlas.analysis import TEMPLATES, run_analyses, write_table_csv
from atlas.case import Analyst, Attribution, Case, Person
from atlas.errors import ParamError
from atlas.store import load_events
from fixtures import _texts as T
from tests.analyses.helpers import event_ids_at, events, synthetic_case

S_TEL, V_TEL, N_TEL = "tel:+447700900001", "tel:+447700900002", "tel:+447700900004"
FORBIDDEN = ("stalking", "course of conduct", "breach", "harassment", "was at", "proves", "visited")
CASE = Case(
    root=Path("."),
    urn="01AB2345678",
    analyst=Analyst("A", "B", "", "AB"),
    persons=(
        Person("S", "Dan Marsh", "suspect", (Attribution(S_TEL, "test"),)),
        Person("V", "Sarah Collins", "victim", (Attribution(V_TEL, "test"),)),
    ),
)


def _screen(texts: list[str], sender: str | None = S_TEL, **kw) -> object:
    rows = [
        {
            "timestamp_utc": f"2024-10-{n + 1:02d} 20:00",
            "kind": "sms",
            "channel": "sms",
            "sender": sender,
            "recipients": [V_TEL],
            "text": t,
        }
        for n, t in enumerate(texts)
    ]
    return ts.run(events(rows), CASE, ts.Params(**kw))


def _tags(text: str) -> list[str]:
    return _screen([text]).tables["tagged"]["category"].tolist()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I'll hurt you", "violence"),
        ("I'll kill myself if you leave", "self_harm"),
        ("I know where you live", "surveillance"),
        ("I saw you in town today", "movements"),
        ("send me nudes", "sexual"),
        ("Answer or else", "coercion"),
        ("I'll post your pics online", "image_sharing"),
        ("The court order means nothing", "order_police"),
    ],
    ids=[
        "violence",
        "self_harm",
        "surveillance",
        "movements",
        "sexual",
        "coercion",
        "image_sharing",
        "order_police",
    ],
)
def test_each_category_is_tagged(text, category):
    assert category in _tags(text)


@pytest.mark.parametrize(
    ("text", "tagged"),
    [
        ("That took real skill", []),  # "kill" inside "skill"
        ("Meet me in the courtyard", []),  # "court" inside "courtyard"
        ("I'll KILL YOU", ["violence"]),  # any case
        ("I KNOW WHERE YOU ARE", ["surveillance"]),
        ("You\u2019ll regret it", ["violence"]),  # curly apostrophe
        (
            "\uff30\uff2f\uff2c\uff29\uff23\uff25 came round",
            ["order_police"],
        ),  # full-width letters (NFKC)
        ("\U0001f52a I know where you are \U0001f608", ["surveillance"]),  # emoji around the phrase
        ("\U0001f608\U0001f608\U0001f52a", []),  # emoji alone are not read
        ("I can see you're online", []),  # "see you" followed by 're is not watching
    ],
    ids=[
        "skill",
        "courtyard",
        "upper",
        "upper2",
        "curly",
        "fullwidth",
        "emoji",
        "emoji_only",
        "see_youre",
    ],
)
def test_word_boundaries_case_and_unicode(text, tagged):
    assert _tags(text) == tagged


def test_negation_sets_a_match_aside_within_its_clause_only():
    result = _screen(
        [
            "I would never hurt you",
            "I'm not going to hurt you",
            "Court order or not, you'll regret it",
            "Don't make me come round",
            "I'm not scared of the police",
        ]
    )
    tagged = result.tables["tagged"]
    got = list(zip(tagged["text"], tagged["category"], strict=True))
    assert got == [
        ("Court order or not, you'll regret it", "violence"),
        ("Court order or not, you'll regret it", "order_police"),
        ("Don't make me come round", "violence"),
        ("I'm not scared of the police", "order_police"),
    ]  # references are never negated
    negated = result.tables["negated"]
    assert negated["text"].tolist() == ["I would never hurt you", "I'm not going to hurt you"]
    assert result.counts["negated_set_aside"] == 2


def test_tags_are_grouped_per_sender_and_counted_per_month_and_day():
    rows = [
        {
            "timestamp_utc": "2024-09-30 22:30",
            "sender": S_TEL,
            "text": "You'll regret it",
        },  # 23:30 BST 30 Sep
        {
            "timestamp_utc": "2024-09-30 23:30",
            "sender": S_TEL,
            "text": "I'll hurt you",
        },  # 00:30 BST 1 Oct
        {"timestamp_utc": "2024-10-01 08:00", "sender": S_TEL, "text": "I'll hurt you"},
        {"timestamp_utc": "2024-10-02 08:00", "sender": N_TEL, "text": "I'll hurt you"},
        {"timestamp_utc": "2024-10-03 08:00", "sender": None, "text": "I'll hurt you"},
        {"timestamp_utc": "2024-10-04 08:00", "sender": V_TEL, "text": "I'm going to the police"},
    ]
    frame = events([{"kind": "sms", "channel": "sms", "recipients": [V_TEL], **r} for r in rows])
    result = ts.run(frame, CASE, ts.Params())
    by_month = result.tables["by_month"]
    p1 = by_month.loc[(by_month["sender_group"] == "S") & (by_month["category"] == "violence")]
    assert p1[["month_local", "messages", "days"]].values.tolist() == [
        ["2024-09", 1, 1],
        ["2024-10", 2, 1],
    ]
    keyed = [
        (f.key, f.values.get("person") or f.values.get("identifier"), f.values.get("category"))
        for f in result.findings
    ]
    assert keyed == [
        ("threat_screen.screened", None, None),
        ("threat_screen.tagged_person", "S", "violence"),
        ("threat_screen.tagged_person", "V", "order_police"),
        ("threat_screen.tagged_identifier", N_TEL, "violence"),
        ("threat_screen.tagged_sender_not_given", None, "violence"),
    ]
    s = result.findings[1]
    assert s.values["messages"] == 3 and s.values["days"] == 2  # UK local dates: 30 Sep and 1 Oct
    assert s.event_ids == tuple(frame["event_id"].iloc[:3])


def test_hostile_text_kept_verbatim_but_the_csv_cell_is_inert(tmp_path):
    text = '=HYPERLINK("http://example.invalid","I know where you are")\u202e'
    result = _screen([text])
    tagged = result.tables["tagged"]
    assert tagged["text"].iloc[0] == text and "\\u202e" in tagged["excerpt"].iloc[0]
    write_table_csv(tagged, tmp_path / "tagged.csv")
    with open(tmp_path / "tagged.csv", encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["text"].startswith("'=") and row["category"] == "surveillance"


def test_a_forces_own_lexicon_replaces_the_default(tmp_path):
    path = tmp_path / "force.toml"
    path.write_text(
        'version = "force-2"\n[negation]\ncues = ["not"]\n[[categories]]\nid = "pets"\n'
        "label = \"mention of the dog\"\nnegatable = true\npatterns = ['''the\\s+dog''']\n",
        encoding="utf-8",
    )
    result = _screen(["I'll hurt you", "Where is the dog?", "Not the dog"], lexicon_path=str(path))
    assert result.tables["tagged"]["text"].tolist() == ["Where is the dog?"]
    assert result.params.lexicon_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.findings[0].values["lexicon_version"] == "force-2"


@pytest.mark.parametrize(
    "body",
    [
        "[[categories]]\nid = \"x\"\nlabel = \"x\"\npatterns = ['''(unclosed''']\n",
        "[[categories]]\nid = \"x\"\nlabel = \"x\"\npatterns = ['''(?P<hit>a)''']\n",
        "[[categories]]\nid = \"x\"\nlabel = \"x\"\npatterns = ['''a?''']\n",
        'version = "1"\n',
    ],
    ids=["bad_regex", "named_group", "matches_empty", "no_categories"],
)
def test_a_bad_lexicon_is_refused_with_a_parameter_error(tmp_path, body):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ParamError):
        ts.Params(lexicon_path=str(path))
    with pytest.raises(ParamError):
        ts.Params(lexicon_path=str(tmp_path / "missing.toml"))


def test_params_are_checked_and_notes_are_not_screened_by_default():
    for kw in ({"kinds": ("letter",)}, {"kinds": ()}, {"context_chars": 5}):
        with pytest.raises(ParamError):
            ts.Params(**kw)
    note = events(
        [{"timestamp_utc": "2024-10-01 10:00", "kind": "note", "text": "He said I'll hurt you"}]
    )
    assert ts.run(note, CASE, ts.Params()).tables["tagged"].empty
    assert len(ts.run(note, CASE, ts.Params(kinds=("note",))).tables["tagged"]) == 1


def test_every_key_has_wording_without_legal_labels():
    words = tomllib.loads((TEMPLATES / "threat_screen.toml").read_text(encoding="utf-8"))
    keys = {
        "threat_screen.screened",
        "threat_screen.tagged_person",
        "threat_screen.tagged_identifier",
        "threat_screen.tagged_sender_not_given",
        "threat_screen.no_tags",
    }
    assert keys == set(words["findings"]) and set(ts.LIMITATIONS) == set(words["limitations"])
    assert not [w for w in FORBIDDEN if w in json.dumps(words).lower()]
    assert all(
        "not a finding of threat" in words["findings"][k] for k in keys - {"threat_screen.no_tags"}
    )


# ---------------------------------------------------------------- the synthetic case

ORDINARY = {text for pool in (T.NORMAL_EXCHANGES,) for _who, text in (m for ex in pool for m in ex)}
ORDINARY |= {text for _who, text, _m in T.BREAKUP}
ORDINARY |= set(
    T.PLEADING_SUSPECT
    + T.PLEADING_VICTIM
    + T.SMS_ORIGINAL
    + T.SMS_VICTIM_TO_SUSPECT
    + T.SMS_FRIEND_IN_BEFORE
    + T.SMS_FRIEND_OUT_BEFORE
    + T.SMS_FRIEND_IN
    + T.SMS_FRIEND_OUT
)
ORDINARY -= {T.MEDIA}
MAX_FALSE_POSITIVE_RATE = 0.01
"""Documented bound on ordinary messages (seed 7: 0 of the ordinary records are tagged)."""


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("threat_screen") / "case"
    return synthetic_case(root)


def test_synthetic_planted_threats_all_tagged_and_few_false_positives(synthetic):
    case, truth = synthetic
    (doc,) = run_analyses(case, specs=(ts.ANALYSIS,))
    stored = load_events(case.root)
    tagged = pd.read_csv(
        case.root / "results" / "threat_screen" / "tagged.csv", encoding="utf-8-sig"
    )
    threats = event_ids_at(stored, truth["threats"])
    assert set(threats) <= set(tagged["event_id"])

    # Violence and surveillance tags fall only on the planted threats (seed 7: precision 1.0).
    strong = tagged.loc[tagged["category"].isin(["violence", "surveillance"]), "text"]
    assert set(strong) <= set(T.ALL_THREATS)

    ordinary = stored.loc[stored["text"].isin(ORDINARY)]
    flagged = ordinary["event_id"].isin(tagged["event_id"])
    assert len(ordinary) > 300 and flagged.mean() <= MAX_FALSE_POSITIVE_RATE

    violence = [
        f
        for f in doc["findings"]
        if f["key"] == "threat_screen.tagged_person"
        and f["values"]["person"] == "P1"
        and f["values"]["category"] == "violence"
    ][0]
    assert violence["values"]["days"] >= 2 and "not a finding of threat" in violence["text"]
    wa_threats = [
        e for e, t in zip(threats, truth["threats"], strict=True) if t["file"].endswith(".txt")
    ]
    violence_wa = set(tagged.loc[tagged["category"] == "violence", "event_id"]) & set(wa_threats)
    assert violence_wa <= set(violence["event_ids"])
    for f in doc["findings"]:
        assert f["text"] and not [w for w in FORBIDDEN if w in f["text"].lower()]


def test_synthetic_results_byte_identical(synthetic):
    case, _truth = synthetic
    digests = []
    for _ in range(2):
        run_analyses(case, specs=(ts.ANALYSIS,))
        folder = case.root / "results"
        digests.append(
            {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*"))
                if p.is_file() and "threat_screen" in str(p)
            }
        )
    assert digests[0] == digests[1] and "tags_per_month.png" in digests[0]
