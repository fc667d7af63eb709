"""The registered Monte Carlo checks, one module per family (discovered, not listed)."""
