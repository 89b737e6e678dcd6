"""Exceptions that the CLI turns into one clear line for the user."""


class UserError(Exception):
    """Bad input or configuration: the message says what failed and what to do."""
