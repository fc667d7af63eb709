"""The catalogue's schemes, one module per family (discovered, not listed)."""
