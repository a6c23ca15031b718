"""Errors a user can cause, and the model's own consistency errors.

Every error a user can fix is a `BadInput`: ``str(err)`` is one line that names where the
problem is and what is wrong. The library words them with its own names (a config path,
a keyword argument); only the command line turns them into flags and exit statuses.
"""

from __future__ import annotations

from typing import Any


class BadInput(ValueError):
    """Bad input that the user can fix (the CLI prints it as one line, exit status 2)."""


class ConfigError(BadInput):
    """A config file, a field in it, or a ``path=value`` override is wrong.

    ``str(err)`` is ``SOURCE: PATH: what is wrong`` (SOURCE a file name, or ``--set``).
    `more` holds the other errors found at the same time (a line each in ``str(err)``,
    after this one's). `remedies` are the keyword arguments that would run it anyway
    (``("force",)`` for a config beyond the work limits); the CLI shows them as flags.
    """

    def __init__(self, source: str, path: str, message: str,
                 remedies: tuple[str, ...] = (), more: tuple[ConfigError, ...] = ()) -> None:
        self.source = _one_line(source)
        self.path = _one_line(path)
        self.message = _one_line(message)
        self.remedies = remedies
        self.more = tuple(more)
        where = f"{self.source}: {self.path}" if path else self.source
        hint = ""
        if remedies:
            hint = " (pass " + " or ".join(f"{r}=True" for r in remedies) + " to run it anyway)"
        super().__init__("\n".join([f"{where}: {self.message}{hint}",
                                    *(str(e) for e in self.more)]))

    def __reduce__(self) -> tuple:  # crosses process boundaries (workers) intact
        return (type(self), (self.source, self.path, self.message, self.remedies, self.more))


def _one_line(s: str) -> str:
    return s.replace("\r", "\\r").replace("\n", "\\n")


class ArgumentError(BadInput):
    """A keyword argument of a library call is wrong (`run_batch(replications=0)`).

    `argument` is the keyword's name; the CLI shows it as the matching flag.
    """

    def __init__(self, argument: str, value: Any, message: str) -> None:
        self.argument = argument
        self.value = value
        self.message = message
        shown = "" if value is None else f"={value!r}"
        super().__init__(f"{argument}{shown}: {message}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.argument, self.value, self.message))


class ConflictError(ArgumentError):
    """Two keyword arguments that cannot be given together (`resume` and `overwrite`);
    `other` is the second one's name, which the CLI shows as its flag too."""

    def __init__(self, argument: str, value: Any, other: str) -> None:
        self.other = other
        super().__init__(argument, value, f"cannot be combined with {other}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.argument, self.value, self.other))


class FolderError(BadInput):
    """A results folder cannot be used as asked (it exists, it holds something else, it
    cannot be resumed...).

    `remedies` are the keyword arguments that would get past it (e.g. ``("resume",
    "overwrite")``); the CLI shows them as flags.
    """

    def __init__(self, folder: str, message: str, remedies: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.message = message
        self.remedies = remedies
        hint = ""
        if remedies:
            hint = " (pass " + " or ".join(f"{r}=True" for r in remedies) + ")"
        super().__init__(f"{folder}: {message}{hint}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.folder, self.message, self.remedies))


class ConservationError(RuntimeError):
    """Material was created or lost inside a replication: a bug in the model, never a warning."""
