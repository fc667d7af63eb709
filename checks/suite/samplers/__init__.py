"""``samplers.*``: every registered sampler against Gaussian data (:mod:`.gaussian`) and
Gaussian-mixture data (:mod:`.mixture`)."""
