r"""Built derivations kept on disk, so that no process derives what an earlier one derived.

A derivation's *parts* are stored per id: ``body`` (steps, results, claims, wrong variants),
``verdicts`` (the proof of every step and claim) and ``function.NAME.BACKEND`` (a lambdified
closed form, kept as its generated source so that it loads without SymPy). Parts are filled
lazily, by :class:`~derivations.core.registry.Derivation` on first use, and all at once by
``diffverify build``. :func:`memo` keeps any other value computed from derivations (a rendered
page, the compiled step maps of the exact W2 table) under the same rules.

**Key.** A derivation's key is the SHA-256 of

* the cache format, Python's version and the installed SymPy and mpmath (their version files);
* the source of every module of ``derivations/`` the derivation depends on: its own module, what
  that module imports (transitively, packages' ``__init__`` included), and the modules that define
  the derivation ids named as string literals in those sources (``get("ddpm.posterior")``), again
  transitively. The notation, the proof tiers and the registry are imported by every family, so an
  edit to any of them changes every key;
* the id.

A build that reaches a derivation the sources do not name (an id built at run time) is not
stored: it could not be keyed soundly. A test asserts that no derivation does this.

**Files.** the cache folder of :func:`derivations.core.config.cache_dir`, then
``derivations/v<FORMAT>/``: ``catalog-<digest>.pickle`` (every id's metadata and every module's
key, for one state of the sources, so that ``diffverify list`` imports no family),
``<id>/<key>.<part>.pickle`` and ``memo/<name>-<key>.pickle``. Each file is a magic line, the
SHA-256 of the payload and the payload (a pickle), written to a temporary file in the same folder
and renamed over the entry (``os.replace``): a reader sees a whole entry or none. A truncated,
corrupt or unreadable entry is a miss, rebuilt and rewritten without a word; an entry of other
sources has another name and is never read (``diffverify build`` prunes them).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from derivations.core.keyed import UnknownId

from derivations.core import config

if TYPE_CHECKING:
    import ast

    from derivations.core.registry import Derivation

FORMAT = 1
MAGIC = b"diffverify cache\n"
PACKAGE = "derivations"
ROOT = Path(__file__).resolve().parents[1]  # the derivations package

T = TypeVar("T")
_MISS = object()


# --------------------------------------------------------------------------
# Where, and how an entry is read and written
# --------------------------------------------------------------------------

def folder() -> Path:
    """The cache folder (:func:`derivations.core.config.cache_dir`)."""
    return config.cache_dir()


def _base() -> Path:
    return folder() / "derivations" / f"v{FORMAT}"


def read(path: Path) -> Any:
    """The value stored at ``path``, or ``_MISS`` when absent, truncated, corrupt or unreadable."""
    try:
        data = path.read_bytes()
    except OSError:
        return _MISS
    head = len(MAGIC) + 32
    if len(data) < head or not data.startswith(MAGIC):
        return _MISS
    payload = data[head:]
    if hashlib.sha256(payload).digest() != data[len(MAGIC):head]:
        return _MISS
    try:
        return pickle.loads(payload)
    except Exception:  # a class that moved, a module that is gone: the entry is stale, rebuild it
        return _MISS


def write(path: Path, value: Any) -> bool:
    """Store ``value`` at ``path`` atomically; False (and nothing written) when it cannot be pickled
    or the folder is not writable: the cache only ever saves time."""
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return False
    payload = buffer.getvalue()
    import tempfile

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as f:
            f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return False


class _Pickler(pickle.Pickler):
    """Pickles a SymPy node as its class and arguments, to be rebuilt as it was (:func:`_rebuild`)."""

    def reducer_override(self, obj: Any) -> Any:
        sympy = sys.modules.get("sympy")
        if sympy is None or not isinstance(obj, sympy.Basic) or not obj.args:
            return NotImplemented
        cls = type(obj)
        if cls.__getnewargs__ is not sympy.Basic.__getnewargs__ or cls.__getstate__ is not sympy.Basic.__getstate__:
            return NotImplemented  # a class with state beyond its arguments pickles its own way
        return _rebuild, (cls, obj.args)


def _rebuild(cls: type, args: tuple) -> Any:
    """A SymPy node from its class and arguments, not evaluated again. SymPy's own pickles call
    ``cls(*args)``, which evaluates: a product kept as ``(x**2 + 1)/2`` would come back as
    ``x**2/2 + 1/2``, equal in value but not the expression that was derived (nor printed)."""
    from sympy import Pow
    from sympy.core.function import Application
    from sympy.core.operations import AssocOp
    from sympy.core.relational import Relational

    if issubclass(cls, AssocOp):
        return cls._from_args(args)
    if issubclass(cls, (Pow, Application, Relational)):
        return cls(*args, evaluate=False)
    return cls(*args)


# --------------------------------------------------------------------------
# Keys: the sources, the environment, the module graph
# --------------------------------------------------------------------------

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=None)
def environment() -> str:
    """What besides the sources changes a derivation: the format, Python, SymPy and mpmath.
    SymPy's and mpmath's version files are read, not imported (``list`` imports neither)."""
    parts = [f"format {FORMAT}", f"python {sys.version_info[0]}.{sys.version_info[1]}"]
    for package, path in _version_files().items():
        try:
            parts.append(f"{package} {_sha(path.read_bytes()) if path else 'absent'}")
        except OSError:
            parts.append(f"{package} unreadable")
    return _sha("\n".join(parts).encode())


def _version_files() -> dict[str, Path | None]:
    """The file of SymPy and of mpmath that holds its version (None where not installed)."""
    out = {}
    for package, version_file in (("sympy", "release.py"), ("mpmath", "__init__.py")):
        spec = importlib.util.find_spec(package)
        out[package] = Path(spec.origin).parent / version_file if spec and spec.origin else None
    return out


def module_name(path: Path, root: Path = ROOT, package: str = PACKAGE) -> str:
    """``derivations/core/notation.py`` -> ``derivations.core.notation``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


@functools.lru_cache(maxsize=None)
def tree_files(folder_path: Path) -> tuple[Path, ...]:
    """Every source file under ``folder_path`` (compiled files excluded), sorted."""
    return tuple(sorted(p for p in folder_path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                        and not p.name.endswith((".pyc", ".pyo")) and not p.name.startswith(".")))


@functools.lru_cache(maxsize=None)
def file_digest(path: Path) -> str:
    return _sha(path.read_bytes())


def files_digest(paths: Iterable[Path]) -> str:
    """One digest of several files' names and contents."""
    return _sha("\n".join(f"{p.name} {file_digest(p)}" for p in paths).encode())


@functools.lru_cache(maxsize=1)
def sources() -> dict[str, bytes]:
    """The derivations package as read now: module name -> source; other files by relative path."""
    out = {}
    for path in tree_files(ROOT):
        name = module_name(path) if path.suffix == ".py" else f"file:{path.relative_to(ROOT).as_posix()}"
        out[name] = path.read_bytes()
    return out


def digest(source_files: dict[str, bytes]) -> str:
    """The state of every source: keys the catalog."""
    lines = [environment()] + [f"{name} {_sha(data)}" for name, data in sorted(source_files.items())]
    return _sha("\n".join(lines).encode())


def _imports(name: str, tree: ast.AST, modules: set[str]) -> set[str]:
    """The modules of the package that ``name``'s source imports (anywhere in the file)."""
    import ast

    package = name if name in modules and _is_package(name, modules) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            # The target and every package above it run on import.
            found.update(m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in modules)
    return found | _discovered(tree, found, modules)


def _discovered(tree: ast.AST, imported: set[str], modules: set[str]) -> set[str]:
    """The modules of a package that ``tree`` imports on import by iterating over its ``__path__`` (the
    catalogue's schemes): a statement at module level naming ``pkg.__path__`` of an imported package."""
    import ast

    found: set[str] = set()
    run_on_import = (s for s in getattr(tree, "body", ())
                     if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
    for statement in run_on_import:
        for node in ast.walk(statement):
            if isinstance(node, ast.Attribute) and node.attr == "__path__" and isinstance(node.value, ast.Name):
                for package in (m for m in imported if m.rpartition(".")[2] == node.value.id):
                    found.update(m for m in modules if m.startswith(package + "."))
    return found


def _is_package(name: str, modules: set[str]) -> bool:
    return any(m.startswith(name + ".") for m in modules)


def _literals(tree: ast.AST) -> set[str]:
    import ast

    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def module_closures(source_files: dict[str, bytes], module_of: dict[str, str]) -> dict[str, frozenset[str]]:
    """For each module, the modules its derivations depend on: itself, what it imports, and the modules
    of the derivation ids it names, transitively. ``module_of`` maps each id to its module."""
    import ast

    modules = {n for n in source_files if not n.startswith("file:")}
    edges: dict[str, set[str]] = {}
    for name in modules:
        tree = ast.parse(source_files[name])
        named = {module_of[s] for s in _literals(tree) if s in module_of}
        edges[name] = (_imports(name, tree, modules) | named) - {name}
    closures = {}
    for name in modules:
        closure, stack = {name}, [name]
        while stack:
            for dep in edges[stack.pop()]:
                if dep not in closure:
                    closure.add(dep)
                    stack.append(dep)
        closures[name] = frozenset(closure)
    return closures


def module_key(closure: Iterable[str], source_files: dict[str, bytes]) -> str:
    """The environment and the sources of the modules in ``closure`` (and every data file)."""
    names = sorted(set(closure) | {n for n in source_files if n.startswith("file:")})
    return _sha("\n".join([environment()] + [f"{n} {_sha(source_files[n])}" for n in names]).encode())


# --------------------------------------------------------------------------
# The catalog: every id's metadata and key, without importing a family
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    """A derivation's metadata as ``diffverify list`` shows it; no SymPy needed."""

    id: str
    title: str
    statement: str
    assumptions: tuple[str, ...]
    references: tuple[str, ...]
    declared_tier: str
    module: str


@dataclass(frozen=True)
class Catalog:
    """Every id's metadata, and every module's closure and key, for one state of the sources."""

    summaries: dict[str, Summary]
    closures: dict[str, frozenset[str]]
    module_keys: dict[str, str]

    def key(self, derivation_id: str) -> str:
        return _sha(f"{self.module_keys[self.summaries[derivation_id].module]} {derivation_id}".encode())

    def covered_ids(self, derivation_id: str) -> set[str]:
        """The ids whose modules the derivation's key covers."""
        closure = self.closures[self.summaries[derivation_id].module]
        return {s.id for s in self.summaries.values() if s.module in closure}


def catalog() -> Catalog | None:
    """Every registered id with its metadata and key, for the sources as they are now; read from the
    cache, else built (importing every family, running no derivation) and stored; once per process.
    None while the families are being imported (the registry is incomplete then)."""
    import derivations

    if derivations.loading():
        return None
    return _current_catalog()


@functools.lru_cache(maxsize=1)
def _current_catalog() -> Catalog:
    stored = stored_catalog()
    if stored is not None:
        return stored
    source_files = sources()
    import derivations

    derivations.load()
    summaries = {d.id: Summary(d.id, d.title, d.statement, d.assumptions, d.references, d.declared_tier.value,
                               d.module) for d in derivations.all()}
    closures = module_closures(source_files, {s.id: s.module for s in summaries.values()})
    built = Catalog(summaries, closures, {m: module_key(c, source_files) for m, c in closures.items()})
    write(_catalog_path(), built)
    return built


def stored_catalog() -> Catalog | None:
    """The catalog for the sources as they are now if the cache holds it, else None (builds nothing)."""
    stored = read(_catalog_path())
    return stored if isinstance(stored, Catalog) else None


def _catalog_path() -> Path:
    return _base() / f"catalog-{digest(sources())}.pickle"


def summaries() -> list[Summary]:
    """Every derivation's metadata, sorted by id."""
    entries = _catalog().summaries
    return [entries[k] for k in sorted(entries)]


def summary(derivation_id: str) -> Summary:
    """One derivation's metadata; :class:`UnknownId` (naming the closest ids) when not registered."""
    entries = _catalog().summaries
    if derivation_id not in entries:
        raise UnknownId("derivation", derivation_id, entries)
    return entries[derivation_id]


def _catalog() -> Catalog:
    found = catalog()
    if found is None:
        raise RuntimeError("the derivation catalog was asked for while the families are being imported")
    return found


def key(derivation_id: str) -> str | None:
    """The derivation's key, or None when it is not a registered id of the package's sources."""
    found = catalog()
    if found is None or derivation_id not in found.summaries:
        return None
    return found.key(derivation_id)


def refresh() -> None:
    """Forget what this process read of the sources and the catalog (after a source changed)."""
    for cached in (_current_catalog, sources, tree_files, file_digest, environment):
        cached.cache_clear()


# --------------------------------------------------------------------------
# Parts of a derivation
# --------------------------------------------------------------------------

_bypass = False
# Ids reached (through registry.get) by each build in progress, innermost last.
_building: list[set[str]] = []


@contextlib.contextmanager
def bypassed() -> Iterator[None]:
    """Neither read nor write the cache inside the block: every part is computed afresh."""
    global _bypass
    previous, _bypass = _bypass, True
    try:
        yield
    finally:
        _bypass = previous


def note_access(derivation_id: str) -> None:
    """Called by ``registry.get``: a build in progress depends on ``derivation_id``."""
    if _building:
        _building[-1].add(derivation_id)


def part_path(derivation_id: str, derivation_key: str, part: str) -> Path:
    return _base() / derivation_id / f"{derivation_key}.{part}.pickle"


def _registered_key(derivation: "Derivation") -> str | None:
    """The key of a registered derivation of the package; None for one built elsewhere (a test's)."""
    if _bypass:
        return None
    found = catalog()
    if found is None:
        return None
    entry = found.summaries.get(derivation.id)
    if entry is None or entry.module != derivation.module:
        return None
    from derivations.core.registry import get

    if get(derivation.id) is not derivation:
        return None
    return found.key(derivation.id)


def lookup(derivation: "Derivation", part: str, compute: Callable[[], T]) -> T:
    """The stored ``part`` of ``derivation``, else ``compute()`` (stored when it can be keyed soundly)."""
    derivation_key = _registered_key(derivation)
    if derivation_key is None:
        return compute()
    path = part_path(derivation.id, derivation_key, part)
    stored = read(path)
    if stored is not _MISS:
        return stored
    _building.append(set())
    try:
        value = compute()
    finally:
        reached = _building.pop()
    if reached <= _catalog().covered_ids(derivation.id):
        write(path, value)
    return value


def function(derivation_id: str, name: str, backend: str = "numpy") -> Any:
    """The result ``name`` of ``derivation_id`` compiled for ``backend``: from the cache without
    importing SymPy or any family when it is there, else through the registry (and then stored)."""
    derivation_key = None if _bypass else key(derivation_id)
    if derivation_key is not None:
        stored = read(part_path(derivation_id, derivation_key, f"function.{name}.{backend}"))
        if stored is not _MISS:
            return stored
    import derivations

    return derivations.get(derivation_id).function(name, backend)


def memo(name: str, compute: Callable[[], T], derivation_ids: Iterable[str] = (), files: Iterable[Path] = ()) -> T:
    """``compute()``, kept on disk under ``name`` and a key made of the derivations' keys, the
    environment and the contents of ``files`` (the code that computes it). Unkeyable (an unknown
    id, or inside :func:`bypassed`): computed and not stored."""
    ids = tuple(derivation_ids)
    keys = [key(i) for i in ids] if not _bypass else [None]
    if any(k is None for k in keys):
        return compute()
    memo_key = _sha("\n".join([environment(), name, *keys, files_digest(files)]).encode())
    path = _base() / "memo" / f"{name}-{memo_key}.pickle"
    stored = read(path)
    if stored is not _MISS:
        with contextlib.suppress(OSError):
            os.utime(path)  # the newest entry of a name is the current one (see prune)
        return stored
    value = compute()
    write(path, value)
    return value


# --------------------------------------------------------------------------
# Compiled closed forms, stored as their generated source
# --------------------------------------------------------------------------

class Source:
    """A generated function kept as its source text and the globals it uses, so that it can be
    pickled, and rebuilt without the generator (SymPy's ``lambdify``)."""

    def __init__(self, text: str, name: str, namespace: dict[str, Any]):
        self.text, self.name, self.namespace = text, name, namespace

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> "Source":
        import inspect

        used = _names(fn.__code__)
        return cls(inspect.getsource(fn), fn.__name__, {n: fn.__globals__[n] for n in used if n in fn.__globals__})

    def function(self) -> Callable[..., Any]:
        scope = dict(self.namespace)
        exec(compile(self.text, f"<generated {self.name}>", "exec"), scope)  # noqa: S102 - code we generated
        return scope[self.name]


def _names(code: Any) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names(const)
    return names


class Compiled:
    """A closed form compiled once, called with keyword values by notation name.

    Extra keywords are ignored, so a caller can pass every schedule quantity it has and each
    closed form takes the ones it needs. Pickled as its source (:class:`Source`), so a stored copy
    loads without SymPy.
    """

    def __init__(self, fn: Callable[..., Any], arg_names: tuple[str, ...], backend: str, source: Source | None = None):
        self._fn, self.arg_names, self.backend = fn, tuple(arg_names), backend
        self._source = source  # kept when restored: a function built by exec has no source file to read back

    def __call__(self, **values: Any) -> Any:
        missing = [n for n in self.arg_names if n not in values]
        if missing:
            raise TypeError(f"closed form needs {', '.join(missing)}")
        return self._fn(*(values[n] for n in self.arg_names))

    def __reduce__(self) -> tuple:
        return _restore, (self._source or Source.of(self._fn), self.arg_names, self.backend)


def _restore(source: Source, arg_names: tuple[str, ...], backend: str) -> Compiled:
    return Compiled(source.function(), arg_names, backend, source)


# --------------------------------------------------------------------------
# Pruning
# --------------------------------------------------------------------------

def prune(older_than_s: float = 7 * 24 * 3600) -> int:
    """Delete entries the current sources do not name (older catalogs, parts under other keys or of
    removed ids, and for each memo name all but the newest) once they are ``older_than_s`` old; the
    count. The age spares a second checkout of other sources that shares the folder."""
    import time

    found = _catalog()
    base = _base()
    if not base.is_dir():
        return 0
    stale = [p for p in base.glob("catalog-*.pickle") if p.name != f"catalog-{digest(sources())}.pickle"]
    for folder_path in (p for p in base.iterdir() if p.is_dir() and p.name != "memo"):
        current = found.key(folder_path.name) if folder_path.name in found.summaries else None
        stale += [p for p in folder_path.iterdir() if current is None or not p.name.startswith(current + ".")]
    newest: dict[str, Path] = {}
    for path in sorted((base / "memo").glob("*.pickle"), key=lambda p: p.stat().st_mtime):
        name = path.name.rsplit("-", 1)[0]
        if name in newest:
            stale.append(newest[name])
        newest[name] = path
    cutoff = time.time() - older_than_s
    removed = 0
    for path in stale:
        with contextlib.suppress(OSError):
            if path.stat().st_mtime <= cutoff:
                path.unlink()
                removed += 1
    return removed
