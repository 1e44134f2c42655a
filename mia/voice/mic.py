"""The microphone: sounddevice (PortAudio) frames at 16 kHz mono, cut into utterances by `vad.Endpointer`.

No PortAudio, no input device, or a device that cannot open: one VoiceError line, no traceback.
"""
from __future__ import annotations

import queue
from collections.abc import Iterator

import numpy as np

from mia.voice.audio import RATE
from mia.voice.errors import VoiceError
from mia.voice.vad import Endpointer


def _sounddevice():
    try:
        import sounddevice as sd
    except OSError:
        raise VoiceError("no microphone: the PortAudio library is missing "
                         "(apt-get install libportaudio2), or use --wav FILE") from None
    except ImportError:
        raise VoiceError("no microphone support: pip install -e '.[voice]' (sounddevice)") from None
    return sd


def input_device(sd=None) -> str:
    """The default input device's name, or a VoiceError saying there is none."""
    sd = sd or _sounddevice()
    try:
        info = sd.query_devices(kind="input")
    except Exception:
        raise VoiceError("no microphone: no audio input device found (use --wav FILE)") from None
    if not info or info.get("max_input_channels", 0) < 1:
        raise VoiceError("no microphone: no audio input device found (use --wav FILE)")
    return str(info["name"])


def utterances(endpointer: Endpointer | None = None, on_frame=None) -> Iterator[np.ndarray]:
    """Utterances (16 kHz mono float32) from the default microphone, until the caller stops."""
    sd = _sounddevice()
    input_device(sd)
    ep = endpointer or Endpointer()
    frames: queue.Queue = queue.Queue()
    blocksize = ep.frame_bytes // 2

    def callback(indata, n, t, status):  # PortAudio's thread: hand the bytes over, nothing more
        frames.put(bytes(indata))

    try:
        stream = sd.RawInputStream(samplerate=RATE, blocksize=blocksize, channels=1, dtype="int16",
                                   callback=callback)
    except Exception as exc:
        raise VoiceError(f"no microphone: cannot open the input device ({str(exc).splitlines()[0]})") from None
    with stream:
        while True:
            try:
                frame = frames.get(timeout=0.25)
            except queue.Empty:
                if on_frame:
                    on_frame()
                continue
            if on_frame:
                on_frame()
            pcm = ep.feed(frame)
            if pcm is not None:
                yield np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
