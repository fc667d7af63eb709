r"""The planted bugs of the mutation audit (``benchmarks/mutation_audit.py``), one :class:`Mutant` each.

A mutant is a textual patch: ``old`` must occur exactly once in ``file`` and is replaced by
``new``; ``tests`` are the pytest arguments that should reject it (the tests an author of that
code would run). Categories: ``derivations`` (SymPy derivations: the proof, a claim from the
literature or a wrong variant rejects the bug), ``catalogue`` (the sampler rules, written once:
their derived step maps must contradict the literature's claims), ``statistics`` (the one
statistical rule), ``w2-kernels`` (the exact W2 table: generated numba kernels and the numpy path).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    id: str
    category: str
    file: str
    old: str
    new: str
    description: str
    tests: str  # pytest arguments, split with shlex


def proof_tests(*ids: str) -> str:
    """The proofs (declared tier: steps and literature claims) and the wrong variants of ``ids``."""
    selected = " or ".join(ids)
    return f"tests/test_derivations.py -k '({selected}) and (tier or wrong_variant)'"


def proof_and_check_tests(ids: tuple[str, ...], check_ids: tuple[str, ...]) -> str:
    """The proofs of ``ids`` and their Monte Carlo checks ``check_ids``: a bug made consistently through a
    derivation (its steps and equivalents written with the same wrong expression) still disagrees with the
    simulated process."""
    proofs, checks_ = " or ".join(ids), " or ".join(check_ids)
    return (f"tests/test_derivations.py tests/test_checks.py -k '(({proofs}) and (tier or wrong_variant)) or "
            f"(passes_and_rejects and ({checks_}))'")


def step_map_tests(*schemes: str) -> str:
    return proof_tests(*(f"gauss_exact.step_{s}" for s in schemes))


STATS_TESTS = ("tests/test_statistics_rule.py tests/test_stats_exact.py "
               "tests/test_samplers.py::test_whole_law_moments_reject_a_non_gaussian_law_with_the_right_variance "
               "tests/test_samplers.py::test_proportions_need_a_binomial_variance_for_the_normal_approximation "
               "tests/test_samplers.py::test_loglog_slope_recovers_a_power_law")
# The generated kernels against a plain loop on one small structure: the whole fused table recompiles
# every kernel group of a patched generator, past the audit's time limit on a loaded machine.
W2_FUSED = "tests/test_w2_kernel_oracle.py tests/test_exact_w2.py::test_fused_kernel_source_follows_the_monomials"
W2_NUMPY = "tests/test_exact_w2.py -k 'reference_cell or baseline or eigenbasis_recursion'"

DDPM = "derivations/families/ddpm.py"
GAUSS = "derivations/families/gaussian.py"
DDIM_F = "derivations/families/ddim.py"
VE = "derivations/families/ve.py"
TWEEDIE = "derivations/families/tweedie.py"
SCORE = "derivations/families/score.py"
ELBO = "derivations/families/elbo.py"
OU = "derivations/families/ou.py"
ANC = "derivations/catalogue/schemes/ancestral.py"
DDIM_C = "derivations/catalogue/schemes/ddim.py"
PIECES = "derivations/catalogue/pieces.py"
EXPO = "derivations/catalogue/schemes/exponential.py"
LANG = "derivations/catalogue/schemes/langevin.py"
ODE = "derivations/catalogue/schemes/ode.py"
DPM = "derivations/catalogue/schemes/dpm_solver.py"
STATS = "checks/core/stats.py"
KERNEL = "checks/exact/kernel.py"
W2 = "checks/exact/w2.py"

_ROWS = [
    # --- derivations --------------------------------------------------------------------------
    ("ddpm.marginal.no_sqrt", "derivations", DDPM, "return sp.sqrt(alpha_bar) * x_0, 1 - alpha_bar",
     "return alpha_bar * x_0, 1 - alpha_bar", "missing square root on alpha_bar in the marginal's mean",
     proof_tests("ddpm.marginal")),
    ("ddpm.one_step.no_sqrt", "derivations", DDPM, "push_forward(mean, var, sp.sqrt(alpha_t), 0, beta_t)",
     "push_forward(mean, var, alpha_t, 0, beta_t)", "one forward step scales by alpha_t, not its root",
     proof_tests("ddpm.one_step")),
    ("ddpm.posterior.index_shift", "derivations", DDPM,
     "prior_mean, prior_var = marginal_form(alpha_bar_prev)  # q(x_{t-1} | x_0)",
     "prior_mean, prior_var = marginal_form(alpha_bar_t)  # q(x_{t-1} | x_0)",
     "index shift: the prior of x_{t-1} at alpha_bar_t", proof_tests("ddpm.posterior")),
    ("ddpm.posterior.factor2", "derivations", DDPM,
     "mean, var = condition(prior_mean, prior_var, sp.sqrt(alpha_t), 0, beta_t, x_t, x_prev)",
     "mean, var = condition(prior_mean, prior_var, sp.sqrt(alpha_t), 0, 2 * beta_t, x_t, x_prev)",
     "factor 2 on the step's noise variance", proof_tests("ddpm.posterior")),
    ("ddpm.posterior.sign", "derivations", DDPM,
     "noised = {x_0: (x_t - sp.sqrt(1 - alpha_bar_t) * eps) / sp.sqrt(alpha_bar_t)}",
     "noised = {x_0: (x_t + sp.sqrt(1 - alpha_bar_t) * eps) / sp.sqrt(alpha_bar_t)}",
     "sign of the noise in the eps form of x_0", proof_tests("ddpm.posterior")),
    ("ddpm.posterior.alpha_for_alpha_bar", "derivations", DDPM,
     "noised = {x_0: (x_t - sp.sqrt(1 - alpha_bar_t) * eps) / sp.sqrt(alpha_bar_t)}",
     "noised = {x_0: (x_t - sp.sqrt(1 - alpha_t) * eps) / sp.sqrt(alpha_bar_t)}",
     "alpha_t for alpha_bar_t in the noise's scale", proof_tests("ddpm.posterior")),
    ("gaussian.log_density.factor2", "derivations", GAUSS, "(value - mean) ** 2 / (2 * var)",
     "(value - mean) ** 2 / var", "missing factor 1/2 in the Gaussian log-density",
     proof_tests("gaussian.linear_bayes")),
    ("gaussian.push_forward.square", "derivations", GAUSS, "return gain_ * mean + offset_, gain_**2 * var + noise_var",
     "return gain_ * mean + offset_, gain_ * var + noise_var", "gain not squared in the pushed variance",
     proof_tests("gaussian.linear_bayes")),
    ("gaussian.complete_square.factor2", "derivations", GAUSS, "var = sp.simplify(-1 / (2 * quadratic))",
     "var = sp.simplify(-1 / quadratic)", "the completed square's variance off by a factor 2",
     proof_tests("gaussian.linear_bayes")),
    ("gaussian.w2.no_sqrt", "derivations", GAUSS,
     "x_q = mean_q + sp.sqrt(var_q) * (coupling_corr * first + sp.sqrt(1 - coupling_corr**2) * other)",
     "x_q = mean_q + var_q * (coupling_corr * first + sp.sqrt(1 - coupling_corr**2) * other)",
     "variance used as a standard deviation in the coupling", proof_tests("gaussian.w2")),
    ("ddim.family.sign", "derivations", DDIM_F,
     "gain = sp.sqrt(1 - alpha_bar_tau_prev - var) / sp.sqrt(1 - alpha_bar_tau)",
     "gain = sp.sqrt(1 - alpha_bar_tau_prev + var) / sp.sqrt(1 - alpha_bar_tau)",
     "sign of sigma^2 in the direction term", proof_tests("ddim.family")),
    ("ddim.family.no_sqrt", "derivations", DDIM_F,
     "offset = sp.sqrt(alpha_bar_tau_prev) * x_0 - gain * sp.sqrt(alpha_bar_tau) * x_0",
     "offset = alpha_bar_tau_prev * x_0 - gain * sp.sqrt(alpha_bar_tau) * x_0",
     "missing square root on alpha_bar_{tau_{i-1}}", proof_tests("ddim.family")),
    ("ddim.family.eta_not_squared", "derivations", DDIM_F, "var_eta = eta_ddim**2 * skip_var",
     "var_eta = eta_ddim * skip_var", "eta not squared in sigma^2(eta)", proof_tests("ddim.family")),
    ("ve.one_step.factor2", "derivations", VE, "push_forward(mean, var, 1, 0, var_ve_step)",
     "push_forward(mean, var, 1, 0, 2 * var_ve_step)", "factor 2 on the VE step's variance",
     proof_tests("ve.marginal")),
    ("ve.posterior.index_shift", "derivations", VE,
     "condition(x_0, var_ve_prev, 1, 0, var_ve_step, x_ve_i, x_ve_prev)",
     "condition(x_0, var_ve_step, 1, 0, var_ve_step, x_ve_i, x_ve_prev)",
     "index shift: the prior variance sigma_i^2 - sigma_{i-1}^2 for sigma_{i-1}^2", proof_tests("ve.posterior")),
    ("tweedie.vp.no_sqrt", "derivations", TWEEDIE, "vp_gain = sp.sqrt(alpha_bar_t)", "vp_gain = alpha_bar_t",
     "missing square root on alpha_bar_t in the VP form",
     proof_and_check_tests(("tweedie.first_order",), ("tweedie.vp_posterior",))),
    ("tweedie.second.no_sqrt", "derivations", TWEEDIE,
     "_gaussian_case(sp.sqrt(alpha_bar_t), vp_var, x_t, x_0)", "_gaussian_case(alpha_bar_t, vp_var, x_t, x_0)",
     "missing square root on alpha_bar_t in the second-order VP form", proof_tests("tweedie.second_order")),
    ("tweedie.slope.sign", "derivations", TWEEDIE, "-1 / (var + noise_var)) for _, mean, var in MIXTURE]",
     "1 / (var + noise_var)) for _, mean, var in MIXTURE]", "sign of a component's log-slope derivative",
     proof_tests("tweedie.second_order")),
    ("score.conditional.sign", "derivations", SCORE, "noised = {x_t: mean + sp.sqrt(var) * eps}",
     "noised = {x_t: mean - sp.sqrt(var) * eps}", "sign of the noise in x_t", proof_tests("score.conditional")),
    ("score.reparam.no_sqrt", "derivations", SCORE, "noising = sp.Eq(x_t, mean + sp.sqrt(var) * eps)",
     "noising = sp.Eq(x_t, mean + var * eps)", "variance for std in the noising equation",
     proof_tests("score.reparameterizations")),
    ("elbo.prior_kl.alpha", "derivations", ELBO, "prior_kl = kl(sp.sqrt(alpha_bar_t) * x_0, 1 - alpha_bar_t, 0, 1)",
     "prior_kl = kl(sp.sqrt(alpha_t) * x_0, 1 - alpha_bar_t, 0, 1)", "alpha_t for alpha_bar_t in the prior term",
     proof_tests("elbo.decomposition")),
    ("elbo.log_normal.factor2", "derivations", ELBO, "- (value - mean) ** 2 / (2 * var)",
     "- (value - mean) ** 2 / var", "missing 1/2 in the ELBO's own Gaussian log-density",
     proof_tests("elbo.decomposition", "elbo.weights")),
    ("ou.drift.sign", "derivations", OU, "return kappa_ou * (theta_ou - x)", "return kappa_ou * (x - theta_ou)",
     "sign of the OU drift", proof_tests("ou.moments")),
    ("ou.cross_cov.square", "derivations", OU,
     "sp.integrate(diffusion**2, (_u, s_ou, t_ou))", "sp.integrate(diffusion, (_u, s_ou, t_ou))",
     "Ito isometry without the square", proof_tests("ou.moments")),
    # --- sampler catalogue ---------------------------------------------------------------------
    ("ancestral.score_wrong_time", "catalogue", ANC, "mean = (x + step_var * now.score(x)) / gain",
     "mean = (x + step_var * nxt.score(x)) / gain", "the score at the step's end time",
     step_map_tests("ddpm_ancestral", "ve_ancestral")),
    ("ancestral.std_for_var", "catalogue", ANC,
     "ops.noise(x, step_var if variance", "ops.noise(x, ops.sqrt(step_var) if variance",
     "standard deviation passed as the noise variance (beta)", step_map_tests("ddpm_ancestral")),
    ("ancestral.noise_last_step", "catalogue", ANC, "if ops.lands_clean:", "if False:",
     "noise added on the step onto the noise-free level", step_map_tests("ddpm_ancestral")),
    ("ancestral.noise_x1.02", "catalogue", ANC, "step_var * nxt.var / now.var)",
     "1.02 * step_var * nxt.var / now.var)", "posterior noise variance x 1.02",
     step_map_tests("ddpm_ancestral", "ve_ancestral")),
    ("ancestral.gain_not_squared", "catalogue", ANC, "step_var = now.var - gain**2 * nxt.var",
     "step_var = now.var - gain * nxt.var", "gain not squared in the step variance",
     step_map_tests("ddpm_ancestral")),
    ("catalogue.ddim.score_wrong_time", "catalogue", DDIM_C, "eps = pieces.eps_hat(ops, now, x)",
     "eps = pieces.eps_hat(ops, nxt, x)", "the noise prediction at the step's end time", step_map_tests("ddim")),
    ("ddim.eta_not_squared", "catalogue", DDIM_C, "extra_var = eta**2 *", "extra_var = eta *",
     "eta not squared in sigma^2", step_map_tests("ddim")),
    ("ddim.direction_sign", "catalogue", DDIM_C, "ops.sqrt(nxt.var - extra_var) * eps",
     "ops.sqrt(nxt.var + extra_var) * eps", "sign of sigma^2 in the direction term", step_map_tests("ddim")),
    ("ddim.noise_x1.05", "catalogue", DDIM_C, "+ ops.noise(x, extra_var)", "+ ops.noise(x, 1.05 * extra_var)",
     "noise variance x 1.05", step_map_tests("ddim")),
    ("pieces.eps_hat.var_for_std", "catalogue", PIECES, "return -ops.sqrt(at.var) * at.score(x)",
     "return -at.var * at.score(x)", "variance for std in the noise prediction",
     step_map_tests("ddim", "exponential_integrator")),
    ("pieces.drift.lambda_not_squared", "catalogue", PIECES, "(1 + lam**2) * at.diffusion_sq",
     "(1 + lam) * at.diffusion_sq", "lambda not squared in the reverse drift", step_map_tests("lambda_family")),
    ("pieces.langevin.noise_half", "catalogue", PIECES, "ops.noise(x, 2 * step)", "ops.noise(x, step)",
     "Langevin noise variance eps instead of 2 eps", step_map_tests("annealed_langevin", "predictor_corrector")),
    ("pieces.heun.score_wrong_time", "catalogue", PIECES, "drift(ops.next, x + ops.h * slope, 0)",
     "drift(ops.now, x + ops.h * slope, 0)", "Heun's corrector slope at the step's start time",
     step_map_tests("pf_heun")),
    ("pieces.rk4.last_stage_at_mid", "catalogue", PIECES, "k4 = drift(ops.next, x + h * k3, 0)",
     "k4 = drift(ops.mid, x + h * k3, 0)", "RK4's last stage at the midpoint", step_map_tests("pf_rk4")),
    ("pieces.rk4.stage_index", "catalogue", PIECES, "k3 = drift(ops.mid, x + h / 2 * k2, 0)",
     "k3 = drift(ops.mid, x + h / 2 * k1, 0)", "RK4's third stage from k1 (an index shift)", step_map_tests("pf_rk4")),
    ("pieces.euler.off_by_one", "catalogue", PIECES, "return x + ops.h * drift(ops.now, x, 0)",
     "return x + ops.h * drift(ops.next, x, 0)", "Euler's slope at the next grid time (off by one)",
     step_map_tests("pf_euler")),
    ("pieces.lambda_em.noise_x1.02", "catalogue", PIECES, "ops.noise(x, -lam**2 * ops.now.diffusion_sq * ops.h)",
     "ops.noise(x, -1.02 * lam**2 * ops.now.diffusion_sq * ops.h)", "Euler-Maruyama noise variance x 1.02",
     step_map_tests("reverse_sde_em", "lambda_family")),
    ("ode.edm_heun.no_euler_last", "catalogue", ODE,
     "return pieces.euler(ops, x) if ops.last else pieces.heun(ops, x)", "return pieces.heun(ops, x)",
     "EDM's Heun without its Euler last step", step_map_tests("edm_heun")),
    ("exponential.var_for_std", "catalogue", EXPO, "rho, rho_next = ops.sqrt(now.var) / now.mean_coef,",
     "rho, rho_next = now.var / now.mean_coef,", "variance for std in rho", step_map_tests("exponential_integrator")),
    ("exponential.noise_x1.03", "catalogue", EXPO, "ops.noise(x, lam**2 * nxt.mean_coef**2",
     "ops.noise(x, 1.03 * lam**2 * nxt.mean_coef**2", "noise variance x 1.03", step_map_tests("exponential_integrator")),
    ("exponential_score.score_wrong_time", "catalogue", EXPO, "2 * (growth - 1) * now.score(x)",
     "2 * (growth - 1) * nxt.score(x)", "the score at the step's end time",
     step_map_tests("exponential_integrator_score")),
    ("exponential_score.growth_not_squared", "catalogue", EXPO, "ops.noise(x, growth**2 * now.var - nxt.var)",
     "ops.noise(x, growth * now.var - nxt.var)", "growth not squared in the noise variance",
     step_map_tests("exponential_integrator_score")),
    ("langevin.pc_wrong_level", "catalogue", LANG, "x, 2 * snr**2 * ops.next.var)",
     "x, 2 * snr**2 * ops.now.var)", "corrector step size from the step's start level",
     step_map_tests("predictor_corrector")),
    ("langevin.annealed_wrong_level", "catalogue", LANG, "step_ratio * ops.next.var)",
     "step_ratio * ops.now.var)", "annealed step size from the previous level", step_map_tests("annealed_langevin")),
    ("dpm_solver.no_first_order_last", "catalogue", DPM,
     "    eps = pieces.eps_hat(ops, now, x)\n    if ops.last:\n        return _first_order(ops, now, nxt, x, eps)\n"
     "    growth = ", "    eps = pieces.eps_hat(ops, now, x)\n    growth = ",
     "DPM-Solver-2 keeps its second-order step onto the last level", step_map_tests("dpm_solver_2")),
    ("dpm_solver.correction_wrong_time", "catalogue", DPM, "correction = pieces.eps_hat(ops, mid, u) - eps",
     "correction = pieces.eps_hat(ops, nxt, u) - eps", "the midpoint's noise prediction at the end time",
     step_map_tests("dpm_solver_2")),
    ("dpmpp_2s.std_for_var", "catalogue", DPM, "u = ops.sqrt(mid.var) / ops.sqrt(now.var) * x",
     "u = mid.var / ops.sqrt(now.var) * x", "variance for std in the intermediate point", step_map_tests("dpmpp_2s")),
    # --- statistics ----------------------------------------------------------------------------
    ("stats.mean_se.no_sqrt", "statistics", STATS, "(s.std() / math.sqrt(s.numel())).item()",
     "(s.std() / s.numel()).item()", "SE of a mean divided by n instead of sqrt(n)", STATS_TESTS),
    ("stats.mean_se.var", "statistics", STATS, "(s.std() / math.sqrt(s.numel())).item()",
     "(s.var() / math.sqrt(s.numel())).item()", "SE of a mean from the variance instead of the std",
     STATS_TESTS),
    ("stats.variance_se", "statistics", STATS, "(centered_sq.std() / math.sqrt(s.numel())).item()",
     "(s.std() / math.sqrt(s.numel())).item()", "SE of a variance from the samples' spread, not the squares'",
     STATS_TESTS),
    ("stats.bonferroni.none", "statistics", STATS, "each = false_alarm / len(estimates)",
     "each = false_alarm", "no Bonferroni split over the estimates", STATS_TESTS),
    ("stats.bonferroni.off_by_one", "statistics", STATS, "each = false_alarm / len(estimates)",
     "each = false_alarm / (len(estimates) + 1)", "Bonferroni count off by one", STATS_TESTS),
    ("stats.critical.one_sided", "statistics", STATS, "quantile(1 - false_alarm / 2, dof)",
     "quantile(1 - false_alarm, dof)", "one-sided critical value for a two-sided test",
     STATS_TESTS),
    ("stats.detectable.sign", "statistics", STATS, "(c_alarm + c_power) * e.std_error",
     "(c_alarm - c_power) * e.std_error", "detectable error with the power quantile subtracted", STATS_TESTS),
    ("stats.running_se.no_n", "statistics", STATS, "se = torch.sqrt(moments.central(2) / moments.count)",
     "se = torch.sqrt(moments.central(2))", "per-coordinate SE of a mean without 1/n", STATS_TESTS),
    ("stats.running_var_se", "statistics", STATS, "se = torch.sqrt((m4 - m2**2).clamp_min(0) / n)",
     "se = torch.sqrt((m4 - m2).clamp_min(0) / n)", "SE of a variance with m2 not squared", STATS_TESTS),
    ("stats.proportion_se", "statistics", STATS, "math.sqrt(float(p) * (1 - float(p)) / n)",
     "math.sqrt(float(p) / n)", "binomial SE without (1 - p)", STATS_TESTS),
    ("stats.normal_moment_var", "statistics", STATS, "(4, 3.0, 96.0)", "(4, 3.0, 105.0)",
     "Var[u^4] as E u^8 without subtracting (E u^4)^2", STATS_TESTS),
    ("stats.slope_dof", "statistics", STATS, "(residual @ residual) / (x.numel() - 2) / sxx",
     "(residual @ residual) / x.numel() / sxx", "residual variance with n, not n - 2, degrees of freedom",
     STATS_TESTS),
    # --- exact W2 kernels ----------------------------------------------------------------------
    ("kernel.gain_not_squared", "w2-kernels", KERNEL, 'lines.append("g = g * g")',
     'lines.append("g = g")', "the composed map multiplies by a_k, not a_k^2", W2_FUSED),
    ("kernel.noise_not_scaled", "w2-kernels", KERNEL, "B{s}[j] = B{s}[j] * g + z{s}", "B{s}[j] = B{s}[j] + z{s}",
     "the accumulated noise is not carried through the step's gain", W2_FUSED),
    ("kernel.next_precision_at_mid", "w2-kernels", KERNEL, "p1 = 1.0 / (1.0 + e1 * x[j])",
     "p1 = 1.0 / (1.0 + em * x[j])", "the next point's precision evaluated at the midpoint", W2_FUSED),
    ("kernel.precision_not_advanced", "w2-kernels", KERNEL, 'lines.append("pk[j] = p1")',
     'lines.append("pk[j] = p0")', "the start precision never advances along the grid", W2_FUSED),
    ("kernel.first_precision_off_by_one", "w2-kernels", KERNEL, "pk[j] = 1.0 / (1.0 + e_pts[0] * x[j])",
     "pk[j] = 1.0 / (1.0 + e_pts[1] * x[j])", "the first precision read at the second grid point", W2_FUSED),
    ("kernel.monomial_power", "w2-kernels", KERNEL, "for _ in range(e)]", "for _ in range(min(e, 1))]",
     "a squared precision written as its first power", W2_FUSED),
    ("kernel.noise_reversed", "w2-kernels", KERNEL, "at('noises', s, 'k')", "at('noises', s, 'n - 1 - k')",
     "the step noises read in reverse order", W2_FUSED),
    ("w2.final_gain_not_squared", "w2-kernels", W2, "    return gain * gain, noise", "    return gain, noise",
     "the last step's gain not squared", W2_NUMPY),
    ("w2.no_tail", "w2-kernels", W2, "return initial_variance(lam, init) * gain_sq + tail",
     "return initial_variance(lam, init) * gain_sq", "the injected noise dropped from the output variance",
     W2_NUMPY),
    ("w2.no_root", "w2-kernels", W2, "return math.sqrt(total) if math.isfinite(total)",
     "return total if math.isfinite(total)", "W2^2 reported as W2", W2_NUMPY),
    ("w2.chain_no_sqrt", "w2-kernels", W2, "chain = step_values(a=np.sqrt(1 - beta_d)",
     "chain = step_values(a=1 - beta_d", "missing square root on the DDPM chain's gain", W2_NUMPY),
    ("w2.sde_kernel_factor2", "w2-kernels", W2, "sde = step_values(a=np.exp(-h), b=-np.expm1(-2 * h)",
     "sde = step_values(a=np.exp(-h), b=-np.expm1(-h)", "the SDE kernel's variance 1 - e^{-h} for 1 - e^{-2h}",
     W2_NUMPY),
    ("w2.baseline_index_shift", "w2-kernels", W2, "B_u_pg=g.B_points[k + 1]),", "B_u_pg=g.B_points[k]),",
     "the baseline loop's next precision at the current point", W2_NUMPY),
]

MUTANTS: dict[str, Mutant] = {row[0]: Mutant(*row) for row in _ROWS}
assert len(MUTANTS) == len(_ROWS), "mutant ids must be unique"
