"""The person-facing layer: the ``diffverify`` CLI, its subcommands, the report writer, its
renderers and the study pages. Nothing outside ``checks.app`` imports it."""
