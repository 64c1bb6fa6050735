"""What a sandboxed process sees of the filesystem: an allow-list, kept as data.

Why data: a security boundary is easiest to trust when it can be read at a
glance. :data:`RULES` says, in words, everything a submission may see; a
:data:`View` is that allow-list made concrete for this machine (one
:class:`Entry` per path, each naming its rule), built by :func:`python_view`
from the running interpreter. Nothing that is not listed exists in the
sandbox: no other submission, no output folder, no home, no course checkout.
:func:`day25.course.sandbox.bwrap.bwrap_args` renders a view for bubblewrap,
the only renderer. Targets equal sources, so the paths of modules a warm
process already imported (``__file__``, ``sys.path``, ``pyvenv.cfg``) stay
valid inside.
"""

from __future__ import annotations

import functools
import os
import site
import struct
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RULES", "Bind", "Dev", "Entry", "File", "Proc", "Rule", "Symlink", "Tmpfs", "View",
           "python_view", "rules_table", "tool", "validate"]


@dataclass(frozen=True)
class Rule:
    """One line of the allow-list: what is visible, where, how, and why."""

    name: str
    where: str
    access: str
    why: str


#: The allow-list, in the order a view applies it. Nothing else exists in the sandbox.
RULES: tuple[Rule, ...] = (
    Rule("tmp", "`/tmp`", "writable, a private tmpfs of 16 MiB",
         "scratch space; nothing written there reaches the machine's `/tmp`"),
    Rule("python", "the interpreter's prefix (`sys.base_prefix`; only its standard library "
         "and site-packages when that is the system's `/usr`)", "read-only",
         "the interpreter, the standard library and the installed packages"),
    Rule("venv", "the virtual environment (`sys.prefix`), if any", "read-only",
         "`pyvenv.cfg` and the packages installed in it"),
    Rule("package", "the folder holding the `day25` package (an editable install's `src/`, "
         "never the checkout)", "read-only", "the course package the inside program runs"),
    Rule("libraries", "the folders of the shared libraries the grader's Python has loaded "
         "(such as `/usr/lib/x86_64-linux-gnu`)", "read-only", "libc, libssl, libsqlite3..."),
    Rule("executable", "the interpreter's executable and ELF loader, and the symbolic links "
         "that lead to them (`/lib64`, `bin/python`)", "read-only", "to start Python"),
    Rule("locale", "`/usr/lib/locale/C.utf8`", "read-only", "the `C.UTF-8` locale"),
    Rule("etc", "`/etc/localtime`, `/etc/ld.so.cache`", "read-only",
         "local time, library lookup"),
    Rule("identity", "`/etc/passwd`, `/etc/group`, `/etc/hosts`",
         "read-only, generated: root, nobody and the submission's own uid; `localhost`",
         "`getpwuid()` and `localhost` work; the machine's accounts stay hidden"),
    Rule("devices", "`/dev/null`, `/dev/zero`, `/dev/full`, `/dev/random`, `/dev/urandom`",
         "devices", "the usual minimum"),
    Rule("proc", "`/proc`", "its own PID namespace's only", "its own processes"),
    Rule("tool", "`/usr/bin/setpriv` (an exec'd process drops to its uid with it) or "
         "`/usr/bin/cat` (the process holding a forked zygote's view open)", "read-only",
         "the sandbox's own tools"),
    Rule("workdir", "its own work directory: its copy of the submission, its apps' folders",
         "writable", "the only place on the machine's disk it may write"),
)


def rules_table() -> str:
    """:data:`RULES` as the Markdown table the instructor guide shows (a test keeps them equal)."""
    rows = ["| what | access | why |", "|---|---|---|"]
    rows += [f"| {rule.where} | {rule.access} | {rule.why} |" for rule in RULES]
    return "\n".join(rows)


@dataclass(frozen=True)
class Bind:
    """Host ``source`` visible at ``target``; read-only unless ``writable``."""

    rule: str
    source: Path
    target: Path
    writable: bool = False


@dataclass(frozen=True)
class Dev:
    """A host device node (``/dev/null``...), at the same path."""

    rule: str
    target: Path


@dataclass(frozen=True)
class Tmpfs:
    """A fresh, private tmpfs."""

    rule: str
    target: Path
    size: int
    mode: int = 0o1777


@dataclass(frozen=True)
class Proc:
    """A procfs of the sandbox's own PID namespace."""

    rule: str
    target: Path = Path("/proc")


@dataclass(frozen=True)
class Symlink:
    """A symlink at ``target`` whose text is ``points_to`` (mirrors the host's links)."""

    rule: str
    points_to: str
    target: Path


@dataclass(frozen=True)
class File:
    """A small read-only file made from data (``/etc/passwd`` naming the sandbox's uid)."""

    rule: str
    target: Path
    content: bytes
    mode: int = 0o444


Entry = Bind | Dev | Tmpfs | Proc | Symlink | File
View = list[Entry]

TMP_SIZE = 16 * 1024**2
_SYSTEM_PREFIXES = {Path("/"), Path("/usr"), Path("/usr/local")}
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
_LOCALE = Path("/usr/lib/locale/C.utf8")  # the data LANG=C.UTF-8 needs


def _covered(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _elf_interpreter(executable: str) -> str | None:
    """PT_INTERP of a 64-bit little-endian ELF file: the loader ``exec`` needs."""
    with open(executable, "rb") as elf:
        head = elf.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return None
        (phoff,) = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        for index in range(phnum):
            elf.seek(phoff + index * phentsize)
            kind, _flags, offset, _vaddr, _paddr, size = struct.unpack("<IIQQQQ", elf.read(40))
            if kind == 3:  # PT_INTERP
                elf.seek(offset)
                return elf.read(size).rstrip(b"\0").decode()
    return None


def _mirror(rule: str, path: str, bound: list[Path]) -> list[Entry]:
    """Entries that make ``path`` resolve inside the view as it does on the host.

    Each symlink on the way (``/lib64 -> usr/lib64``, a venv's ``bin/python ->
    /root/.pyenv/...``) becomes a :class:`Symlink`, followed even inside a bound
    folder because it may lead out of it; the file finally reached is bound
    unless a bound folder already holds it.
    """
    entries: list[Entry] = []
    pending = Path(os.path.abspath(path))
    for _ in range(40):
        current = Path("/")
        parts = pending.parts[1:]
        for index, part in enumerate(parts):
            current = current / part
            if current.is_symlink():
                text = os.readlink(current)
                if not _covered(current, bound):
                    entries.append(Symlink(rule, text, current))
                rest = Path(*parts[index + 1:]) if index + 1 < len(parts) else Path()
                pending = Path(os.path.normpath(current.parent / text / rest))
                break
        else:
            if not _covered(current, bound):
                entries.append(Bind(rule, current, current))
            return entries
    raise OSError(f"too many symbolic links resolving {path}")


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as head:
            return head.read(4) == b"\x7fELF"
    except OSError:
        return False


def _library_dirs() -> list[Path]:
    """The folders of every shared object (ELF) this process has mapped.

    Only ELF files count: a process also maps data files (the ``-shm`` file of
    a WAL-mode SQLite database, a gradebook's say), whose folders must never
    be shown. The executable's own folder is not bound either (not all of
    ``/usr/bin``: :func:`_mirror` binds the executable alone).
    """
    mapped: dict[str, None] = {}
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith("/") and "(deleted)" not in fields[5]:
                mapped[fields[5].strip()] = None
    executable = Path(os.path.realpath(sys.executable))
    found: dict[Path, None] = {}
    for name in mapped:
        path = Path(os.path.realpath(name))
        if path.parent not in found and path != executable and _is_elf(path):
            found[path.parent] = None
    return list(found)


def _python_dirs(package_root: Path | None) -> list[tuple[str, Path]]:
    """(rule, folder) for the interpreter, the venv and the package, outermost first."""
    dirs: list[tuple[str, Path]] = []
    base = Path(sys.base_prefix).resolve()
    if base in _SYSTEM_PREFIXES:  # a distribution's python: its own folders, not all of /usr
        names = ("stdlib", "platstdlib", "purelib", "platlib")
        paths = sysconfig.get_paths(vars={"base": str(base), "platbase": str(base)})
        dirs += [("python", Path(paths[name])) for name in names]
        dirs += [("python", Path(p)) for p in site.getsitepackages()]
        user_site = site.getusersitepackages()
        if site.ENABLE_USER_SITE and user_site in sys.path:
            dirs.append(("python", Path(user_site)))
    else:
        dirs.append(("python", base))
    venv = Path(sys.prefix).resolve()
    if venv != base:
        dirs.append(("venv", venv))
    if package_root is not None:
        dirs.append(("package", package_root.resolve()))
    return dirs


def _identity(uid: int, gid: int, home: Path) -> list[Entry]:
    passwd = (f"root:x:0:0:root:/:/usr/sbin/nologin\n"
              f"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
              f"student:x:{uid}:{gid}:submission:{home}:/usr/sbin/nologin\n")
    group = "root:x:0:\nnogroup:x:65534:\n" + (f"student:x:{gid}:\n" if gid not in (0, 65534)
                                               else "")
    return [File("identity", Path("/etc/passwd"), passwd.encode()),
            File("identity", Path("/etc/group"), group.encode()),
            File("identity", Path("/etc/hosts"), b"127.0.0.1 localhost\n::1 localhost\n")]


def python_view(workdir: Path, *, uid: int, gid: int = 65534,
                package_root: Path | None = None) -> View:
    """The view of a Python process running a submission copied into ``workdir``.

    Built from the running interpreter (a warm process forks the sandbox's
    zygote, so what it loaded is what the zygote needs). ``package_root`` is
    the folder holding ``day25/``, given explicitly: never taken from
    ``sys.path``, where ``python -m`` puts the current folder (the checkout).
    """
    return [Tmpfs("tmp", Path("/tmp"), TMP_SIZE), *_installation(package_root),
            *_identity(uid, gid, workdir),
            *(Dev("devices", Path(d)) for d in _DEVICES if os.path.exists(d)),
            Proc("proc"), Bind("workdir", workdir, workdir, writable=True)]


@functools.cache
def _installation(package_root: Path | None) -> tuple[Entry, ...]:
    """The entries that depend only on this process: its interpreter, packages,
    libraries and ``/etc`` files. Computed once: a warm server computes them
    before it forks, and every zygote's view reuses them."""
    candidates = [(rule, path) for rule, path in _python_dirs(package_root) if path.exists()]
    candidates += [("libraries", path) for path in _library_dirs()]
    candidates += [("locale", _LOCALE)] if _LOCALE.is_dir() else []
    kept: list[Path] = []
    entries: list[Entry] = []
    for rule, path in sorted(candidates, key=lambda c: (len(c[1].parts), str(c[1]))):
        if not _covered(path, kept):  # a folder inside a bound one is already there
            kept.append(path)
            entries.append(Bind(rule, path, path))
    loader = _elf_interpreter(os.path.realpath(sys.executable))
    for program in (sys.executable, loader):
        for entry in _mirror("executable", program, kept) if program else []:
            if entry not in entries:
                entries.append(entry)
    for name in ("/etc/localtime", "/etc/ld.so.cache"):
        if os.path.exists(name):
            entries.append(Bind("etc", Path(os.path.realpath(name)), Path(name)))
    return tuple(entries)


def tool(name: str) -> Bind:
    """The entry for one of the sandbox's own programs (``setpriv``, ``cat``)."""
    for folder in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK):
            return Bind("tool", Path(os.path.realpath(path)), Path(path))
    raise FileNotFoundError(f"{name} is not installed")


def validate(view: View, hidden: Iterable[Path], shared: Iterable[Path] = ()) -> None:
    """Refuse a view that would show what it must not.

    No bind may show a ``hidden`` path (the course's ``tests/`` and
    ``solutions/``): equal it, lie inside it or contain it. No bind may
    contain a ``shared`` folder (the temp folder, homes), though it may lie
    inside one (the workdir is in ``/tmp``). ``/`` is never bound.
    """
    hidden, shared = [p.resolve() for p in hidden], [p.resolve() for p in shared]
    for entry in view:
        if not isinstance(entry, Bind):
            continue
        source = entry.source.resolve()
        if source == Path("/"):
            raise ValueError("the sandbox's view may not bind /")
        for bad in hidden:
            if source == bad or bad in source.parents or source in bad.parents:
                raise ValueError(f"the sandbox's view would show {bad} (through {source})")
        for folder in shared:
            if source == folder or source in folder.parents:
                raise ValueError(f"the sandbox's view would show all of {folder} "
                                 f"(through {source})")
