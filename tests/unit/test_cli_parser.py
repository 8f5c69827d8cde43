"""`cutscenes`' arguments: every option explained, every bad value one line, exit 2."""

from __future__ import annotations

import argparse

import pytest

from cutscenes import cli, commands
from shared.store.spend_report import Row, csv_text, usd_text


def subparsers() -> dict[str, argparse.ArgumentParser]:
    top = cli.parser()
    action = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_every_subcommand_has_help_and_examples():
    subs = subparsers()
    assert {
        "local",
        "configure",
        "trigger",
        "cost",
        "gallery",
        "spend",
        "janitor",
        "regenerate",
        "animate",
        "hide",
        "rewind",
    } <= set(subs)
    for name, sub in subs.items():
        assert sub.epilog and "examples:" in sub.epilog and f"cutscenes {name}" in sub.epilog
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and len(action.help) > 8, (name, action.dest)


@pytest.mark.parametrize(
    "argv",
    [
        ["gallery", "--campaign", "c1", "--limit", "-1"],
        ["gallery", "--campaign", "c1", "--limit", "101"],
        ["gallery", "--campaign", "c1", "--limit", "ten"],
        ["configure", "--campaign", "c1", "--budget", "-5"],
        ["configure", "--campaign", "c1", "--budget", "nan"],
        ["configure", "--campaign", "c1", "--budget", "1e9"],
        ["configure", "--campaign", "c/1"],
        ["configure", "--campaign", "c1", "--member", ""],
        ["configure", "--campaign", "c1", "--enable", "--disable"],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "-3",
            "--kind",
            "cutscene",
            "--image-prompt",
            "x",
        ],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s 1",
            "--turn",
            "3",
            "--kind",
            "cutscene",
            "--image-prompt",
            "x",
        ],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "3",
            "--kind",
            "movie",
            "--image-prompt",
            "x",
        ],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "3",
            "--kind",
            "cutscene",
            "--image-prompt",
            " ",
        ],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "3",
            "--kind",
            "cutscene",
            "--image-prompt",
            "x",
            "--timeout",
            "0",
        ],
        [
            "trigger",
            "--campaign",
            "c1",
            "--session",
            "s1",
            "--turn",
            "3",
            "--kind",
            "cutscene",
            "--image-prompt",
            "x",
            "--request-id",
            "short",
        ],
        ["cost", "--campaign", "c1"],
        ["cost", "--player", "alice", "--campaign", "c1", "--session", "s1"],
        ["cost", "--player", "a/b"],
        ["player-budget", "--user", "alice", "--cap", "-1"],
        ["player-budget", "--user", "alice", "--cap", "100001"],
        ["player-budget", "--user", "__alice__", "--cap", "1"],
        ["player-budget", "--cap", "1"],
        ["spend", "--campaign", "c1", "--by", "week"],
        ["spend", "--campaign", "c1", "--format", "xml"],
        ["regenerate", "--campaign", "c1", "--asset", "a 1"],
        ["regenerate", "--campaign", "c1", "--asset", "a1", "--motion-prompt", "m" * 2001],
        ["regenerate", "--campaign", "c1", "--asset", "a1", "--wait", "--timeout", "-1"],
        ["animate", "--campaign", "c1", "--asset", ""],
        ["hide", "--asset", "a1"],
        ["rewind", "--campaign", "c1", "--session", "s1"],
        ["rewind", "--campaign", "c1", "--session", "s1", "--after-turn", "-1"],
        ["rewind", "--campaign", "c1", "--session", "s1", "--after-turn", "2.5"],
        ["rewind", "--campaign", "c1", "--session", "__s__", "--after-turn", "2"],
        ["rewind", "--campaign", "c1", "--after-turn", "2"],
        ["local", "sideways"],
        ["nonsense"],
        [],
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.parser().parse_args(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "error:" in err and "--help" in err


def test_exact_dollars_for_the_books():
    assert usd_text(467_000) == "0.467000" and usd_text(1) == "0.000001"
    assert usd_text(12_345_678_901) == "12345.678901"
    lines = csv_text([Row("s1", 123_457, 2), Row("s2", 1, 1)]).splitlines()
    assert lines == ["key,spent_usd,assets", "s1,0.123457,2", "s2,0.000001,1", "(total),0.123458,3"]


def test_wait_exit_codes_follow_the_contract(capsys):
    assert commands._wait_exit({"status": "complete"}, 1) == 0
    assert commands._wait_exit({"status": "partial", "status_reason": "budget"}, 1) == 3
    assert commands._wait_exit({"status": "failed"}, 1) == 4
    assert commands._wait_exit({"status": "rejected"}, 1) == 4
    capsys.readouterr()
    assert commands._wait_exit(None, 1) == 1
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1
    assert (
        commands._status_line({"status": "partial", "status_reason": "budget"})
        == "partial (budget)"
    )


def test_an_invalid_request_is_refused_in_the_pipelines_plain_words(capsys, tmp_path, monkeypatch):
    """Checked before any stack is reached: one line, exit 2, no pydantic wording."""
    monkeypatch.setenv("CUTSCENES_STATE_DIR", str(tmp_path))
    argv = ["trigger", "--campaign", "c1", "--session", "s1", "--turn", "3"]
    code = cli.main([*argv, "--kind", "cutscene", "--image-prompt", "x", "--motion-prompt", "y"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "cutscenes trigger: error: invalid request: cutscene_type is required when kind is "
        "cutscene (see cutscenes trigger --help)\n"
    )
