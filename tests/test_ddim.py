"""ddim.*: the scheduler spacings quoted in ddim.family's statement."""

from __future__ import annotations

import numpy as np
import pytest

import derivations
from derivations.families.ddim import SPACINGS, scheduler_timesteps


@pytest.mark.parametrize("spacing", ["leading", "trailing"])
def test_previous_step_is_the_next_retained_one_when_n_divides_t(spacing):
    timesteps, previous = scheduler_timesteps(spacing, 1000, 50)
    assert len(timesteps) == 50 and np.all(np.diff(timesteps) < 0)
    assert np.array_equal(previous[:-1], timesteps[1:])


def test_linspace_previous_step_can_miss_the_next_retained_one():
    timesteps, previous = scheduler_timesteps("linspace", 1000, 50)
    assert timesteps[0] == 999 and timesteps[1] == 979 and previous[0] == 979
    assert timesteps[2] == 958 and previous[1] == 959  # the example in the statement
    assert not np.array_equal(previous[:-1], timesteps[1:])
    assert "979 by 958" in derivations.get("ddim.family").statement


def test_trailing_starts_at_the_last_training_step_and_leading_at_zero():
    assert scheduler_timesteps("trailing", 1000, 50)[0][0] == 999
    assert scheduler_timesteps("leading", 1000, 50)[0][-1] == 0
    assert scheduler_timesteps("leading", 1000, 50, steps_offset=1)[0][-1] == 1


def test_unknown_spacing_raises():
    with pytest.raises(ValueError, match="unknown spacing"):
        scheduler_timesteps("cosine", 1000, 50)
    assert set(SPACINGS) == {"linspace", "leading", "trailing"}
