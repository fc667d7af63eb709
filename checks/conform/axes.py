"""The grid's axes: the configurations of diffusers' schedulers that are checked (no torch, no diffusers:
the CLI reads them when it starts)."""

PREDICTIONS = ("epsilon", "v_prediction", "sample")
SCHEDULERS = ("DDPM", "DDIM")
# diffusers' sigma-parameterized schedulers (checks.conform.diffusers_sigma), run as whole samplers.
SIGMA_SCHEDULERS = ("EulerDiscrete", "EulerAncestralDiscrete", "HeunDiscrete", "DPMSolverMultistep", "KDPM2Discrete",
                    "LMSDiscrete", "UniPCMultistep", "DEISMultistep", "PNDM")
SIGMA_STEPS = (10, 25, 50)
DPM_ORDERS = (1, 2)
DPM_ALGORITHMS = ("dpmsolver++", "dpmsolver")
TRAIN_STEPS = 1000
BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
SPACINGS = ("leading", "trailing", "linspace")
DDPM_VARIANCES = ("fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log")
DDPM_STEPS = (10, 50, 1000)
DDIM_ETAS = (0.0, 0.5, 1.0)
DDIM_STEPS = (7, 13, 30, 50)

# k-diffusion (checks.conform.kdiffusion_grid): its samplers, on Karras et al.'s grids (sigma_min, sigma_max,
# rho): EDM's defaults and Stable Diffusion's range.
KDIFFUSION_SAMPLERS = ("euler", "heun", "dpm_2", "lms", "euler_ancestral", "dpmpp_2m", "dpmpp_sde", "dpmpp_2m_sde",
                       "dpmpp_3m_sde")
KARRAS_GRIDS = {"edm": (0.002, 80.0, 7.0), "sd": (0.0292, 14.6146, 7.0)}
KDIFFUSION_STEPS = (10, 25, 50)
KDIFFUSION_ETAS = (0.0, 0.5, 1.0)  # the stochastic samplers' eta (0: their ODE limit)
