"""Golden digests of each parser's committed test inputs.

For every parser, every input file in ``tests/data/parsers/<name>/`` is parsed
with default options (a table input ``X.csv`` takes its mapping from
``X.mapping.toml`` beside it) and the sorted event and rejection tuples are
hashed. ``golden.sha256`` in that folder records the parser version and one
digest per input. If a parser's output changes, its ``version`` must change
too: regenerate with ``python -m tests.golden`` after bumping it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import tomllib
from pathlib import Path

from atlas.errors import AtlasError, NotThisFormat
from atlas.events import EventDraft
from atlas.parsing import ParseOptions, ParserSpec, Source

DATA = Path(__file__).resolve().parent / "data" / "parsers"
SKIP_SUFFIXES = (".mapping.toml", ".md", ".sha256", ".py", ".sql")


def inputs(name: str) -> list[Path]:
    """Return the parser's committed input files, sorted."""
    folder = DATA / name
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(SKIP_SUFFIXES))


def _options(path: Path) -> ParseOptions:
    mapping = path.with_name(path.stem + ".mapping.toml")
    if mapping.exists():
        return ParseOptions(mapping=tomllib.loads(mapping.read_text(encoding="utf-8")), mapping_path=mapping.name)
    return ParseOptions()


def _plain(value):  # noqa: ANN001, ANN202
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def digest(spec: ParserSpec, path: Path) -> str:
    """Return the digest of what ``spec`` yields for ``path`` (an error is part of the output)."""
    items: list[str] = []
    try:
        for item in spec.parse(Source.from_path(str(path), path.name), _options(path)):
            if isinstance(item, EventDraft):
                record = {f.name: _plain(getattr(item, f.name)) for f in dataclasses.fields(item)}
                items.append(json.dumps(["event", record], sort_keys=True, ensure_ascii=False, default=str))
            else:
                items.append(json.dumps(["rejection", item.locator, item.reason], ensure_ascii=False))
    except (AtlasError, NotThisFormat) as exc:
        items.append(json.dumps(["error", type(exc).__name__, str(exc)], ensure_ascii=False))
    return hashlib.sha256("\n".join(sorted(items)).encode("utf-8")).hexdigest()


def render(spec: ParserSpec) -> str:
    """Return the text of ``golden.sha256`` for a parser."""
    lines = [f"version {spec.version}"]
    for path in inputs(spec.name):
        lines.append(f"{digest(spec, path)}  {path.relative_to(DATA / spec.name).as_posix()}")
    return "\n".join(lines) + "\n"


def main(names: list[str]) -> None:
    """Rewrite golden files for the named parsers (all when none are named)."""
    from atlas.registry import parsers

    for spec in parsers():
        if names and spec.name not in names:
            continue
        (DATA / spec.name).mkdir(parents=True, exist_ok=True)
        (DATA / spec.name / "golden.sha256").write_text(render(spec), encoding="utf-8")
        print(f"wrote {spec.name}/golden.sha256")


if __name__ == "__main__":
    main(sys.argv[1:])
