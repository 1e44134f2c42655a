"""The root of mia's error types: each layer raises its own subclass with a readable message.

The CLI prints ``str(error)`` and exits 1; a ``MiaError`` is a user mistake or bad input,
never a bug, so it is never shown as a traceback.
"""


class MiaError(Exception):
    """A user-facing error: the message is complete and printable as it is."""
