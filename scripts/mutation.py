"""Mutation testing with mutmut, one target module at a time (see docs/testing.md).

    scripts/mutation TARGET [mutmut command and arguments]   default command: run
    scripts/mutation TARGET results                          the surviving mutants
    scripts/mutation TARGET show MUTANT                      one mutant's diff
    scripts/mutation list                                    the targets and their tests

Each target gets its own folder, .mutmut/TARGET, holding links to the repository and mutmut's
`mutants/` copy, so targets keep their results apart and one can be re-run alone. The
configuration lives here (not in pyproject.toml) because it differs per target: mutmut mutates
one file and runs only that module's tests (and, for each mutant, only the tests that reach the
mutated function). The tests are each module's own (unit and local-AWS) tests: the handlers'
end-to-end tests reach every function of a module and would make each mutant cost a full
handler run.

Handlers are imported from their own folders (handlers/<tool>/ is on sys.path, as in Lambda), so
a handler module's name is `alert_dedupe`, not `handlers.alert_handler.alert_dedupe`; mutmut
derives names from paths, so the name of a file under handlers/<tool>/ is made to match.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".mutmut"
# What mutants/ needs to run the tests: the packages (copied by mutmut) and these files.
PACKAGES = ("catalog", "products", "portfolio", "handlers", "localcloud")
ALSO_COPY = ("tests", "pyproject.toml", "catalog.yaml", "build.py")
WORKERS = 2  # the development machines have two cores


@dataclass(frozen=True)
class Target:
    source: str
    tests: tuple[str, ...]  # globs relative to the repository


TARGETS = {
    "plan": Target("portfolio/plan.py", ("tests/portfolio/test_plan*.py",)),
    "versions": Target("products/versions.py", ("tests/products/test_versions*.py",)),
    "alert_dedupe": Target(
        "handlers/alert_handler/alert_dedupe.py",
        ("tests/handlers/alert_handler/test_dedupe*.py",),
    ),
    "alert_severity": Target(
        "handlers/alert_handler/alert_severity.py",
        ("tests/handlers/alert_handler/test_severity*.py",),
    ),
    "health_state": Target(
        "handlers/health_checker/health_state.py",
        (
            "tests/handlers/health_checker/test_state*.py",
            "tests/handlers/health_checker/test_scale.py",
        ),
    ),
    "log_rules": Target(
        "handlers/log_processor/log_rules.py",
        ("tests/handlers/log_processor/test_rules*.py",),
    ),
}


def test_files(target: Target) -> list[str]:
    """The target's test files; with MUTATION_TESTS_AT=COMMIT only those that existed at COMMIT
    (how the "before" figures in docs/testing.md were measured)."""
    found = sorted({str(p.relative_to(REPO)) for g in target.tests for p in REPO.glob(g)})
    commit = os.environ.get("MUTATION_TESTS_AT")
    if commit:
        # Fixed arguments; git from PATH, as the other scripts/ use it.
        listed = subprocess.run(  # noqa: S603
            ["git", "ls-tree", "-r", "--name-only", commit, "tests"],  # noqa: S607
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        found = [name for name in found if name in listed]
    return found


def prepare_workdir(name: str) -> Path:
    """.mutmut/NAME with links to what mutmut copies into its mutants/ folder."""
    workdir = WORK / name
    workdir.mkdir(parents=True, exist_ok=True)
    for entry in PACKAGES + ALSO_COPY:
        link = workdir / entry
        if not link.is_symlink():
            link.symlink_to(REPO / entry)
    return workdir


def write_settings(workdir: Path, target: Target) -> None:
    """mutmut's settings for TARGET, as the [mutmut] section of the work folder's setup.cfg (its
    pyproject.toml is the repository's, which has no [tool.mutmut], so mutmut reads this)."""
    settings = {
        "source_paths": PACKAGES,  # copied whole into mutants/; only only_mutate is mutated
        "only_mutate": (target.source,),
        "also_copy": ALSO_COPY,
        "pytest_add_cli_args": ("-p", "no:cacheprovider", "-p", "no:xdist"),
        "pytest_add_cli_args_test_selection": test_files(target),
        "use_git_change_detection": ("false",),  # the work folder is not a git checkout
    }
    lines = ["[mutmut]"] + [
        f"{key} =\n" + "".join(f"    {value}\n" for value in values)
        for key, values in settings.items()
    ]
    (workdir / "setup.cfg").write_text("\n".join(lines), encoding="utf-8")


def name_handler_modules_as_lambda_imports_them() -> None:
    """handlers/<tool>/<module>.py is the module `<module>` (see the module docstring)."""
    import mutmut.__main__ as main
    from mutmut.mutation import file_mutation
    from mutmut.utils import format_utils

    path_based = format_utils.get_mutant_name

    def get_mutant_name(relative_source_path: Path, mutant_method_name: str) -> str:
        parts = Path(relative_source_path).parts
        if len(parts) == 3 and parts[0] == "handlers":
            relative_source_path = Path(parts[2])
        return path_based(relative_source_path, mutant_method_name)

    for module in (format_utils, main, file_mutation):
        module.get_mutant_name = get_mutant_name  # type: ignore[attr-defined]


def list_targets() -> int:
    for name, target in TARGETS.items():
        sys.stdout.write(f"{name}: {target.source}\n")
        for test in test_files(target):
            sys.stdout.write(f"    {test}\n")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in (*TARGETS, "list"):
        sys.stderr.write(f"usage: scripts/mutation {{{'|'.join(TARGETS)}|list}} [mutmut command]\n")
        return 2
    if argv[0] == "list":
        return list_targets()
    name, command = argv[0], argv[1:] or ["run", "--max-children", str(WORKERS)]
    workdir = prepare_workdir(name)
    write_settings(workdir, TARGETS[name])
    os.chdir(workdir)
    name_handler_modules_as_lambda_imports_them()
    from mutmut.__main__ import cli

    result = cli.main(args=command, prog_name=f"scripts/mutation {name}", standalone_mode=False)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
