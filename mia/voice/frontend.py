"""Voice as a front end of the supervisor: a client of its command bus, a subscriber of its alert bus.

``VoiceFrontEnd`` is started by the supervisor (``Supervisor.front_ends``, when `voice: {enabled:
true}`): it loads the phrases and the recognizer off the loop, listens to the microphone in a
thread of its own (no microphone: one line, and it still speaks the alerts), decides each
utterance (``recognizer.decide``), keeps the spoken confirmation (``session.VoiceSession``), and
sends each command through ``supervisor.execute`` with origin "voice" (flatten and resume with
``confirmed`` once "confirm" was heard). Replies and the alert kinds in ``speak_alerts`` (those
marked ``speak`` in alerts/alerts.yaml) are spoken by the ``Speaker``'s worker thread (printed when there is no audio device): nothing here
ever blocks the trading loop. Every utterance is audited in the journal (text, confidence).

``ControlDispatch`` does the same from another process (`mia voice --wav/--mic` without
--dry-run): the commands go to the running supervisor through its control socket.
"""
from __future__ import annotations

import asyncio
import logging
import threading

import numpy as np

from mia.runtime.commands import Command, Result
from mia.voice.errors import VoiceError
from mia.voice.recognizer import decide
from mia.voice.session import ORIGIN, VoiceSession

log = logging.getLogger(__name__)

#: alert kinds spoken aloud when no alerts file says (``speak:`` in alerts/alerts.yaml, which `mia run`
#: reads): fills, stops and targets, risk-state changes (halts)
SPEAK_ALERTS = ("fill", "stop", "target", "gate")
#: how long a voice command may wait for the supervisor's answer
ANSWER_S = 30.0


class _Stop(Exception):
    pass


def _command(command: str, args: list, heard: dict) -> Command:
    return Command(command, tuple(args), ORIGIN, confirmed="confirm" in heard)


class VoiceFrontEnd:
    """Started by the supervisor; ``hear_pcm`` takes one utterance (the microphone thread's, or a test's)."""

    def __init__(self, cfg, listen: bool = True, speaker=None, clock=None, speak_alerts=SPEAK_ALERTS,
                 alerts_path=None, load_spoken=None):
        self.cfg = cfg
        #: the alerts file whose ``speak:`` marks gave ``speak_alerts``, re-read with
        #: ``load_spoken(path)`` (-> the kinds) when it is edited while running
        self.alerts_path, self.load_spoken = alerts_path, load_spoken
        self.listen = listen
        self.speaker = speaker
        self.clock = clock
        self.speak_alerts = frozenset(speak_alerts)
        self.session: VoiceSession | None = None
        self.recognizer = None
        self._sup = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.problem: str | None = None

    async def start(self, supervisor) -> None:
        from mia.voice.commands import load_commands
        from mia.voice.recognizer import make_recognizer
        from mia.voice.speak import Speaker

        self._sup, self._loop = supervisor, asyncio.get_running_loop()
        commands = await asyncio.to_thread(load_commands, self.cfg.commands_path)
        self.recognizer = await asyncio.to_thread(make_recognizer, self.cfg, commands)
        if self.speaker is None:
            self.speaker = Speaker(speak=self.cfg.speak, out=lambda text: log.info("%s", text))
        kw = {"clock": self.clock} if self.clock is not None else {}
        self.session = VoiceSession(self._dispatch, confirm_timeout_s=self.cfg.confirm_timeout_s,
                                    audit=self._audit, **kw)
        supervisor.alerts.subscribe(self._on_alert)
        if self.alerts_path is not None and self.load_spoken is not None:
            supervisor.watch_file(self.alerts_path, self._reload_speak)
        if self.listen:
            self._thread = threading.Thread(target=self._listen, name="mia-voice-mic", daemon=True)
            self._thread.start()

    def _reload_speak(self) -> str:
        """The alerts file was edited: the kinds marked ``speak`` from the next alert on (a bad
        edit raises its positioned error; the running kinds stay)."""
        self.speak_alerts = frozenset(self.load_spoken(self.alerts_path))
        return "spoken alerts " + ", ".join(sorted(self.speak_alerts))

    async def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
        if self.speaker is not None:
            await asyncio.to_thread(self.speaker.close, 10.0)

    # -- hearing ------------------------------------------------------------------------------------
    def hear_pcm(self, pcm: np.ndarray) -> str:
        """Decide one utterance (16 kHz mono float32), act on it; the reply (also spoken)."""
        heard = decide(self.recognizer.recognize(pcm), self.recognizer.phrases, self.cfg.min_confidence)
        reply = self.session.hear(heard)
        self.speaker.say(reply)
        return reply

    def tick(self) -> str | None:
        """A held flatten/resume whose "confirm" did not come in time is dropped (and said)."""
        reply = self.session.tick()
        if reply:
            self.speaker.say(reply)
        return reply

    def _listen(self) -> None:
        from mia.voice import mic

        def on_frame() -> None:
            if self._stopping.is_set():
                raise _Stop
            self.tick()

        try:
            for pcm in mic.utterances(on_frame=on_frame):
                self.hear_pcm(pcm)
        except _Stop:
            return
        except VoiceError as exc:         # no microphone, no PortAudio: one line; alerts are still spoken
            self.problem = str(exc)
            log.warning("voice: %s; spoken alerts only", exc)
            self._alert_problem(str(exc))

    # -- the buses -----------------------------------------------------------------------------------
    def _dispatch(self, command: str, args: list, origin: str, heard: dict) -> Result:
        fut = asyncio.run_coroutine_threadsafe(self._sup.execute(_command(command, args, heard)), self._loop)
        return fut.result(ANSWER_S)

    def _audit(self, record: dict) -> None:
        if self._loop is None or self._sup is None:
            return
        self._loop.call_soon_threadsafe(self._journal_audit, dict(record))

    def _journal_audit(self, record: dict) -> None:
        from mia.runtime.alerts import Alert

        journal = self._sup.journal
        if journal is None:
            return
        journal.alert(self._sup.session.now if self._sup.session else None, "voice",
                      Alert("voice", 0.0, record.get("event", ""), record).to_json())

    def _alert_problem(self, text: str) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._journal_audit, {"event": "no microphone", "error": text})

    def _on_alert(self, alert) -> None:
        if alert.kind in self.speak_alerts and self.speaker is not None:
            self.speaker.say(spoken(alert.text))


class ControlDispatch:
    """A ``dispatch`` for `mia voice` in its own process: commands through the control socket."""

    def __init__(self, socket_path):
        from mia.runtime.control import NoSupervisor, ask

        self.socket_path = socket_path
        self._ask = ask
        try:
            ask(socket_path, Command("status", (), ORIGIN))
        except NoSupervisor as exc:
            raise VoiceError(f"acting on a spoken command needs a running supervisor: {exc}; nothing was sent "
                             "(add --dry-run to only recognize)") from None

    def __call__(self, command: str, args: list, origin: str, heard: dict) -> Result:
        return self._ask(self.socket_path, _command(command, args, heard))


_SAY = ((" -> ", " to "), ("REDUCE_ONLY", "reduce only"), (" USD", " dollars"))


def spoken(text: str) -> str:
    """An alert's text as a sentence to say: its leading capitals ("STOP HIT:", "FILLED") in
    sentence case, arrows and units in words."""
    words = text.split(" ")
    k = 0
    while k < len(words) and len(words[k].rstrip(":")) > 1 and words[k].rstrip(":").isalpha() \
            and words[k].isupper():
        k += 1
    if k:
        head = " ".join(words[:k]).lower()
        words[:k] = [head[:1].upper() + head[1:]]
    text = " ".join(words)
    for a, b in _SAY:
        text = text.replace(a, b)
    return text
