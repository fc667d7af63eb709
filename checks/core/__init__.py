"""What every check uses: the check registry and runner, the one statistical rule, devices,
configuration and the usage error."""
