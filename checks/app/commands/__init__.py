"""`diffverify` subcommands, one module each (discovered by checks.app.plugins.commands())."""
