"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


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
