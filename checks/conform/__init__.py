"""Conformance of samplers people run (diffusers, or a user's own) to the derived kernels."""
