"""`diffverify` subcommands, one module each (discovered by checks.plugins.commands())."""
