"""Exceptions shared by every uqa package.

The CLI prints :class:`UqaError` messages without a traceback, so each message
must say what was wrong, where (file, column, row, flag) and what was expected.
"""

from __future__ import annotations


class UqaError(Exception):
    """Base class of every error uqa reports to a user."""


class UqaInputError(UqaError):
    """A file, column or value given to uqa is missing or malformed."""


class UnknownNameError(UqaError, KeyError):
    """A name (encoder, adapter, preset, task...) that nothing registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TrainingDivergedError(UqaError):
    """Training produced non-finite losses or gradients and had to stop."""
