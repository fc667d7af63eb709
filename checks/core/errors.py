"""Bad input from a user: one clear line on stderr and exit code 2."""


class UsageError(Exception):
    """Raised for unknown ids, unparsable formulas, inadmissible parameters, bad files.

    The message is one line that says what is wrong and, where it helps, what is allowed.
    """

    exit_code = 2
