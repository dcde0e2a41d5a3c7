"""The Python package's shape (CONVENTIONS 14a/14b): imports flow one way (no cycle, function-level imports
included), private names cross modules only from the modules that exist to share them, functions stay
under 80 lines, and the command line tools do not import torch."""

import ast
import subprocess
import sys
from pathlib import Path

import fastimg

PACKAGE = Path(fastimg.__file__).parent


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, ast.parse(path.read_text())


def _type_checking_only(tree):
    """Nodes under ``if TYPE_CHECKING:``: imports for annotations, not at run time."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def _imports(name, path, tree):
    """(module imported, names) for every run-time import of module ``name``, resolved to absolute names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            names = [a.name for a in node.names]
            if names == ["_core"]:  # the extension module, imported as a module
                yield f"{target}._core", []
                continue
            yield target, names
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def _graph():
    modules = {name: (path, tree) for name, path, tree in _modules()}
    edges = {}
    for name, (path, tree) in modules.items():
        deps = set()
        for target, names in _imports(name, path, tree):
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            for candidate in submodules or [target]:  # `from . import x` depends on x, not on the package
                if candidate in modules and candidate != name:
                    deps.add(candidate)
        edges[name] = deps
    return modules, edges


def test_no_import_cycles():
    _, edges = _graph()
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(edges[node]):
            # a package's __init__ importing its own submodules lazily is not a cycle through it
            if dep.startswith(node + ".") and node != "fastimg":
                continue
            if state.get(dep) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*stack, node, dep]))
            if dep not in state:
                visit(dep, [*stack, node])
        state[node] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [])


def test_private_names_cross_modules_only_from_shared_modules():
    modules, _ = _graph()
    offenders = []
    for name, (path, tree) in modules.items():
        for target, names in _imports(name, path, tree):
            if not target.startswith("fastimg") or target == "fastimg._core":
                continue
            shared = target.rpartition(".")[2].startswith("_")  # a module that exists to share its names
            private = [n for n in names if n.startswith("_") and n not in ("__version__",)]
            if private and not shared:
                offenders.append(f"{name} imports {private} from {target}")
    assert not offenders, offenders


def test_functions_are_at_most_80_lines():
    long = []
    for name, _, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 80:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert not long, long


def test_the_shard_writer_and_indexer_do_not_import_torch():
    code = "import sys, fastimg.__main__, fastimg.shards.writer, fastimg.shards.index; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
