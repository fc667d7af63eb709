"""Verdicts of claims kept on disk: a claim checked once is answered again without SymPy.

``verify ddpm.posterior 'var = ...'`` spends most of its time importing SymPy (0.4 s of 0.6 s on an
idle machine), so a verdict is stored once computed, next to the derivation's cached parts
(:mod:`derivations.core.cache`), and a repeated check reads it back, importing neither SymPy nor
the derivation's family.

**Key.** The SHA-256 of the derivation's cache key (:func:`derivations.core.cache.key`: the sources it
depends on, Python, SymPy, mpmath, the notation), the sources of the claim checker (:data:`CHECKER`),
the format (plain or LaTeX), the claim and then each assumption in order. The texts are normalised
only where that cannot change their meaning: surrounding whitespace is stripped, nothing is
reordered.

**What is stored.** The :class:`~derivations.core.claim_syntax.Outcome` (verdict, tier,
counterexample point and both values, the assumptions as printed) and the text ``verify`` printed,
at ``<id>/<derivation key>.verdict-<digest>.pickle`` in the derivation cache's folder, with the
cache's atomic writes and checksums: a truncated or corrupt entry is a miss, checked afresh and
rewritten. A usage error is never stored. Entries under an older derivation key are pruned with
the derivation's other stale parts (:func:`derivations.core.cache.prune`).

**The whitelist still runs.** Before an entry is looked up, the claim and its assumptions pass
:func:`~derivations.core.claim_syntax.check_claim` and
:func:`~derivations.core.claim_syntax.check_assumption` on the raw text, with the derivation's
:class:`~derivations.core.claim_syntax.Vocabulary` (stored beside the verdicts, SymPy-free): a
hostile or malformed formula is refused exactly as when nothing is cached, before any entry is read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from derivations.core import cache
from derivations.core.claim_syntax import Outcome, Vocabulary, check_assumption, check_claim

if TYPE_CHECKING:
    from derivations.core.claims import Verdict

# The modules whose code decides a verdict or how it reads (the derivation's own key covers the rest).
CHECKER = ("derivations.core.claims", "derivations.core.claim_syntax", "derivations.core.claim_cache",
           "derivations.core.latex_input", "derivations.core.proof", "derivations.core.notation")


@dataclass(frozen=True)
class Request:
    """One claim to check: the derivation, ``'NAME = EXPR'``, the assumptions in order, the format."""

    derivation_id: str
    claim: str
    assume: tuple[str, ...] = ()
    latex: bool = False


@dataclass(frozen=True)
class Entry:
    """A stored verdict: the outcome, and the text ``verify ID 'NAME = EXPR'`` printed for it."""

    outcome: Outcome
    printed: str


def checker_digest() -> str:
    """The sources of :data:`CHECKER`, as the derivation cache read them."""
    sources = cache.sources()
    lines = [f"{m} {hashlib.sha256(sources.get(m, b'absent')).hexdigest()}" for m in CHECKER]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def request_digest(request: Request, derivation_key: str) -> str:
    """The entry's key (see the module docstring)."""
    fields = [derivation_key, checker_digest(), "latex" if request.latex else "plain", request.claim.strip(),
              *(a.strip() for a in request.assume)]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def verdict_path(request: Request, derivation_key: str) -> Path:
    return cache.part_path(request.derivation_id, derivation_key, f"verdict-{request_digest(request, derivation_key)}")


def vocabulary_path(derivation_id: str, derivation_key: str) -> Path:
    return cache.part_path(derivation_id, derivation_key, f"claim-vocabulary-{checker_digest()[:16]}")


def lookup(request: Request) -> Entry | None:
    """The stored verdict of ``request``, or None (nothing stored, an unreadable entry, an id the cache
    cannot key). The whitelist runs first, when the derivation's vocabulary is stored: a claim it
    refuses raises :class:`~derivations.core.claim_syntax.ClaimError` whatever the cache holds."""
    derivation_key = cache.key(request.derivation_id)
    if derivation_key is None:
        return None
    vocabulary = cache.read(vocabulary_path(request.derivation_id, derivation_key))
    if not isinstance(vocabulary, Vocabulary) or vocabulary.derivation_id != request.derivation_id:
        return None
    check_claim(vocabulary, request.claim, request.latex)
    for assumption in request.assume:
        check_assumption(vocabulary, assumption, request.latex)
    stored = cache.read(verdict_path(request, derivation_key))
    return stored if isinstance(stored, Entry) else None


def store(request: Request, verdict: "Verdict") -> Entry:
    """Keep the verdict of ``request`` (and the derivation's vocabulary, if not kept yet); the entry."""
    outcome = verdict.outcome()
    entry = Entry(outcome, outcome.report())
    derivation_key = cache.key(request.derivation_id)
    if derivation_key is None:
        return entry
    where = vocabulary_path(request.derivation_id, derivation_key)
    if not isinstance(cache.read(where), Vocabulary):
        from derivations.core import claims

        cache.write(where, claims.vocabulary(request.derivation_id))
    cache.write(verdict_path(request, derivation_key), entry)
    return entry


def verify(derivation_id: str, claim: str, assume: Iterable[str] = (), latex: bool = False,
           use_cache: bool = True) -> Entry:
    """:func:`derivations.core.claims.verify`, answered from the cache when it holds the verdict
    (``use_cache=False``: checked afresh, nothing read or stored)."""
    request = Request(derivation_id, claim, tuple(assume), latex)
    if use_cache:
        found = lookup(request)
        if found is not None:
            return found
    from derivations.core import claims  # SymPy: only for a claim not answered from the cache

    verdict = claims.verify(derivation_id, claim, assume=request.assume, latex=latex)
    if use_cache:
        return store(request, verdict)
    outcome = verdict.outcome()
    return Entry(outcome, outcome.report())
