"""The voice layer's error type: a user mistake (a bad WAV, a missing model, a bad commands file)."""
from mia.errors import MiaError


class VoiceError(MiaError):
    """A voice problem the user can fix; the message is one complete line (or positioned lines)."""
