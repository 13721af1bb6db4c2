"""The one atomic-write helper: complete file or old file, never a torn one."""
from __future__ import annotations

import os
import stat

import pytest

from csei_nlp import fsutil


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_text_and_bytes_replace_the_file(tmp_path):
    p = tmp_path / "out.csv"
    fsutil.atomic_write_text(p, "a,b\n1,2\n")
    assert p.read_text("utf-8") == "a,b\n1,2\n"
    fsutil.atomic_write_text(p, "zażółć\n")
    assert p.read_text("utf-8") == "zażółć\n"
    fsutil.atomic_write_bytes(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_failure_while_writing_leaves_old_file_intact(tmp_path):
    p = tmp_path / "report.html"
    p.write_text("old", "utf-8")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with fsutil.atomic_open(p) as fh:
            fh.write("half a new rep")
            raise RuntimeError("disk on fire")
    assert p.read_text("utf-8") == "old"
    assert _leftovers(tmp_path) == []


def test_failure_encoding_leaves_old_file_intact(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("old", "utf-8")
    with pytest.raises(UnicodeEncodeError):
        fsutil.atomic_write_text(p, "ok then \udcff", encoding="utf-8")  # lone surrogate: not encodable
    assert p.read_text("utf-8") == "old"
    assert _leftovers(tmp_path) == []


def test_failed_rename_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "run.json"
    p.write_text("{}", "utf-8")

    def boom(src, dst):
        raise OSError("rename refused")

    monkeypatch.setattr(fsutil.os, "replace", boom)
    with pytest.raises(OSError, match="rename refused"):
        fsutil.atomic_write_text(p, '{"new": 1}')
    assert p.read_text("utf-8") == "{}"
    assert _leftovers(tmp_path) == []


def test_temp_file_lives_in_the_target_directory(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), os.path.dirname(dst)))
        return real(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", spy)
    fsutil.atomic_write_text(tmp_path / "f.txt", "x")
    assert seen == [(str(tmp_path), str(tmp_path))]  # same file system: the rename is atomic


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_permissions_follow_the_umask_like_open(tmp_path):
    old = os.umask(0o022)
    try:
        fsutil.atomic_write_text(tmp_path / "a.txt", "x")
        (tmp_path / "b.txt").write_text("x")
    finally:
        os.umask(old)
    mode = lambda n: stat.S_IMODE((tmp_path / n).stat().st_mode)  # noqa: E731
    assert mode("a.txt") == mode("b.txt") == 0o644


def test_only_whole_file_modes():
    with pytest.raises(ValueError):
        with fsutil.atomic_open("x", "a"):
            pass
