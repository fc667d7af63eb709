"""The import graph, read from the source files' syntax trees.

* ``derivations`` (SymPy) never imports ``checks`` (torch);
* only modules under ``checks.app`` (the CLI, the report, the studies) import ``checks.app``,
  besides the tests;
* no module, tests included, uses another module's private names (``from m import _x``,
  ``m._x``), nor a private module (``_m``) from outside the package that holds it;
* importing ``derivations``, ``checks`` and the CLI builds no derivation and imports no torch;
  registering the checks builds no derivation either.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from derivations.core import config

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("derivations", "checks", "tests", "benchmarks")

# Uses of private names that the code in question still has, by file and name. Every other
# file is clean; an entry here is a known defect, and the test fails once it is gone, so
# that the list only shrinks.
ALLOWED_PRIVATE: dict[str, set[str]] = {
    # The cache's own tests reach its internals (the sentinel, the build guard, the catalog memo).
    "tests/test_cache.py": {"derivations.core.cache._MISS", "derivations.core.cache._building",
                            "derivations.core.cache._current_catalog", "derivations.core.cache._version_files",
                            "derivations.core.registry._lambdified"},
}

# Derivations that registering the checks (``checks.load()``) still builds at import, by
# the file that builds them; same rule as above.
BUILT_AT_REGISTRATION: dict[str, set[str]] = {}


@dataclass(frozen=True)
class Import:
    """One name a module takes from another: ``module`` (dotted) and ``name`` (None: the module itself)."""

    module: str
    name: str | None
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    """Every scanned module by dotted name."""
    return {module_name(p): p for top in SCANNED for p in sorted((ROOT / top).rglob("*.py"))}


MODULES = source_files()


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module of ``from ... import`` (relative imports resolved against ``module``)."""
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = resolve(module, node)
            for alias in node.names:
                dotted = f"{source}.{alias.name}"
                found.append(Import(dotted, None, node.lineno) if dotted in MODULES
                             else Import(source, alias.name, node.lineno))
    return found


def module_aliases(module: str) -> dict[str, str]:
    """Local names bound to project modules: ``import a.b as m``, ``from a import b`` (b a module), ``import a``."""
    tree = ast.parse(MODULES[module].read_text())
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            source = resolve(module, node)
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULES:
                    bound[alias.asname or alias.name] = f"{source}.{alias.name}"
    return {name: target for name, target in bound.items() if target in MODULES}


def dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"]; None for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def private_uses(module: str) -> list[tuple[int, str]]:
    """(line, name) of every private name this module takes from another project module."""
    uses = []
    for imp in imports(module):
        if imp.module not in MODULES and imp.module.partition(".")[0] not in SCANNED:
            continue  # third-party and standard library: not ours to police
        if imp.name is not None and is_private(imp.name) and imp.module != module:
            uses.append((imp.line, f"{imp.module}.{imp.name}"))
        if not private_module_reachable(module, imp.module):
            uses.append((imp.line, imp.module))
    aliases = module_aliases(module)
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        parts = dotted(node) if isinstance(node, ast.Attribute) else None
        if not parts or parts[0] not in aliases:
            continue
        target = aliases[parts[0]]
        for attr in parts[1:]:
            if f"{target}.{attr}" in MODULES:
                target = f"{target}.{attr}"
                continue
            if is_private(attr) and target != module:
                uses.append((node.lineno, f"{target}.{attr}"))
            break
    return sorted(set(uses))


def private_module_reachable(importer: str, imported: str) -> bool:
    """A private module (``pkg._m``) is for the modules of ``pkg`` only."""
    parts = imported.split(".")
    for i, part in enumerate(parts):
        if is_private(part):
            package = ".".join(parts[:i])
            if not (importer == package or importer.startswith(package + ".")):
                return False
    return True


def relative(module: str) -> str:
    return str(MODULES[module].relative_to(ROOT))


def test_derivations_never_import_checks():
    offenders = [(relative(m), i.line) for m in MODULES if m.partition(".")[0] == "derivations"
                 for i in imports(m) if i.module.partition(".")[0] == "checks"]
    assert not offenders, f"derivations import checks: {offenders}"


def test_only_the_app_imports_the_app():
    offenders = [(relative(m), i.line) for m in MODULES
                 if not (m == "checks.app" or m.startswith("checks.app.") or m.partition(".")[0] == "tests")
                 for i in imports(m) if i.module == "checks.app" or i.module.startswith("checks.app.")]
    assert not offenders, f"checks.app imported from outside it: {offenders}"


def test_no_private_names_across_modules():
    found = {relative(m): {name for _, name in private_uses(m)} for m in MODULES}
    found = {path: names for path, names in found.items() if names}
    unexpected = {path: names - ALLOWED_PRIVATE.get(path, set()) for path, names in found.items()}
    unexpected = {path: sorted(names) for path, names in unexpected.items() if names}
    assert not unexpected, f"private names used across modules: {unexpected}"
    fixed = {path: sorted(names - found.get(path, set())) for path, names in ALLOWED_PRIVATE.items()}
    fixed = {path: names for path, names in fixed.items() if names}
    assert not fixed, f"fixed: remove from ALLOWED_PRIVATE: {fixed}"


def test_the_scanner_sees_private_uses(tmp_path, monkeypatch):
    """The rule can fail: a planted ``from m import _x`` and ``m._x`` are both reported."""
    monkeypatch.setitem(MODULES, "checks.planted", tmp_path / "planted.py")
    (tmp_path / "planted.py").write_text("from checks.core.stats import _hidden\nfrom checks.core import stats\n"
                                         "x = stats._other\nimport checks.app.commands._options\n")
    assert {name for _, name in private_uses("checks.planted")} == {
        "checks.core.stats._hidden", "checks.core.stats._other", "checks.app.commands._options"}


def _fresh(code: str, cache_folder: Path | None = None) -> subprocess.CompletedProcess:
    """``code`` in a new interpreter; with ``cache_folder``, an empty derivation cache there (a warm
    cache would hide a derivation that a cold process runs)."""
    env = dict(os.environ, **({config.CACHE: str(cache_folder)} if cache_folder else {}))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env=env)


def test_importing_the_packages_and_the_cli_derives_nothing_and_imports_no_torch():
    result = _fresh(
        "import sys; import derivations, checks, checks.app.cli\n"
        "checks.app.cli.build_parser()  # discovers every command module\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print(sorted(d.id for d in derivations.all() if 'body' in vars(d)))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"derivations built at import: {result.stdout}"


def test_registering_the_checks_derives_nothing(tmp_path):
    result = _fresh("import derivations, checks; checks.load()\n"
                    "print(' '.join(sorted(d.id for d in derivations.all() if 'body' in vars(d))))", tmp_path)
    assert result.returncode == 0, result.stderr
    built = set(result.stdout.split())
    allowed = set().union(*BUILT_AT_REGISTRATION.values())
    assert built <= allowed, f"derivations built when the checks register: {sorted(built - allowed)}"
    assert allowed <= built, f"no longer built: remove from BUILT_AT_REGISTRATION: {sorted(allowed - built)}"


def test_docstrings_with_latex_are_raw_strings():
    r"""A non-raw docstring turns ``\beta`` into a backspace and ``\to`` into a tab: the math it shows is lost."""
    import ast

    control = "".join(map(chr, (7, 8, 11, 12)))  # bell, backspace, vertical tab, form feed
    found = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if any(c in node.value for c in control) or (":math:`" in node.value and "\t" in node.value):
                    found.append(f"{path}:{node.lineno}")
    assert not found, f"strings with control characters from unescaped LaTeX: {found}"
