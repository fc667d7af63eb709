r"""score.*: scores of the Gaussian noising kernels and score matching.

:math:`\nabla_{x_t} \log q(x_t \mid x_0)` for
:math:`q(x_t \mid x_0) = \mathcal N(\sqrt{\bar\alpha_t} x_0, 1 - \bar\alpha_t)`.
"""

from __future__ import annotations

import sympy as sp

from .ddpm import HO_2020, marginal_form
from .gaussian import log_density
from .notation import alpha_bar_t, eps, x_0, x_t
from .proof import Tier
from .registry import Body, Claim, Relation, Result, WrongVariant, derivation

SONG_2021 = "Y. Song et al., Score-Based Generative Modeling through SDEs, ICLR 2021, eq. (1) and §3.3"


@derivation(
    id="score.conditional",
    title="Score of the noising kernel q(x_t | x_0) and its epsilon form",
    statement=r"$\nabla_{x_t}\log q(x_t\mid x_0) = -\frac{x_t - \sqrt{\bar\alpha_t}x_0}{1-\bar\alpha_t} "
    r"= -\frac{\varepsilon}{\sqrt{1-\bar\alpha_t}}$, so a noise prediction $\hat\varepsilon$ "
    r"gives the score $s = -\hat\varepsilon/\sqrt{1-\bar\alpha_t}$.",
    tier=Tier.EXACT,
    assumptions=(r"$0 < \bar\alpha_t < 1$", r"$x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon$"),
    references=(HO_2020, SONG_2021),
)
def conditional() -> Body:
    mean, var = marginal_form(alpha_bar_t)
    score = sp.diff(log_density(x_t, mean, var), x_t)
    noised = {x_t: mean + sp.sqrt(var) * eps}
    score_eps = sp.simplify(score.subs(noised))
    return Body(
        steps=(
            Relation(r"differentiate $\log \mathcal N(x_t; \sqrt{\bar\alpha_t}x_0, 1-\bar\alpha_t)$ in $x_t$",
                     score, -(x_t - mean) / var),
            Relation(r"substitute $x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon$",
                     score.subs(noised), score_eps),
        ),
        results=(
            Result("score", score, "score in x_t and x_0"),
            Result("score_eps", score_eps, "score in the noise eps"),
            Result("eps_to_score", score_eps / eps, "factor mapping a noise prediction to a score"),
        ),
        claims=(Claim("score_eps", -eps / sp.sqrt(1 - alpha_bar_t), "Song et al. (2021); Ho et al. (2020) §3.2"),),
        wrong_variants=(
            WrongVariant("score_eps", -eps / (1 - alpha_bar_t), "missing square root"),
            WrongVariant("score_eps", eps / sp.sqrt(1 - alpha_bar_t), "sign flipped"),
            WrongVariant("score", -(x_t - alpha_bar_t * x_0) / (1 - alpha_bar_t), "missing square root on the mean"),
            WrongVariant("eps_to_score", -sp.sqrt(1 - alpha_bar_t), "multiplied instead of divided"),
        ),
    )
