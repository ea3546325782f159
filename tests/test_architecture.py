"""The package's structure: no import cycles, and the import side never reaches up into the service or the CLI.

The import graph is computed from the source with ``ast``: every ``import`` and ``from ... import``
statement counts, including those inside functions and under ``TYPE_CHECKING`` (a cycle hidden
from the interpreter is still a cycle for a reader).
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import aimport

PACKAGE = Path(aimport.__file__).parent
# the import side (worker process) and what it stands on: none of it may depend on the service or the CLI
LOWER = ("aimport.importing", "aimport.store", "aimport.readers", "aimport.itemtypes")
UPPER = ("aimport.service", "aimport.cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The aimport modules ``name`` imports (``from aimport.x import y`` is ``aimport.x.y`` when y is a module)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    out = set()
    for target in found:
        while target and target not in modules:  # ``import aimport.x.y`` names a module; trim attributes
            target = target.rpartition(".")[0]
        if target.startswith("aimport") and target != name:
            out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    names = set(modules)
    return {name: imports_of(name, path, names) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each as one cycle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_one_cycle(graph, set(c)) for c in components]


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, to print (``a -> b -> a``)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return sorted(component)


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert len(graph) > 40 and "aimport.service.app" in graph
    assert "aimport.service.lanes" in graph["aimport.service.app"]  # from aimport.service.lanes import Scheduler
    assert "aimport.store.system" in graph["aimport.service.app"] or any(
        "aimport.store.system" in graph[m] for m in graph["aimport.service.app"])
    # ``from aimport.store import system as store`` is the module aimport.store.system, not the package
    assert all(not m.endswith(".store") for m in graph["aimport.store.audit"])


def test_a_cycle_is_found_and_printed() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_import_side_never_imports_the_service_or_the_cli() -> None:
    wrong = sorted(f"{module} imports {target}" for module, targets in import_graph().items()
                   if within(module, LOWER) for target in targets if within(target, UPPER))
    assert not wrong, "\n".join(wrong)


# Modules outside aimport/store that may run SQL, and on what: never the system store.
SCRATCH_SQL = {
    "aimport.importing.stage": "the import's own scratch file (staged rows)",
    "aimport.importing.stagetable": "the scratch file's writer",
    "aimport.importing.stagewriter": "the scratch file's writer (the part of a sheet staged in the worker)",
    "aimport.importing.stageserver": "the scratch file's writer in the staging helper process",
    "aimport.campaigns.importer": "the campaign import's scratch file (customers before they are stored)",
    "aimport.importing.rejectedscratch": "the import's own scratch file (its rejected rows, for their workbook)",
}
SQL_CALLS = ("execute", "executemany", "executescript", "cursor", "copy")


def sql_calls(path: Path) -> list[int]:
    """Lines that call a database method (``x.execute(...)`` and friends) or import a driver."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            lines.append(node.lineno)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            if any(n.split(".")[0] == "psycopg" for n in names):
                lines.append(node.lineno)
    return lines


def test_no_sql_against_the_system_store_outside_the_store_package() -> None:
    """The engine, the campaign code, the CLI and the service say what they want; aimport/store says it in SQL
    (so a second backend is a change in one package). Scratch files of an import are the only exception."""
    offenders = {}
    for name, path in all_modules().items():
        if name.startswith("aimport.store") or name in SCRATCH_SQL:
            continue
        lines = sql_calls(path)
        if lines:
            offenders[name] = lines
    assert offenders == {}, "move this SQL into aimport/store/ (or declare a scratch database in SCRATCH_SQL)"


def _loaded_after(code: str) -> set[str]:
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=Path(aimport.__file__).parent.parent)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_what_stays_unloaded_until_it_is_needed() -> None:
    """Resident memory is counted per process (the bench's RSS cases): a worker process loads the parent's
    main module as ``__mp_main__`` and must not pull in the command line with it, and the service loads
    xlsxwriter only when it writes an export, the zip and XML modules only when it estimates a workbook."""
    worker = _loaded_after("import runpy; runpy.run_module('aimport.__main__', run_name='__mp_main__')")
    assert not {m for m in worker if m.startswith("aimport.cli")}
    service = _loaded_after("import aimport.cli, aimport.service.app")
    assert "xlsxwriter" not in service
    assert not {"zipfile", "defusedxml", "pyexpat"} & service  # the row estimate of a workbook loads them when met


def test_a_worker_importing_a_file_the_service_fingerprinted_never_loads_openssl(tmp_path: Path) -> None:
    """hashlib loads OpenSSL's libcrypto (3.4 MB resident in each process). The service has it loaded anyway
    (asyncio imports ssl) and hashes the claimed file while it checks it, so each worker process stays without."""
    from aimport.importing import filestate

    src = tmp_path / "Skills.txt"
    src.write_bytes(b"\xef\xbb\xbfName\r\nwarm-up\r\n")
    state = filestate.check(src, None, digest=True)
    assert state.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    ident = state.now
    code = f"""
import anyio.to_process  # what a worker process has loaded before its first job
from pathlib import Path
from aimport.importing.filestate import FileIdentity
from aimport.importing.outcome import ImportRequest
from aimport.importing.worker import ProgressFile, run_reporting
w = Path({str(tmp_path)!r})
req = ImportRequest(path=w / "Skills.txt", import_type="Skills", import_key="k-1", store_address=w / "s.sqlite",
                    work_dir=w, actor="admin", log_path=w / "k-1.log", sha256={state.sha256!r},
                    expect=FileIdentity({ident.dev}, {ident.ino}, {ident.size}, {ident.mtime_ns}))
out = run_reporting(req, ProgressFile(w / "progress.json"))
assert (out.status, out.sha256) == ("succeeded", {state.sha256!r}), out
"""
    worker = _loaded_after(code)
    assert not {"hashlib", "_hashlib", "ssl"} & worker


def test_a_fingerprint_is_only_given_for_the_bytes_it_hashed(tmp_path: Path) -> None:
    """A file that changes while it is hashed gets no digest from the service (the worker hashes what it reads)."""
    from aimport.importing import filestate

    src = tmp_path / "a.txt"
    src.write_bytes(b"x" * 1000)
    before = filestate.identity(src)
    assert before is not None
    src.write_bytes(b"y" * 1001)
    assert filestate.sha256_matching(src, before) == ""
    now = filestate.identity(src)
    assert now is not None
    assert filestate.sha256_matching(src, now) == hashlib.sha256(b"y" * 1001).hexdigest()
    assert filestate.sha256_matching(tmp_path / "gone.txt", now) == ""


def test_a_hash_without_the_identity_it_belongs_to_is_not_trusted(tmp_path: Path) -> None:
    """The worker uses a given sha256 only together with the identity the service hashed (``expect``); given alone
    it could belong to other bytes, and the .result would name a hash that is not the file's."""
    from aimport.importing.outcome import ImportRequest
    from aimport.importing.run import run_import

    src = tmp_path / "Skills.txt"
    src.write_bytes(b"\xef\xbb\xbfName\r\nSales\r\n")
    req = ImportRequest(path=src, import_type="Skills", import_key="k-2", store_address=tmp_path / "s.sqlite",
                        work_dir=tmp_path, actor="admin", sha256="0" * 64)
    out = run_import(req)
    assert (out.status, out.sha256) == ("succeeded", hashlib.sha256(src.read_bytes()).hexdigest())


# --- one rule for "is this the environment's fault?" (aimport/errors.py) ---------------------------------------

# errno names of disk trouble: only aimport.errors.cause_of reads them (and any set of errno names is a rule of
# its own: a module may compare one errno to say what happened, e.g. a port in use, never group them)
TROUBLE_ERRNOS = frozenset({"ENOSPC", "EDQUOT", "EROFS", "EIO", "ESTALE"})
# words of the messages a disk, a share or SQLite gives for its trouble: no module decides by an error's text
TROUBLE_WORDS = ("disk", "full", "space", "quota", "read-only", "readonly", "i/o", "locked", "busy", "unable to open")
# modules that may name a SQLite result code, and why (not to classify)
SQLITE_CODES_ALLOWED = {"aimport.faults": "raises an injected SQLITE_FULL error, as the driver sets it"}


def _except_names(tree: ast.AST) -> set[str]:
    return {h.name for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.name}


def _mentions_text_of(node: ast.AST, names: set[str]) -> bool:
    """``node`` reads the text of a caught exception: ``str(exc)``, ``exc.args``, ``exc.strerror`` ..."""
    for n in ast.walk(node):
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("str", "repr", "format")
                and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id in names):
            return True
        if isinstance(n, ast.Attribute) and n.attr in ("args", "strerror") and isinstance(n.value, ast.Name) \
                and n.value.id in names:
            return True
        if isinstance(n, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)
                                                and v.value.id in names for v in n.values):
            return True
    return False


def environment_decisions(path: Path, name: str) -> list[str]:
    """Where a module decides by itself whether an error is the environment's fault."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    caught = _except_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "errno" \
                and node.attr in TROUBLE_ERRNOS:
            found.append(f"line {node.lineno}: errno.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "errno":
            found.append(f"line {node.lineno}: from errno import ...")
        elif isinstance(node, (ast.Set, ast.Tuple, ast.List)) and any(
                isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "errno"
                for e in node.elts):
            found.append(f"line {node.lineno}: a set of errno names")
        elif isinstance(node, ast.Attribute) and name not in SQLITE_CODES_ALLOWED and (
                node.attr.startswith("SQLITE_") or node.attr == "sqlite_errorcode"):
            found.append(f"line {node.lineno}: {node.attr}")
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            left = node.left
            if isinstance(left, ast.Constant) and isinstance(left.value, str) and any(
                    w in left.value.lower() for w in TROUBLE_WORDS) and not all(
                    isinstance(c, (ast.Constant, ast.Set, ast.Tuple, ast.List)) for c in node.comparators):
                found.append(f"line {node.lineno}: {left.value!r} in a text")
            elif any(_mentions_text_of(c, caught) for c in node.comparators) and not (
                    isinstance(left, ast.Constant) and not any(w in str(left.value).lower() for w in TROUBLE_WORDS)):
                found.append(f"line {node.lineno}: matches a caught error's text")
    return found


def test_only_errors_py_decides_whether_trouble_is_the_environments() -> None:
    """One rule (aimport.errors.cause_of, by errno and SQLite result code): no other module names a trouble
    errno or a SQLite result code, or looks for "disk", "full", "locked" ... in an error's message."""
    offenders = {}
    for name, path in all_modules().items():
        if name == "aimport.errors":
            continue
        found = environment_decisions(path, name)
        if found:
            offenders[name] = found
    assert offenders == {}, "decide with aimport.errors.cause_of / environment_trouble instead:\n" + "\n".join(
        f"{m}: {', '.join(f)}" for m, f in sorted(offenders.items()))


def test_the_environment_check_finds_each_way_of_deciding(tmp_path: Path) -> None:
    code = '''
import errno, sqlite3
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
MINE = (errno.EACCES, errno.EPERM)
def f(exc):
    try:
        pass
    except sqlite3.OperationalError as exc:
        if "database or disk is full" in str(exc):
            return exc.sqlite_errorcode == sqlite3.SQLITE_FULL
        return any(m in str(exc).lower() for m in ("locked", "busy"))
    except OSError as err:
        return err.errno == errno.EIO or "read-only" in f"{err}"
def g(problem):
    return "no space" in problem.lower()
'''
    path = tmp_path / "m.py"
    path.write_text(code, encoding="utf-8")
    found = " ".join(environment_decisions(path, "m"))
    assert found.count("a set of errno names") == 2, found
    for what in ("errno.ENOSPC", "errno.EDQUOT", "errno.EIO", "'database or disk is full'", "sqlite_errorcode",
                 "SQLITE_FULL", "matches a caught error's text", "'read-only'",
                 "'no space'"):
        assert what in found, (what, found)
    path.write_text('import errno\ndef g(exc, path):\n    try:\n        pass\n    except OSError as exc:\n'
                    '        return exc.errno in (errno.EAGAIN,) and "x" in str(path) or exc.errno == errno.EACCES\n',
                    encoding="utf-8")
    assert environment_decisions(path, "m") == ["line 6: a set of errno names"]
    path.write_text('import errno\ndef g(exc, path):\n    try:\n        pass\n    except OSError as exc:\n'
                    '        return exc.errno == errno.EAGAIN or "x" in str(path) or exc.errno == errno.EACCES\n',
                    encoding="utf-8")
    assert environment_decisions(path, "m") == []


# --- durable writes through aimport/atomicfile.py ------------------------------------------------------------

# modules that rename a file that is not theirs to write: a user's file moved between the drop folders
MOVES = {
    "aimport.history": "the no-clobber move of an imported file into History/ (it flushes both folders itself)",
    "aimport.service.claims": "the claim: a dropped file renamed into InProcess/ after its claim record is durable",
    "aimport.service.oneshot": "aimport import: a file of the drop folder moved into InProcess/",
}
# modules that still write a file through a rename of their own; each is to move to aimport.atomicfile
NOT_MOVED_YET: dict[str, str] = {}


def renames_and_flushes(path: Path) -> list[str]:
    """Calls that rename a file into place or flush one: ``os.replace/rename/renames``, ``Path.replace/rename``
    (one argument: ``str.replace`` takes two), ``shutil.move``, ``os.fsync/fdatasync``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        attr, owner = node.func.attr, node.func.value
        module = owner.id if isinstance(owner, ast.Name) and owner.id in ("os", "shutil") else ""
        if module:
            hit = attr in (("replace", "rename", "renames", "fsync", "fdatasync") if module == "os" else ("move",))
        else:  # a path's method
            hit = attr in ("replace", "rename") and len(node.args) == 1 and not node.keywords
        if hit:
            found.append(f"line {node.lineno}: {module or '<path>'}.{attr}")
    return found


def test_files_are_written_into_place_only_through_atomicfile() -> None:
    """A file aimport writes is renamed into place and flushed (file and folder) by aimport.atomicfile only, so
    every such file survives a power loss whole; moving a user's file between folders is declared in MOVES."""
    offenders = {}
    for name, path in all_modules().items():
        if name == "aimport.atomicfile" or name in MOVES or name in NOT_MOVED_YET:
            continue
        found = renames_and_flushes(path)
        if found:
            offenders[name] = found
    assert offenders == {}, "write through aimport.atomicfile (or declare a move of a user's file in MOVES):\n" + \
        "\n".join(f"{m}: {', '.join(f)}" for m, f in sorted(offenders.items()))
    for name in {**MOVES, **NOT_MOVED_YET}:
        assert renames_and_flushes(all_modules()[name]), f"{name} renames nothing any more: remove it from the list"
    history = all_modules()["aimport.history"].read_text(encoding="utf-8")
    assert "sync(dest_dir, directory=True)" in history and "sync(src.parent, directory=True)" in history


def classes_named_for_other_modules(root: Path = PACKAGE) -> list[str]:
    """Each class ``Foo`` whose name is that of a module ``foo.py`` (or ``foos.py``) elsewhere in the package: a
    reader who meets ``Foo`` opens ``foo.py`` and does not find it there."""
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    stems: dict[str, set[Path]] = {}
    for p in files:
        stems.setdefault(p.stem.replace("_", ""), set()).add(p)
    found = []
    for p in files:
        for node in ast.parse(p.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.ClassDef):
                continue
            homes = stems.get(node.name.lower(), set()) | stems.get(node.name.lower() + "s", set())
            if homes and p not in homes:
                where = ", ".join(str(h.relative_to(root.parent)) for h in sorted(homes))
                found.append(f"{p.relative_to(root.parent)}: class {node.name} (a reader looks in {where})")
    return found


def test_no_module_defines_a_class_named_for_another_module() -> None:
    assert classes_named_for_other_modules() == []


def test_the_class_name_check_finds_a_misplaced_class(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "stagehelper.py").write_text("def serve() -> None: ...\n")
    (pkg / "sub" / "writer.py").write_text("class StageHelper:\n    pass\n")
    (pkg / "heldfiles.py").write_text("class HeldFile:\n    pass\n")
    assert classes_named_for_other_modules(pkg) == [
        "pkg/sub/writer.py: class StageHelper (a reader looks in pkg/stagehelper.py)"]
