"""Every registered Monte Carlo check: passes on the derived forms, rejects the wrong ones it can see."""

from __future__ import annotations

import pytest

import checks
import derivations

from tests.conftest import BY_CHECK, wrong_variants

pytestmark = pytest.mark.mc


@pytest.mark.parametrize("check_id", BY_CHECK)
def test_check_passes_and_rejects_visible_wrong_variants(check_id):
    check = checks.get(check_id)
    wrong = wrong_variants(check)
    right, *variants = checks.run_variants(check_id, [{}] + [o for _, o in wrong], device="cpu")
    failing = [s.name for s in right.statistics if not s.passed]
    assert right.passed, f"{check_id} failed on the derived forms: {failing}"
    rejected_per_derivation = {d: 0 for d in check.tests}
    for (label, overrides), result in zip(wrong, variants):
        # The variant's effect on each prediction, in units of the smallest detectable error.
        visibility = max(
            abs(w.expected - r.expected) / r.detectable_error for w, r in zip(result.statistics, right.statistics)
        )
        if visibility >= 1:
            assert not result.passed, f"{check_id} accepted a visible wrong variant: {label}"
        if not result.passed:
            rejected_per_derivation[next(iter(overrides))[0]] += 1
    if wrong:
        assert any(rejected_per_derivation.values()), f"{check_id} cannot fail: no wrong variant is rejected"


@pytest.mark.parametrize("check_id", BY_CHECK)
def test_check_declares_what_it_tests(check_id):
    check = checks.get(check_id)
    for derivation_id, name in check.uses:
        assert name in derivations.get(derivation_id).results


def test_seed_depends_on_the_id_only():
    assert checks.seed_for("a") == checks.seed_for("a") != checks.seed_for("b")
    assert checks.seed_for("a", 1) != checks.seed_for("a")
