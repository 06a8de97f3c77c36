"""The direction of knowledge: perception and symbolic never know each other, no package imports in a
circle, and only the command line knows its commands.

Every import counts, wherever it is written: at module level, inside a function, or as
``importlib.import_module("literal")``. A function-local import delays an import; it does not remove
the dependency, so it cannot hide a cycle.
"""
import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("perception", "symbolic", "bridge")

FORBIDDEN = {
    "perception": {"symbolic", "bridge"},
    "symbolic": {"torch", "torchvision", "perception", "bridge"},
}

COMMANDS = "bridge.commands"
ENTRY_POINTS = {"bridge.cli", "bridge.__main__"}  # the command line: the only modules outside COMMANDS that may use it


# -- reading imports ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Import:
    """One import statement: what it imports, where, and inside which function (None at module level)."""

    target: str
    line: int
    function: str | None = None

    def where(self, path: Path) -> str:
        inside = f", inside {self.function}()" if self.function else ""
        return f"{path}:{self.line}{inside}"


def find_modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Every module of ``packages`` under ``root`` by dotted name (a package by its ``__init__.py``)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, known) -> str:
    """``name`` cut to the longest prefix that is a known module; names outside ``known`` stay as written."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return name


def _literal_module(call: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("x")`` / ``__import__("x")``; for an f-string, the package
    named by its constant head (``f"bridge.commands.{name}"`` -> ``bridge.commands``)."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
        head = str(first.values[0].value).rsplit(".", 1)[0]
        return head or None
    return None


def imports_in(path: Path, module: str, known=frozenset()) -> list[Import]:
    """Every import in one file, resolved to dotted module names.

    Relative imports are resolved against ``module`` (``path`` being a package's ``__init__.py`` makes
    ``module`` the package itself); ``from pkg import name`` imports ``pkg.name`` when that is a known
    module, else ``pkg``. Importing ``a.b.c`` is an import of ``a.b.c`` only: the parents it runs first
    are not counted, so a package's ``__init__`` that re-exports its submodules makes no cycle.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    found = []

    def visit(node, scope, in_function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = f"{scope}.{node.name}" if scope else node.name
            in_function = in_function or not isinstance(node, ast.ClassDef)
        function = scope if in_function else None
        if isinstance(node, ast.Import):
            found.extend(Import(_resolve(alias.name, known), node.lineno, function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and node.level - 1 >= len(parts):  # no package known, or above the top one
                base = "." * node.level + (node.module or "")
            elif node.level:
                base = ".".join(parts[:len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                target = candidate if candidate in known else _resolve(base, known)
                found.append(Import(target, node.lineno, function))
        elif isinstance(node, ast.Call):
            literal = _literal_module(node)
            if literal:
                found.append(Import(_resolve(literal, known), node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, scope, in_function)

    visit(tree, "", False)
    return found


def imported_modules(path: Path) -> set[str]:
    """The top-level packages a file imports, absolute imports only (relative ones stay inside a package)."""
    return {i.target.split(".")[0] for i in imports_in(path, "") if not i.target.startswith(".")} - {""}


def import_graph(root: Path, packages=PACKAGES) -> tuple[dict[str, Path], dict[str, dict[str, list[Import]]]]:
    """The modules of ``packages`` and, per module, the known modules it imports with the import statements."""
    modules = find_modules(root, packages)
    graph = {}
    for name, path in modules.items():
        edges = {}
        for found in imports_in(path, name, modules):
            if found.target in modules and found.target != name and found not in edges.get(found.target, []):
                edges.setdefault(found.target, []).append(found)  # `from m import a, b` is one import of m
        graph[name] = edges
    return modules, graph


def strongly_connected_components(graph) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that reach each other, each sorted, groups in order."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                connect(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(components)


def elementary_cycles(graph, component, limit=20) -> list[list[str]]:
    """The simple cycles inside one strongly connected ``component``, each as a chain that starts and ends
    at its smallest module (at most ``limit``: a tangle needs no longer list to be seen)."""
    members, cycles = set(component), []

    def extend(path, start):
        for successor in sorted(graph[path[-1]]):
            if len(cycles) >= limit:
                return
            if successor == start:
                cycles.append(path + [start])
            elif successor in members and successor > start and successor not in path:
                extend(path + [successor], start)

    for start in component:
        extend([start], start)
    return cycles


def import_cycles(graph) -> list[list[list[str]]]:
    """Per group of modules that import each other in a circle, its cycles as chains of module names,
    e.g. ``[[["a", "b", "a"]], [["c", "d", "e", "c"], ["c", "e", "c"]]]``."""
    return [elementary_cycles(graph, component)
            for component in strongly_connected_components(graph) if len(component) > 1]


def describe_cycles(modules, graph, groups, root: Path = ROOT) -> str:
    """Each cycle as a chain, then each import along the group's cycles with its file, line and function."""
    lines = []
    for cycles in groups:
        lines += [" -> ".join(chain) for chain in cycles]
        edges = sorted({edge for chain in cycles for edge in zip(chain, chain[1:])})
        for source, target in edges:
            for found in graph[source][target]:
                lines.append(f"    {source} imports {target} at {found.where(modules[source].relative_to(root))}")
    return "\n".join(lines)


# -- the rules ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_never_imports_forbidden_packages(package):
    offenders = []
    modules = find_modules(ROOT, [package])
    for name, path in modules.items():
        for found in imports_in(path, name, modules):
            if found.target.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{found.where(path.relative_to(ROOT))} imports {found.target}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("package, forbidden", [
    ("symbolic", ("torch", "torchvision", "perception", "bridge")),
    ("perception", ("symbolic", "bridge")),
])
def test_importing_every_module_of_a_package_loads_nothing_forbidden(package, forbidden):
    """Importing every module must not load what the package may not know (a dependency's import counts too)."""
    modules = [name for name in find_modules(ROOT, [package]) if not name.endswith("__main__")]
    code = ("import sys, importlib\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            f"loaded = sorted(name for name in {forbidden!r} if name in sys.modules)\n"
            f"assert not loaded, f'importing {package} loaded {{loaded}}'\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_import_cycles_inside_the_packages():
    """Each cycle is printed as a chain of modules with the line of every import that closes it."""
    modules, graph = import_graph(ROOT)
    groups = import_cycles(graph)
    assert not groups, (f"{len(groups)} group(s) of modules import each other in a circle:\n"
                        + describe_cycles(modules, graph, groups))


def test_library_modules_never_import_the_commands():
    """Commands wire the library to the command line; the library must not depend on them."""
    modules = find_modules(ROOT)
    offenders = []
    for name, path in modules.items():
        if name == COMMANDS or name.startswith(COMMANDS + ".") or name in ENTRY_POINTS:
            continue
        for found in imports_in(path, name, modules):
            if found.target == COMMANDS or found.target.startswith(COMMANDS + "."):
                offenders.append(f"{name} imports {found.target} at {found.where(path.relative_to(ROOT))}")
    assert not offenders, "\n".join(offenders)


# -- the checkers check ------------------------------------------------------------------------------

def test_the_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from symbolic.reasoning.facts import Fact\nimport torch.nn as nn\n\n"
                   "def later():\n    import bridge.pipeline\n    return importlib.import_module('perception.model')\n")
    assert imported_modules(bad) == {"symbolic", "torch", "bridge", "perception"}
    later = [i for i in imports_in(bad, "") if i.function == "later"]
    assert [(i.target, i.line) for i in later] == [("bridge.pipeline", 5), ("perception.model", 6)]


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_imports_resolve_relative_and_from_package_forms(tmp_path):
    root = write_package(tmp_path, {
        "pkg/__init__.py": "from .a import thing\n",
        "pkg/a.py": "thing = 1\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/b.py": ("from .. import a\nfrom ..a import thing\nfrom . import c\nfrom pkg import sub\n"
                         "import pkg.sub.c as c2\nfrom pkg.sub.c import name\nimport os.path\n"
                         "importlib.import_module(f'pkg.sub.{name}')\n"),
        "pkg/sub/c.py": "name = 'c'\n",
    })
    modules = find_modules(root, ["pkg"])
    assert sorted(modules) == ["pkg", "pkg.a", "pkg.sub", "pkg.sub.b", "pkg.sub.c"]
    assert [i.target for i in imports_in(modules["pkg"], "pkg", modules)] == ["pkg.a"]
    assert [i.target for i in imports_in(modules["pkg.sub.b"], "pkg.sub.b", modules)] == [
        "pkg.a", "pkg.a", "pkg.sub.c", "pkg.sub", "pkg.sub.c", "pkg.sub.c", "os.path", "pkg.sub"]


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function(tmp_path):
    root = write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "from pkg import c\n",
        "pkg/c.py": "def late():\n    from . import a\n    return a\n",
        "pkg/d.py": "import pkg.a\n",   # depends on the cycle but is not part of it
    })
    modules, graph = import_graph(root, ["pkg"])
    groups = import_cycles(graph)
    assert groups == [[["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]]
    assert graph["pkg.c"]["pkg.a"] == [Import("pkg.a", 2, "late")]
    report = describe_cycles(modules, graph, groups, root).splitlines()
    assert report[0] == "pkg.a -> pkg.b -> pkg.c -> pkg.a"
    assert "    pkg.c imports pkg.a at pkg/c.py:2, inside late()" in report


def test_the_cycle_finder_passes_a_package_without_a_cycle(tmp_path):
    root = write_package(tmp_path, {
        "pkg/__init__.py": "from pkg.a import x\nfrom pkg.b import y\n",   # re-exports make no cycle
        "pkg/a.py": "x = 1\n",
        "pkg/b.py": "from pkg import a\n\ndef f():\n    from pkg.a import x\n    return x\n",
    })
    _, graph = import_graph(root, ["pkg"])
    assert graph["pkg.b"] == {"pkg.a": [Import("pkg.a", 1), Import("pkg.a", 4, "f")]}
    assert import_cycles(graph) == []


def test_a_tangle_of_cycles_is_one_group_listing_each_cycle_once():
    graph = {"m": {"t": []}, "t": {"d": [], "m": []}, "d": {"i": []}, "i": {"m": []}, "x": {"m": []},
             "y": {"z": []}, "z": {"y": []}}
    assert strongly_connected_components(graph) == [["d", "i", "m", "t"], ["x"], ["y", "z"]]
    assert import_cycles(graph) == [[["d", "i", "m", "t", "d"], ["m", "t", "m"]], [["y", "z", "y"]]]
