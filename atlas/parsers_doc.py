"""Render ``docs/parsers.md`` from the registered parsers' docstrings (a test keeps it in step).

Run ``python -m atlas.parsers_doc > docs/parsers.md`` after changing a parser's docstring.
"""

from __future__ import annotations

import importlib
import inspect

from atlas.registry import parsers

INTRO = """# Supported source formats

Generated from each parser's module docstring (`python -m atlas.parsers_doc > docs/parsers.md`;
a test fails when this page is stale). `atlas formats` lists the same names; pass one to
`atlas ingest --format NAME` when detection cannot decide.

| format | family | version | what it reads |
|---|---|---|---|
"""


def render() -> str:
    """Return the Markdown text of the parsers page."""
    specs = parsers()
    out = [INTRO.rstrip("\n")]
    for spec in specs:
        out.append(f"| `{spec.name}` | {spec.family} | {spec.version} | {spec.summary} |")
    for spec in specs:
        module = importlib.import_module(f"parsers.{spec.name}")
        doc = inspect.cleandoc(module.__doc__ or "")
        out += ["", f"## `{spec.name}`", "", "```text", doc, "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
