"""`csei users add` and the serve parser, through the real command line entry point."""
from __future__ import annotations

from csei_nlp.cli import build_parser, main
from csei_nlp.store.appdb import AppDB, database_url


def test_users_add_and_refusals(scan_out, capsys):
    assert main(["users", "add", "maria", "--role", "analyst", "--db", str(scan_out),
                 "--password", "long enough pw"]) == 0
    db = AppDB(database_url(scan_out))
    assert db.authenticate("maria", "long enough pw")["role"] == "analyst"
    assert db.authenticate("maria", "wrong") is None
    db.dispose()
    assert main(["users", "add", "maria", "--role", "analyst", "--db", str(scan_out), "--password", "x" * 9]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["users", "add", "tom", "--role", "analyst", "--db", str(scan_out), "--password", "short"]) == 2
    args = build_parser().parse_args(["serve", "--db", str(scan_out), "--port", "8123"])
    assert args.port == 8123 and args.host == "127.0.0.1"
