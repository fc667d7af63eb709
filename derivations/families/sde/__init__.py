"""``sde.*``: transition moments of the VP, sub-VP, VE and scaled VP SDEs (:mod:`.moments`) and the
DDPM chain's limit (:mod:`.limit`)."""
