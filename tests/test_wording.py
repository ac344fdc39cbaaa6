"""The conclusion check: every rule refuses what it should and lets factual wording through."""

from __future__ import annotations

import pytest

from atlas._report_model import Block
from atlas.errors import AtlasError
from atlas.wording import WordingError, check_blocks, check_text, enforce, load_rules, sentences

RULES = load_rules()

REFUSED = [
    ("proves", "These records prove that the phone belongs to him."),
    ("proves", "This is proof of contact."),
    ("breach", "The message was sent in breach of the order."),
    ("breach", "The suspect breached the restraining order."),
    ("stalking", "The records show stalking behaviour."),
    ("stalking", "He stalked the complainant for months."),
    ("harassed", "She was harassed by messages."),
    ("course_of_conduct", "The contacts form a course of conduct."),
    ("guilty", "The records point to a guilty mind."),
    ("was_at", "The suspect was at the complainant's home."),
    ("was_at", "His phone was present at the address."),
    ("was_at", "The devices were near each other."),
    ("person_location", "He followed her to work."),
    ("consistent_with", "The location records are consistent with a visit."),
    ("certainty", "The pattern is clearly deliberate."),
    ("probability", "He probably sent the message."),
    ("probability", "The timing suggests that the number is his."),
    ("confirms", "The download confirms that he sent it."),
]

ALLOWED = [
    "The records show 12 contact records sent from identifiers attributed to P1.",
    "Location records place the device attributed to P1 within 150 m of the centre of Victim home.",
    "The location records are consistent with a visit, and equally consistent with the device passing by.",
    "The location records are also consistent with the device being elsewhere in the cell.",
    "An ADVISORY calculation for offences under the Protection from Harassment Act 1997.",
    "Whether any record falls within an exception is for the officer and the court.",
    "Identifiers are never merged into a person, even where other material suggests who used them.",
    "The order was served at 16:48 GMT; 155 records were recorded after service.",
    "Atlas never decides whether occasions amount to a course of conduct.",
    "Whether any record amounts to a breach of the order is for the officer, the CPS and the court.",
]


@pytest.mark.parametrize(("rule", "sentence"), REFUSED, ids=[f"{r}-{i}" for i, (r, _) in enumerate(REFUSED)])
def test_each_rule_refuses_its_conclusion(rule, sentence):
    found = check_text(sentence, RULES, "test")
    assert [v.rule for v in found] == [rule], [v.describe() for v in found]
    assert found[0].sentence == sentence and found[0].word.lower() in sentence.lower()


@pytest.mark.parametrize("sentence", ALLOWED)
def test_factual_wording_passes(sentence):
    assert check_text(sentence, RULES) == []


def test_every_rule_in_the_file_is_exercised():
    assert {r.id for r in RULES} == {rule for rule, _ in REFUSED}


def test_only_the_offending_sentence_is_named():
    text = "The records show 3 calls. The suspect was at the flat. The first was at 09:00 GMT (09:00 UTC)."
    found = check_text(text, RULES)
    # "The first was at 09:00" is a time, but the rule is deliberately strict: rephrase it.
    assert [v.sentence for v in found] == ["The suspect was at the flat.", "The first was at 09:00 GMT (09:00 UTC)."]
    assert sentences(text)[0] == "The records show 3 calls."


def test_quoted_text_from_case_toml_is_not_the_analysts_words():
    block = Block("paragraph", 'I was asked, in these words: "Examine the stalking allegation." I did so.',
                  quoted=("Examine the stalking allegation.",))
    assert check_blocks([block], RULES) == []
    # The analyst's own words around the quotation are still checked.
    block = Block("paragraph", 'I was asked: "Examine the stalking allegation." He stalked her.',
                  quoted=("Examine the stalking allegation.",))
    assert [v.sentence for v in check_blocks([block], RULES)] == ["He stalked her."]


def test_table_cells_and_headings_are_checked():
    blocks = [Block("heading", "Proof of presence"),
              Block("table", header=("Exhibit", "Note"), rows=(("DI/1", "breach of order"),))]
    assert sorted(v.rule for v in check_blocks(blocks, RULES)) == ["breach", "proves"]


def test_enforce_raises_naming_the_sentence_and_the_word():
    with pytest.raises(WordingError) as err:
        enforce([Block("paragraph", "The records show 2 calls. The data proves contact.", source="finding x.y")],
                 RULES)
    assert err.value.exit_code == 1
    assert '"proves"' in err.value.message and "The data proves contact." in err.value.message
    assert "finding x.y" in err.value.message


def test_a_force_can_extend_the_rules(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nid = "victim"\npattern = \'\\bvictim\\b\'\nreason = "house style: complainant"\n',
                    encoding="utf-8")
    rules = load_rules(path)
    assert [v.rule for v in check_text("The victim's phone.", rules)] == ["victim"]
    path.write_text('[[rules]]\nid = "bad"\npattern = "("\nreason = "x"\n', encoding="utf-8")
    with pytest.raises(AtlasError, match="rules\\[0\\]"):
        load_rules(path)
