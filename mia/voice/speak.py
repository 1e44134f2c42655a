"""Spoken replies: espeak-ng renders a sentence (its command, else pyttsx3's driver), sounddevice plays it.

`Speaker.say` never blocks: sentences go through a queue to one worker thread, which prints each
one and, when speaking is on and an audio output exists, speaks it. No audio device, no espeak-ng,
or a failing device: the sentence is printed and that is all -- never an error.
"""
from __future__ import annotations

import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from mia.voice.errors import VoiceError


def _engine():
    import pyttsx3

    try:  # pyttsx3's espeak driver prints "Audio saved to ..." on every file; keep our output ours
        import pyttsx3.drivers.espeak as espeak_driver

        espeak_driver.print = lambda *args, **kwargs: None
    except Exception:
        pass
    return pyttsx3.init()


def save_reply_wav(text: str, path: str | Path) -> Path:
    """Synthesize ``text`` into the WAV file ``path`` (22.05 kHz mono with espeak-ng).

    The ``espeak-ng`` command when it is installed: it returns when the file is whole. pyttsx3's
    espeak driver (the fallback) runs the synthesis asynchronously and, on a busy machine, can
    return before it wrote the file."""
    exe = shutil.which("espeak-ng")
    if exe:
        try:
            done = subprocess.run([exe, "-w", str(path), "--", text], capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise VoiceError(f"cannot synthesize speech ({exc})") from None
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip().splitlines()
            raise VoiceError(f"cannot synthesize speech (espeak-ng: {said[-1] if said else done.returncode})")
        if Path(path).exists() and Path(path).stat().st_size > 44:
            return Path(path)
        raise VoiceError(f"speech synthesis wrote no audio to {path}")
    try:
        engine = _engine()
        engine.save_to_file(text, str(path))
        engine.runAndWait()
    except Exception as exc:
        raise VoiceError(f"cannot synthesize speech ({exc}): install espeak-ng (apt-get install espeak-ng)") from None
    if not Path(path).exists() or Path(path).stat().st_size <= 44:
        raise VoiceError(f"speech synthesis wrote no audio to {path}")
    return Path(path)


def output_device() -> str | None:
    """The default audio output's name, or None when there is none (or no PortAudio)."""
    try:
        import sounddevice as sd

        return str(sd.query_devices(kind="output")["name"])
    except Exception:
        return None


def _play_file(path: Path) -> None:
    import sounddevice as sd
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float32")
    sd.play(data, rate)
    sd.wait()


class Speaker:
    """Says sentences on a worker thread; ``out`` gets every sentence as text."""

    def __init__(self, speak: bool = True, out: Callable[[str], None] = print,
                 play: Callable[[Path], None] | None = None):
        self.out = out
        self._play = play or _play_file
        self.speaking = bool(speak) and (play is not None or output_device() is not None)
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="mia-voice-speaker", daemon=True)
        self._thread.start()

    def say(self, text: str) -> None:
        """Queue ``text``; returns at once."""
        if text:
            self._queue.put(text)

    def close(self, timeout: float | None = 30.0) -> None:
        """Finish what is queued, then stop the worker."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="mia-voice-") as tmp:
            wav = Path(tmp) / "reply.wav"
            while True:
                text = self._queue.get()
                if text is None:
                    return
                self.out(f"mia: {text}")
                if not self.speaking:
                    continue
                try:
                    save_reply_wav(text, wav)
                    self._play(wav)
                except Exception as exc:  # a device that fails: print from now on, say why once
                    self.speaking = False
                    self.out(f"mia: (speech off: {str(exc).splitlines()[0]})")
