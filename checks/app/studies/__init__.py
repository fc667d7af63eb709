"""Report pages that are not a single derivation (discovered by checks.app.plugins.studies())."""
