"""The training labs (docs/training/<track>/NN-*.md) as a test runs them: their commands, in order,
checked against the output each lab says to expect.

A lab's runnable part is its ```console blocks, written as a terminal shows them:

    $ python build.py launches --endpoint-url http://127.0.0.1:4566
    health-checker-dev ... 1.5.5 ...
    [exit 1]

- A line starting with `$ ` is a command (a trailing backslash continues it on the next line;
  a here-document, `cat > file <<'EOF'`, takes the lines up to its end marker as they are).
  It runs with bash in the repository, `.venv/bin` first on PATH (so `python` and `aws` are the
  project's).
- The lines after it, up to the next command, are output it must print (stdout and stderr
  together), in that order, with any other lines in between. `...` inside a line stands for any
  text; a line of only `...` says "more here" and matches nothing. Each line must match a whole
  output line (leading and trailing spaces ignored).
- `[exit N]` says the command exits N; otherwise it must exit 0.
- `$ export NAME=VALUE ...` sets variables for every later command of the track, as in a shell.
- `$ python build.py local ...` starts the local AWS in the background, "in another terminal";
  its banner is its output. It runs until the track ends.

The labs say port 4566 (the local AWS's default); a run uses a free port instead so runs can
happen side by side, and substitutes it in the commands and the expected output.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DOCUMENTED_PORT = 4566
FENCE = re.compile(r"^\s*```(\w*)\s*$")
EXIT_LINE = re.compile(r"^\[exit (\d+)\]$")
SERVER_COMMAND = "python build.py local "
# A guard against a hung command, not a measure: a lab step takes seconds.
COMMAND_TIMEOUT_SECONDS = 900


class LabError(AssertionError):
    """A lab that cannot be run as written, or whose command did not print what it says."""


@dataclass(frozen=True)
class Step:
    lab: str  # the lab file, relative to the repository
    line: int  # where the command starts in it
    command: str
    expected: tuple[str, ...]
    exit_code: int = 0

    def where(self) -> str:
        return f"{self.lab}:{self.line}"


@dataclass(frozen=True)
class Lab:
    path: Path
    audience: str  # the first line, "For: ..."
    steps: tuple[Step, ...]
    has_check_yourself: bool


def parse_lab(path: Path, repository: Path) -> Lab:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    relative = str(path.relative_to(repository))
    return Lab(
        path=path,
        audience=lines[0] if lines else "",
        steps=tuple(_steps(relative, lines)),
        has_check_yourself=any(line.strip() == "## Check yourself" for line in lines),
    )


def _steps(relative: str, lines: list[str]) -> Iterator[Step]:
    language: str | None = None
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        fence = FENCE.match(line)
        if fence is None:
            if language is not None:
                block.append((number, line))
            continue
        if language is None:
            language, block = fence.group(1), []
            continue
        if language == "console":
            yield from _block_steps(relative, block)
        language = None
    if language is not None:
        raise LabError(f"{relative}: a code block is not closed")


HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


@dataclass
class _Pending:
    """The command being read: its text so far, and whether its next line belongs to it."""

    start: int
    text: str = ""
    continues: bool = False  # the last line ended with a backslash
    heredoc_end: str | None = None  # inside a here-document, until this line
    expected: list[str] = field(default_factory=list)

    def add_command_line(self, line: str) -> None:
        self.continues = line.endswith("\\")
        part = line[:-1].rstrip() if self.continues else line
        self.text = f"{self.text} {part}" if self.text else part
        heredoc = HEREDOC.search(part)
        if heredoc:
            self.heredoc_end = heredoc.group(2)

    def add_heredoc_line(self, raw: str) -> None:
        self.text += "\n" + raw.rstrip()
        if raw.strip() == self.heredoc_end:
            self.heredoc_end = None


def _block_steps(relative: str, block: list[tuple[int, str]]) -> Iterator[Step]:
    pending: _Pending | None = None
    for number, raw in block:
        line = raw.strip()
        if pending is not None and pending.heredoc_end is not None:
            pending.add_heredoc_line(raw)
        elif pending is not None and pending.continues:
            pending.add_command_line(line)
        elif line.startswith("$ "):
            if pending is not None:
                yield _step(relative, pending)
            pending = _Pending(number)
            pending.add_command_line(line[2:])
        elif pending is not None:
            pending.expected.append(line)
        elif line:
            raise LabError(f"{relative}:{number}: output {line!r} comes before any `$ ` command")
    if pending is not None:
        if pending.heredoc_end is not None:
            raise LabError(
                f"{relative}:{pending.start}: here-document {pending.heredoc_end} is not closed"
            )
        yield _step(relative, pending)


def _step(relative: str, pending: _Pending) -> Step:
    exit_code = 0
    kept: list[str] = []
    for line in pending.expected:
        code = EXIT_LINE.match(line)
        if code:
            exit_code = int(code.group(1))
        elif line and line != "...":
            kept.append(line)
    if pending.text.startswith("cd "):
        raise LabError(
            f"{relative}:{pending.start}: `cd` is not supported; every command runs at the root"
        )
    return Step(relative, pending.start, pending.text, tuple(kept), exit_code)


def line_pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in expected.split("...")))


def missing_expected(expected: tuple[str, ...], output: str) -> str | None:
    """The first expected line not found, in order, among OUTPUT's lines (None: all found)."""
    lines = [line.strip() for line in output.splitlines()]
    position = 0
    for wanted in expected:
        pattern = line_pattern(wanted)
        while position < len(lines) and not pattern.fullmatch(lines[position]):
            position += 1
        if position == len(lines):
            return wanted
        position += 1
    return None


def with_port(text: str, port: int) -> str:
    return text.replace(f"127.0.0.1:{DOCUMENTED_PORT}", f"127.0.0.1:{port}").replace(
        f"--port {DOCUMENTED_PORT}", f"--port {port}"
    )


@dataclass
class TrackRun:
    """One track's labs, in order, in one copy of the repository with one local AWS."""

    repository: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen[str] | None = None

    def __post_init__(self) -> None:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        path = f"{self.repository / '.venv' / 'bin'}{os.pathsep}{inherited.get('PATH', '')}"
        # The learner's git identity, for the labs that commit.
        identity = {
            "GIT_AUTHOR_NAME": "Lab Learner",
            "GIT_AUTHOR_EMAIL": "learner@example.com",
            "GIT_COMMITTER_NAME": "Lab Learner",
            "GIT_COMMITTER_EMAIL": "learner@example.com",
        }
        self.env = {**inherited, **identity, "PATH": path, "PYTHONUNBUFFERED": "1"}

    def run(self, step: Step) -> str:
        command = with_port(step.command, self.port)
        if command.startswith("export "):
            self._export(command)
            return ""
        if command.startswith(SERVER_COMMAND):
            output = self._start_server(step, command)
        else:
            output = self._run_command(step, command)
        expected = tuple(with_port(line, self.port) for line in step.expected)
        missing = missing_expected(expected, output)
        if missing is not None:
            raise LabError(
                f"{step.where()}: `{step.command}` did not print {missing!r} "
                f"(in the expected order):\n{output[-6000:]}"
            )
        return output

    def _export(self, command: str) -> None:
        for assignment in shlex.split(command)[1:]:
            name, _, value = assignment.partition("=")
            self.env[name] = value

    def _run_command(self, step: Step, command: str) -> str:
        done = subprocess.run(  # the lab's own command, as the learner types it
            ["bash", "-o", "pipefail", "-c", command],
            cwd=self.repository,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        output = done.stdout + done.stderr
        if done.returncode != step.exit_code:
            raise LabError(
                f"{step.where()}: `{step.command}` exited {done.returncode}, the lab says "
                f"{step.exit_code}:\n{output[-6000:]}"
            )
        return output

    def _start_server(self, step: Step, command: str) -> str:
        if self.server is not None:
            raise LabError(f"{step.where()}: the local AWS is already running")
        self.server = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=self.repository,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.server.stdout is not None
        banner: list[str] = []
        while not banner or banner[-1].strip() != "Press Ctrl-C to stop.":
            line = self.server.stdout.readline()
            if not line:
                raise LabError(f"{step.where()}: the local AWS stopped: {''.join(banner)}")
            banner.append(line)
        return "".join(banner)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.communicate(timeout=30)
            self.server = None
        self._stop_leftovers()

    def _stop_leftovers(self) -> None:
        """A lab stops what it starts in the background, but a failed lab never gets there:
        end every process still working in this copy, so a rerun finds its ports free."""
        root = str(self.repository.resolve())
        stopped: list[Path] = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                cwd = str((proc / "cwd").readlink())
            except OSError:
                continue  # gone, or not ours to look at
            if (cwd == root or cwd.startswith(root + os.sep)) and int(proc.name) != os.getpid():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(proc.name), signal.SIGTERM)
                    stopped.append(proc)
        # Until they are gone (a zombie is: its parent reaps it), so their ports are free.
        deadline = time.monotonic() + 10
        while any(running(proc) for proc in stopped) and time.monotonic() < deadline:
            time.sleep(0.01)


def running(proc: Path) -> bool:
    """Whether /proc/PID still runs (a zombie only waits for its parent to reap it)."""
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
