"""Errors a user can act on. The CLI prints them as one line, without a traceback."""

import traceback
from pathlib import Path


class UserError(Exception):
    """A problem with the user's input or environment, explained in the message.

    Name the file, line, column and reason where there is one.
    """

    exit_code = 2


class PipelineError(Exception):
    """A pipeline step failed in a way that must stop the run (for example a mart failed
    validation, so publishing is blocked).

    `alert_raised` says whether the step already raised a detailed alert; the Airflow
    failure callback raises a generic one only when it did not, so nobody is paged twice.
    """

    exit_code = 1

    def __init__(self, message: str, *, alert_raised: bool = False) -> None:
        super().__init__(message)
        self.alert_raised = alert_raised


def describe_unexpected(error: BaseException) -> str:
    """Where an unexpected error arose: its type and the code path, without its message,
    which may quote a landing file's contents (a rationale among them)."""
    frames = traceback.extract_tb(error.__traceback__)
    path = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(error).__name__} at {path or 'an unknown place'}"
