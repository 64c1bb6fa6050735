"""The sandbox's allow-list, spelled out: any change to what a submission sees is a diff here.

``RULES`` is compared with a literal copy, this machine's view is rendered
with its machine-specific folders named (``{python}``, ``{venv}``...) and
compared with a literal list, and the instructor guide must show the table
generated from ``RULES``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from day25.course.sandbox import namespaces
from day25.course.sandbox.view import (
    RULES,
    Bind,
    Dev,
    Entry,
    File,
    Proc,
    Symlink,
    Tmpfs,
    python_view,
    rules_table,
    validate,
)

COURSE = Path(__file__).resolve().parents[2]
PACKAGE = COURSE / "src"
WORKDIR = Path("/tmp/d25z-example")

ALLOW_LIST = [
    ("tmp", "`/tmp`", "writable, a private tmpfs of 16 MiB"),
    ("python", "the interpreter's prefix (`sys.base_prefix`; only its standard library and "
     "site-packages when that is the system's `/usr`)", "read-only"),
    ("venv", "the virtual environment (`sys.prefix`), if any", "read-only"),
    ("package", "the folder holding the `day25` package (an editable install's `src/`, never "
     "the checkout)", "read-only"),
    ("libraries", "the folders of the shared libraries the grader's Python has loaded (such as "
     "`/usr/lib/x86_64-linux-gnu`)", "read-only"),
    ("executable", "the interpreter's executable and ELF loader, and the symbolic links that "
     "lead to them (`/lib64`, `bin/python`)", "read-only"),
    ("locale", "`/usr/lib/locale/C.utf8`", "read-only"),
    ("etc", "`/etc/localtime`, `/etc/ld.so.cache`", "read-only"),
    ("identity", "`/etc/passwd`, `/etc/group`, `/etc/hosts`",
     "read-only, generated: root, nobody and the submission's own uid; `localhost`"),
    ("devices", "`/dev/null`, `/dev/zero`, `/dev/full`, `/dev/random`, `/dev/urandom`",
     "devices"),
    ("proc", "`/proc`", "its own PID namespace's only"),
    ("tool", "`/usr/bin/setpriv` (an exec'd process drops to its uid with it) or `/usr/bin/cat` "
     "(the process holding a forked zygote's view open)", "read-only"),
    ("workdir", "its own work directory: its copy of the submission, its apps' folders",
     "writable"),
]

#: this machine's view, machine-specific folders by name; "?": only where the host has it
VIEW = {
    "tmpfs /tmp 16777216 1777",
    "ro {libraries}",
    "ro {python}",
    "ro {venv}",
    "ro {package}",
    "? ro /usr/lib/locale/C.utf8",
    "? {executable}",
    "? ro /etc/localtime",
    "? ro /etc/ld.so.cache",
    "data /etc/passwd",
    "data /etc/group",
    "data /etc/hosts",
    "dev /dev/null",
    "dev /dev/zero",
    "dev /dev/full",
    "dev /dev/random",
    "dev /dev/urandom",
    "proc /proc",
    "rw {workdir}",
}


def test_the_allow_list_is_exactly_this() -> None:
    assert [(rule.name, rule.where, rule.access) for rule in RULES] == ALLOW_LIST


def _render(entry: Entry) -> str:
    names = {Path(sys.prefix).resolve(): "{venv}", Path(sys.base_prefix).resolve(): "{python}",
             PACKAGE.resolve(): "{package}", WORKDIR: "{workdir}"}  # no venv: prefix is python
    if entry.rule == "libraries":
        return "ro {libraries}"
    base = Path(sys.base_prefix).resolve()
    if (entry.rule == "python" and isinstance(entry, Bind) and not entry.writable
            and base in {Path("/"), Path("/usr"), Path("/usr/local")}
            and entry.target.is_relative_to(base)):
        return "ro {python}"  # a system Python: its own folders of /usr, not all of it
    if entry.rule == "executable":  # the links (and file) leading to python and its loader
        return "{executable}"
    if isinstance(entry, Bind):
        return ("rw " if entry.writable else "ro ") + names.get(entry.target, str(entry.target))
    if isinstance(entry, Tmpfs):
        return f"tmpfs {entry.target} {entry.size} {entry.mode:o}"
    if isinstance(entry, File):
        return f"data {entry.target}"
    if isinstance(entry, Dev):
        return f"dev {entry.target}"
    assert isinstance(entry, Proc | Symlink)
    return f"proc {entry.target}"


def test_this_machines_view_follows_the_allow_list() -> None:
    view = python_view(WORKDIR, uid=123456, package_root=PACKAGE)
    rendered = [_render(entry) for entry in view]
    seen = set(rendered) | ({"ro {venv}"} if sys.prefix == sys.base_prefix else set())
    required = {line for line in VIEW if not line.startswith("? ")}
    optional = {line.removeprefix("? ") for line in VIEW if line.startswith("? ")}
    assert required <= seen and seen <= required | optional, sorted(seen ^ required)
    assert rendered[0] == "tmpfs /tmp 16777216 1777", "the tmpfs first: binds go on top"
    assert rendered[-1] == "rw {workdir}"


def test_the_identity_files_name_only_root_nobody_and_the_submission() -> None:
    view = python_view(WORKDIR, uid=123456, package_root=PACKAGE)
    files = {str(e.target): e.content.decode() for e in view if isinstance(e, File)}
    users = [line.split(":")[:3] for line in files["/etc/passwd"].splitlines()]
    assert users == [["root", "x", "0"], ["nobody", "x", "65534"], ["student", "x", "123456"]]
    assert files["/etc/hosts"] == "127.0.0.1 localhost\n::1 localhost\n"


def test_only_the_workdir_is_writable_and_no_bind_shows_a_home_or_the_course() -> None:
    view = python_view(WORKDIR, uid=123456, package_root=PACKAGE)
    assert [e.target for e in view if isinstance(e, Bind) and e.writable] == [WORKDIR]
    validate(view, [COURSE / "tests", COURSE / "solutions"], [Path("/tmp"), Path("/home")])


@pytest.mark.parametrize(("extra", "why"), [
    (COURSE, "would show"), (COURSE / "tests" / "hidden", "would show"),
    (Path("/"), "may not bind /"), (Path("/tmp"), "all of /tmp"), (Path("/home"), "all of /home"),
])
def test_validate_refuses_a_view_that_shows_too_much(extra: Path, why: str) -> None:
    view = python_view(WORKDIR, uid=123456, package_root=PACKAGE)
    view.append(Bind("python", extra, extra))
    with pytest.raises(ValueError, match=why):
        validate(view, [COURSE / "tests", COURSE / "solutions"], [Path("/tmp"), Path("/home")])


def test_the_instructor_guide_shows_the_allow_list() -> None:
    guide = (COURSE / "docs" / "guides" / "instructor.md").read_text(encoding="utf-8")
    assert rules_table() in guide, "regenerate the table: day25.course.sandbox.view.rules_table()"


def test_the_view_the_grader_uses_is_checked_against_the_course() -> None:
    view = namespaces.sandbox_view(WORKDIR, 123456, COURSE)
    sources = {e.source for e in view if isinstance(e, Bind)}
    assert COURSE not in sources and PACKAGE.resolve() in sources
