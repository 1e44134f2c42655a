"""Voice front end: spoken commands heard offline through a closed grammar, confirmed, and answered aloud.

The way of a spoken command: audio (WAV file or microphone, `audio`, `mic`, `vad`) -> a recognizer
restricted to the phrases of `voice/commands.yaml` (`commands`, `grammar`, `recognizer` with the
pocketsphinx and vosk backends) -> a command or "say again" -> the confirmation step for risky
commands (`session`) -> one injectable dispatch callable (the supervisor's command bus) -> a spoken
or printed reply (`replies`). Settings are the `voice:` section of config/mia.yaml (`config`).
"""
