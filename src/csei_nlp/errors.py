"""Errors the user can act on. The CLI turns these into one clean message."""
from __future__ import annotations


class CseiError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""


class ConfigError(CseiError):
    """Bad configuration: fail fast, before any input is read."""


class ModelError(CseiError):
    """A model is missing, incompatible, or was trained with another embedder."""


class MissingDependency(CseiError):
    """An optional package a step needs is not installed."""

    def __init__(self, package: str, step: str, extra: str | None = None) -> None:
        hint = f"pip install 'csei-nlp[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{step} needs the package '{package}', which is not installed: {hint}")
