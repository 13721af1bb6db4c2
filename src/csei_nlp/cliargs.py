"""Options that several ``csei`` subcommands share, defined once.

A leaf module: the main parser (``cli``) and the subcommand modules
(``discover.cli``, ``web.cli``) import it, and it imports none of them, so a
subcommand module never has to import the main parser.
"""
from __future__ import annotations

import argparse

#: What ``csei_nlp.cli`` passes to each subcommand module's ``register``.
SubParsers = argparse._SubParsersAction


def add_config(p: argparse.ArgumentParser, help: str = "TOML config file") -> None:
    """``--config FILE``: a TOML file overriding the shipped defaults."""
    p.add_argument("--config", metavar="FILE", help=help)


def add_db(p: argparse.ArgumentParser, help: str = "the `csei scan` output folder the app serves") -> None:
    """``--db OUTDIR`` (required): the scan output folder a web command works on."""
    p.add_argument("--db", required=True, metavar="OUTDIR", help=help)


def add_job(p: argparse.ArgumentParser, repeat: bool = False) -> None:
    """``--job FILE`` (required): a discovery job file; ``repeat`` lets it be given several times."""
    if repeat:
        p.add_argument("--job", required=True, action="append", metavar="FILE", help="job file (repeatable)")
    else:
        p.add_argument("--job", required=True, metavar="FILE", help="job file (TOML)")


def add_verbose(p: argparse.ArgumentParser, help: str) -> None:
    """``--verbose``: say more on stderr/stdout (what exactly, ``help`` tells)."""
    p.add_argument("--verbose", action="store_true", help=help)
