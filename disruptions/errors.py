"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


class UserError(Exception):
    """A problem with the user's input or environment, explained in the message.

    Name the file, line, column and reason where there is one.
    """

    exit_code = 2


class PipelineError(Exception):
    """A pipeline step failed in a way that must stop the run (for example a mart
    failed validation, so publishing is blocked). The alert has already been raised."""

    exit_code = 1
