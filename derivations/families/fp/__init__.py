"""``fp.*``: Fokker–Planck equations, the reverse-time family and the probability-flow ODE,
in one dimension (:mod:`.scalar`) and in two (:mod:`.plane`)."""
