"""Every command a user can type has help text, and --help works for each."""
from __future__ import annotations

import argparse

import pytest

from csei_nlp.cli import build_parser, main


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_is_documented():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {ca.dest: ca.help for ca in action._choices_actions}
    assert {"scan", "train", "eval", "serve", "users", "discover", "queries", "schedule", "runs"} <= set(helps)
    for name, text in helps.items():
        assert text and len(text) > 15, f"`csei {name}` has no useful help line"


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_help_runs(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: csei " + name)
    _assert_documented(_subcommands()[name], f"csei {name}")


def _assert_documented(parser: argparse.ArgumentParser, path: str) -> None:
    """Every option and argument has help, recursively through nested commands (`users add`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                _assert_documented(sub, f"{path} {sub_name}")
        elif action.dest != "help":
            assert action.help, f"`{path} {(action.option_strings or [action.dest])[0]}` has no help"
