"""Fault points are declared in one place: a misspelt one in the code or in a test's settings fails here.

A fault point that nothing declares would never fire, and the crash or disk test using it would
pass without testing anything; so every name the code passes to ``aimport.faults`` and every name
a test puts into ``AIMPORT_FAULT``, ``AIMPORT_PAUSE`` or ``AIMPORT_FAULT_OSERROR`` is checked
against the declared tuples (read from the source, so a new test file is checked too).
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from aimport import faults

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"point": faults.POINTS, "delay": faults.PAUSES, "oserror": faults.OS_ERRORS,
         "store_error": faults.STORE_ERRORS}


def calls_in_code(source: str) -> list[tuple[str, str | None, int]]:
    """``(function, name or None when not a literal, line)`` for each ``faults.<function>(...)`` call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in KINDS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "faults"):
            arg = node.args[0] if node.args else None
            name = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            found.append((node.func.attr, name, node.lineno))
    return found


def _module_values(tree: ast.Module) -> dict[str, ast.expr]:
    return {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}


def _param_values(fn: ast.FunctionDef | None, name: str) -> tuple[ast.expr, int, int] | None:
    """``pytest.mark.parametrize``'s values for the argument ``name`` of ``fn``: (the values, the argument's
    index, how many arguments); None when ``name`` is not parametrized."""
    for deco in fn.decorator_list if fn is not None else []:
        if not (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr == "parametrize"):
            continue
        names = [n.strip() for n in ast.literal_eval(deco.args[0]).split(",")]
        if name in names:
            return deco.args[1], names.index(name), len(names)
    return None


def strings(expr: ast.expr, fn: ast.FunctionDef | None, module: dict[str, ast.expr]) -> set[str]:
    """Every string ``expr`` can be in the test (constants, f-strings, parametrized and module-level names)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.JoinedStr):
        parts = [strings(v.value if isinstance(v, ast.FormattedValue) else v, fn, module) for v in expr.values]
        return {"".join(p) for p in itertools.product(*parts)}
    if isinstance(expr, (ast.List, ast.Tuple)):
        return set().union(*(strings(e, fn, module) for e in expr.elts))
    if isinstance(expr, ast.Name):
        params = _param_values(fn, expr.id)
        if params is not None:
            values, index, width = params
            if isinstance(values, ast.Name):
                values = module[values.id]
            assert isinstance(values, (ast.List, ast.Tuple)), ast.unparse(values)
            out: set[str] = set()
            for v in values.elts:
                out |= strings(v.elts[index] if width > 1 and isinstance(v, ast.Tuple) else v, None, module)
            return out
        if expr.id in module:
            return strings(module[expr.id], None, module)
    raise AssertionError(f"line {expr.lineno}: cannot tell which fault names {ast.unparse(expr)!r} holds; "
                         "use a literal, a parametrize value or a module-level constant")


def settings_in_tests(source: str) -> list[tuple[str, str, int]]:
    """``(variable, value, line)`` for each fault setting a test makes (``x.env[VAR] = v``, ``{VAR: v}``,
    ``setenv(VAR, v)``), with every value its names can take."""
    tree = ast.parse(source)
    module = _module_values(tree)
    found: list[tuple[str, str, int]] = []

    def note(key: ast.expr | None, value: ast.expr, fn: ast.FunctionDef | None) -> None:
        if isinstance(key, ast.Constant) and key.value in faults.SETTINGS:
            found.extend((key.value, s, value.lineno) for s in strings(value, fn, module))

    def visit(node: ast.AST, fn: ast.FunctionDef | None) -> None:
        if isinstance(node, ast.FunctionDef):
            fn = node
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Subscript):
                    note(t.slice, node.value, fn)
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                note(k, v, fn)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setenv" \
                and len(node.args) == 2:
            note(node.args[0], node.args[1], fn)
        for child in ast.iter_child_nodes(node):
            visit(child, fn)

    visit(tree, None)
    return found


def test_every_fault_name_in_the_code_is_declared() -> None:
    problems, seen = [], set()
    for path in sorted((ROOT / "aimport").rglob("*.py")):
        for kind, name, line in calls_in_code(path.read_text(encoding="utf-8")):
            where = f"{path.relative_to(ROOT)}:{line}"
            if name is None:
                problems.append(f"{where}: faults.{kind}() takes a literal name (so it can be checked)")
            elif name not in KINDS[kind]:
                problems.append(f"{where}: faults.{kind}({name!r}) is not declared in aimport.faults")
            seen.add(name)
    assert not problems, "\n".join(problems)
    declared = {n for names in KINDS.values() for n in names}
    assert declared <= seen, f"declared but never used: {sorted(declared - seen)}"


def test_every_fault_name_the_tests_set_is_declared() -> None:
    problems, count = [], 0
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for variable, value, line in settings_in_tests(path.read_text(encoding="utf-8")):
            count += 1
            for name in faults.undeclared(variable, value):
                problems.append(f"{path.relative_to(ROOT)}:{line}: {variable} names {name!r}, which is not declared "
                                "in aimport.faults")
    assert not problems, "\n".join(problems)
    assert count > 10  # the scan finds the crash, disk and race tests' settings


def test_a_misspelt_name_is_found() -> None:
    code = 'from aimport import faults\nfaults.point("after_comit")\nfaults.delay("before_claim")\n'
    assert [(k, n) for k, n, _ in calls_in_code(code)] == [("point", "after_comit"), ("delay", "before_claim")]
    test = '''
STEPS = ["after_claim", "mid_pars"]
@pytest.mark.parametrize("step, code", [("work_dir", "DISK_FULL"), ("stor", "X")])
def test_x(service, step, code):
    service.env["AIMPORT_FAULT_OSERROR"] = f"{step}:2"
    run(env={"AIMPORT_PAUSE": "before_comit:100"})
@pytest.mark.parametrize("s", STEPS)
def test_y(service, s):
    service.env["AIMPORT_FAULT"] = s
'''
    wrong = sorted(n for var, value, _ in settings_in_tests(test) for n in faults.undeclared(var, value))
    assert wrong == ["before_comit", "mid_pars", "stor"]


@pytest.mark.parametrize("call", [lambda: faults.point("after_comit"), lambda: faults.delay("after_commit"),
                                  lambda: faults.oserror("stor"), lambda: faults.store_error("archive")])
def test_an_undeclared_name_fails_at_the_call(call: object) -> None:
    with pytest.raises(AssertionError, match="undeclared"):
        call()  # type: ignore[operator]
