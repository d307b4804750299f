"""The training tracks in docs/training/ cannot rot: every lab's commands run, in order, in a clean
copy of the repository against a local AWS started the way the labs start it, and each prints
what the lab says it prints (tests/docs/labs.py has the rules).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.labs import Lab, LabError, TrackRun, missing_expected, parse_lab, running
from tests.support.ports import free_loopback_port
from tests.support.repository_copy import copy_repository

REPO = Path(__file__).resolve().parents[2]
TRAINING = REPO / "docs" / "training"
TRACKS = ("devops", "on-call")


def labs_of(track: str) -> list[Lab]:
    return [parse_lab(path, REPO) for path in sorted((TRAINING / track).glob("[0-9][0-9]-*.md"))]


@pytest.mark.parametrize("track", TRACKS)
def test_every_lab_says_who_it_is_for_runs_something_and_asks_a_question(track: str) -> None:
    labs = labs_of(track)
    assert len(labs) >= 4, f"docs/training/{track}/ has {len(labs)} lab(s)"
    for lab in labs:
        assert lab.audience.startswith("For: "), f"{lab.path}: first line {lab.audience!r}"
        assert lab.steps, f"{lab.path}: no ```console block with a `$ ` command"
        assert lab.has_check_yourself, f"{lab.path}: no '## Check yourself' section"


def test_the_readme_and_the_training_index_link_both_tracks() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    index = (TRAINING / "README.md").read_text(encoding="utf-8")
    assert index.startswith("For: ")
    for track in TRACKS:
        assert f"docs/training/{track}/" in readme
        for lab in labs_of(track):
            assert f"({track}/{lab.path.name})" in index, f"the index does not link {lab.path}"


@pytest.mark.slow
@pytest.mark.parametrize("track", TRACKS)
def test_the_track_runs_as_written_on_a_clean_checkout(track: str, tmp_path: Path) -> None:
    copy = copy_repository(tmp_path / "checkout")
    run = TrackRun(copy, free_loopback_port())
    try:
        for lab in labs_of(track):
            for step in lab.steps:
                run.run(step)
    finally:
        run.stop()


# The runner itself: what a lab's console block means, and that a wrong lab fails.
SAMPLE = """For: whoever tests the runner.

# Lab 0: the runner

```console
$ printf 'one\\ntwo: 2 items\\nthree\\n'
one
...
three
$ printf 'a long \\
line\\n'; exit 3
a long line
[exit 3]
$ cat <<'EOF'
  kept as written
$ not a command
EOF
  kept as written
```

## Check yourself
"""


def _sample(tmp_path: Path, text: str = SAMPLE) -> Lab:
    path = tmp_path / "00-sample.md"
    path.write_text(text)
    return parse_lab(path, tmp_path)


def test_a_console_block_becomes_commands_with_their_expected_lines(tmp_path: Path) -> None:
    lab = _sample(tmp_path)
    assert [(s.command, s.expected, s.exit_code) for s in lab.steps] == [
        ("printf 'one\\ntwo: 2 items\\nthree\\n'", ("one", "three"), 0),
        ("printf 'a long line\\n'; exit 3", ("a long line",), 3),
        ("cat <<'EOF'\n  kept as written\n$ not a command\nEOF", ("kept as written",), 0),
    ]
    run = TrackRun(tmp_path, free_loopback_port())
    for step in lab.steps:
        run.run(step)


@pytest.mark.parametrize(
    ("expected", "missing"),
    [
        (("one", "two: ... items", "three"), None),
        (("three", "one"), "one"),  # order matters
        (("two",), "two"),  # a whole line, not a part of one
        (("four",), "four"),
    ],
)
def test_expected_lines_match_whole_lines_in_order(
    expected: tuple[str, ...], missing: str | None
) -> None:
    assert missing_expected(expected, "one\n  two: 2 items\nthree\n") == missing


def test_a_command_that_prints_otherwise_or_exits_otherwise_fails_naming_the_lab(
    tmp_path: Path,
) -> None:
    wrong_output = _sample(tmp_path, SAMPLE.replace("one\n...", "uno\n..."))
    run = TrackRun(tmp_path, free_loopback_port())
    with pytest.raises(LabError, match=r"00-sample.md:6: `printf .*` did not print 'uno'"):
        run.run(wrong_output.steps[0])
    wrong_exit = _sample(tmp_path, SAMPLE.replace("[exit 3]", ""))
    with pytest.raises(LabError, match=r"00-sample.md:10: .* exited 3, the lab says 0"):
        run.run(wrong_exit.steps[1])


def test_the_documented_port_becomes_the_runs_port(tmp_path: Path) -> None:
    lab = _sample(
        tmp_path,
        "For: x\n\n```console\n$ echo http://127.0.0.1:4566 --port 4566\n"
        "http://127.0.0.1:4566 --port 4566\n```\n",
    )
    run = TrackRun(tmp_path, 5999)
    assert run.run(lab.steps[0]).strip() == "http://127.0.0.1:5999 --port 5999"


def test_what_a_failed_lab_left_running_in_the_copy_is_stopped(tmp_path: Path) -> None:
    lab = _sample(
        tmp_path,
        "For: x\n\n```console\n$ sleep 300 > /dev/null 2>&1 & echo $! > left.pid\n```\n",
    )
    run = TrackRun(tmp_path, free_loopback_port())
    run.run(lab.steps[0])
    pid = int((tmp_path / "left.pid").read_text())
    run.stop()
    assert not running(Path(f"/proc/{pid}"))
