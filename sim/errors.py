"""Errors a user can cause, reported as one line naming the file and the field."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad input: a config file, a field in it, or a command-line value.

    ``str(err)`` is the one-line message the CLI prints: ``FILE: PATH: what is wrong``.
    """

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = path
        self.message = message
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {message}")


class ConservationError(RuntimeError):
    """Material was created or lost inside a replication: a bug in the model, never a warning."""
