"""Errors that reach the user.

Every error Atlas shows a person is an ``AtlasError`` with a message written
for that person and an exit code. The CLI prints the message and exits; it
never prints a traceback for these::

    AtlasError                 .exit_code, .message
    ├── UsageError (2)         bad command-line arguments, unknown --format
    ├── CaseConfigError (2)    case.toml: names the key and what is wrong
    ├── UnknownFormatError (2) no sniff matched, or several did
    ├── SourceError (1)        file-level: file + locator + reason; ingest rolls back
    ├── ParamError (2)         analysis parameter: name, value, rule
    └── VerifyMismatch (1)     verify: names the step and the file

``NotThisFormat`` is internal to format detection and never reaches the user.
"""

from __future__ import annotations


class AtlasError(Exception):
    """Base class: an error with a message meant for the person at the keyboard."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(AtlasError):
    """The command was called wrongly."""

    exit_code = 2


class CaseConfigError(AtlasError):
    """``case.toml`` is missing, unreadable or invalid."""

    exit_code = 2

    def __init__(self, key: str, problem: str, path: str = "case.toml") -> None:
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")
        self.key = key
        self.problem = problem


class UnknownFormatError(AtlasError):
    """No parser, or more than one, recognised the file."""

    exit_code = 2


class SourceError(AtlasError):
    """A source file cannot be read as a whole; nothing from it is stored."""

    exit_code = 1

    def __init__(self, source: str, locator: str | None, reason: str) -> None:
        where = f" at {locator}" if locator else ""
        super().__init__(f"{source}{where}: {reason}")
        self.source = source
        self.locator = locator
        self.reason = reason


class ParamError(AtlasError):
    """An analysis parameter has a value outside its rule."""

    exit_code = 2

    def __init__(self, name: str, value: object, rule: str) -> None:
        super().__init__(f"parameter {name}={value!r}: {rule}")
        self.name = name
        self.value = value
        self.rule = rule


class VerifyMismatch(AtlasError):
    """A re-run or re-hash did not match what the log and manifest record."""

    exit_code = 1


class NotThisFormat(Exception):  # noqa: N818 - a signal, not an error for the user
    """Raised by a parser, before its first yield, when the file is not its format."""
