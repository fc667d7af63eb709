"""The grid's axes: the configurations of diffusers' schedulers that are checked (no torch, no diffusers:
the CLI reads them when it starts)."""

PREDICTIONS = ("epsilon", "v_prediction", "sample")
SCHEDULERS = ("DDPM", "DDIM")
TRAIN_STEPS = 1000
BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
SPACINGS = ("leading", "trailing", "linspace")
DDPM_VARIANCES = ("fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log")
DDPM_STEPS = (10, 50, 1000)
DDIM_ETAS = (0.0, 0.5, 1.0)
DDIM_STEPS = (7, 13, 30, 50)
