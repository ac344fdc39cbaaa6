"""The analysis runner: parameters, result documents, tables, determinism and the log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd
import pytest

from atlas.analysis import AnalysisResult, AnalysisSpec, Finding, parse_params, run_analyses, split_overrides
from atlas.case import load_case, write_new_case
from atlas.errors import ParamError, UsageError
from atlas.ingest import ingest_file
from atlas.log import read as read_log


@dataclass(frozen=True, kw_only=True)
class Params:
    """Test parameters."""

    min_count: int = 1
    """Smallest count reported."""
    kinds: tuple[str, ...] = ()
    """Kinds to count (all when empty)."""

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise ParamError("min_count", self.min_count, "must be 1 or more")


def _run(events: pd.DataFrame, case, params: Params) -> AnalysisResult:  # noqa: ANN001
    chosen = events if not params.kinds else events[events["kind"].isin(params.kinds)]
    counts = chosen.groupby("kind", sort=True).size()
    table = pd.DataFrame({"kind": counts.index, "events": counts.values})
    findings = tuple(
        Finding("kind_count.kind", {"kind": k, "count": int(n),
                                    "first": chosen.loc[chosen["kind"] == k, "timestamp_utc"].min()},
                tuple(chosen.loc[chosen["kind"] == k, "event_id"]))
        for k, n in counts.items() if n >= params.min_count)
    return AnalysisResult(SPEC, params, {"kinds": table}, findings, ("kind_count.scope",), {"events": len(chosen)})


SPEC = AnalysisSpec(name="kind_count", version="1.0", summary="Events per kind (runner test)",
                    requires=("timestamp_utc", "kind"), params=Params, run=_run)


@pytest.fixture
def case(tmp_path):
    write_new_case(tmp_path / "c", "01AB2345678", "Dana Irving")
    case = load_case(tmp_path / "c")
    chat = case.root / "exhibits" / "chat.txt"
    chat.write_text("12/05/2024, 09:16 - Sam: =1+1\n12/05/2024, 09:17 - Vic: Hi\n12/05/2024, 09:18 - x\n",
                    encoding="utf-8")
    ingest_file(case, chat, "DI/1", fmt="whatsapp_txt")
    return case


def _hashes(case) -> dict[str, str]:
    return {p.relative_to(case.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((case.root / "results").rglob("*")) if p.is_file()}


def test_run_writes_documents_tables_and_log(case):
    (doc,) = run_analyses(case, specs=(SPEC,), param_pairs=("min_count=1",))
    on_disk = json.loads((case.root / "results" / "kind_count.json").read_text())
    assert on_disk == doc
    assert doc["params"] == {"min_count": 1, "kinds": []}
    assert [f["values"]["kind"] for f in doc["findings"]] == ["chat_message", "system"]
    assert doc["findings"][0]["values"]["first"] == "2024-05-12T08:16:00+00:00"
    assert len(doc["findings"][0]["event_ids"]) == 2
    assert doc["tables"]["kinds"]["rows"] == 2
    csv_text = (case.root / "results" / "kind_count" / "kinds.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == "kind,events"
    entry = read_log(case.root)[-1]
    assert entry["command"] == "analyse"
    assert entry["args"]["params"] == {"kind_count": {"min_count": 1, "kinds": []}}
    assert {o["path"] for o in entry["outputs"]} == {"results/kind_count.json", "results/kind_count/kinds.csv"}


def test_two_runs_are_byte_identical(case):
    run_analyses(case, specs=(SPEC,))
    first = _hashes(case)
    run_analyses(case, specs=(SPEC,))
    assert _hashes(case) == first


@pytest.mark.parametrize(
    "pairs, error, message",
    [(("min_count=0",), ParamError, "must be 1 or more"),
     (("min_count=two",), ParamError, "kind_count.min_count"),
     (("colour=red",), ParamError, "unknown parameter"),
     (("min_count",), UsageError, "ANALYSIS.FIELD=VALUE"),
     (("other.min_count=1",), UsageError, "not among the analyses run")],
    ids=["rule", "type", "unknown", "no-equals", "other-analysis"],
)
def test_parameter_errors_name_the_parameter(case, pairs, error, message):
    with pytest.raises(error, match=message):
        run_analyses(case, specs=(SPEC,), param_pairs=pairs)


def test_tuple_parameters_and_prefixes():
    assert parse_params(SPEC, {"kinds": "sms, call"}).kinds == ("sms", "call")
    assert split_overrides(("kind_count.min_count=3",), ["kind_count", "x"]) == {"kind_count": {"min_count": "3"}, "x": {}}
