"""Logging and progress: one line per finished step, nothing with --quiet, flags before or after the command."""

from __future__ import annotations

import io

from rich.console import Console

from jlp_geo import progress
from jlp_geo.cli import parser
from jlp_geo.cli.options import pad


def _run(level: int) -> str:
    out = io.StringIO()
    progress.configure_output(level, console=Console(file=out, force_terminal=False, width=120))
    try:
        progress.step("读取 OSM reading OSM")
        assert list(progress.track([1, 2, 3], "逐类搜索 searches")) == [1, 2, 3]
        progress.step("写出 writing")
        progress.log.debug("detail")
        progress.finish()
    finally:
        progress.configure_output(0)
    return out.getvalue()


def test_normal_output_has_one_line_per_step_with_its_duration() -> None:
    lines = _run(0).splitlines()
    # a step's line comes when it ends: the searches ran inside the reading step
    assert [line.split("（")[0] for line in lines] == ["✓ 逐类搜索 searches：3 项", "✓ 读取 OSM reading OSM", "✓ 写出 writing"]
    assert all(line.endswith("秒）") for line in lines)


def test_quiet_prints_nothing_and_verbose_adds_debug() -> None:
    assert _run(-1) == ""
    assert "detail" in _run(1) and "detail" not in _run(0)


def test_failed_step_is_not_reported_as_done() -> None:
    out = io.StringIO()
    progress.configure_output(0, console=Console(file=out, force_terminal=False))
    try:
        progress.step("构建 building")
        progress.finish(ok=False)
    finally:
        progress.configure_output(0)
    assert out.getvalue() == ""


def test_verbosity_flags_before_or_after_the_command() -> None:
    p = parser()
    assert p.parse_args(["build", "--out", "x"]).verbosity == 0
    assert p.parse_args(["-q", "build", "--out", "x"]).verbosity == -1
    assert p.parse_args(["build", "--out", "x", "--verbose"]).verbosity == 1
    assert p.parse_args(["waste", "--out", "x", "-q"]).verbosity == -1


def test_console_tables_align_chinese_by_display_width() -> None:
    import unicodedata

    rows = [pad("小学", 12) + "|", pad("养老院/日间照料", 18) + "|", pad("bus", 12) + "|"]
    cells = [sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in r) for r in rows]
    assert cells == [13, 19, 13]  # the bar lands in the column asked for, whatever the script
    assert rows[0] == "小学" + " " * 8 + "|"
