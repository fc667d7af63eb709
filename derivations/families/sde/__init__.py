"""``sde.*``: transition moments of the VP, sub-VP, VE and scaled VP SDEs (:mod:`.moments`), the
DDPM chain's limit (:mod:`.limit`), the time arguments of the reverse drift in reverse time (:mod:`.reverse`)
and the reverse drift of a linear SDE (:mod:`.linear`)."""
