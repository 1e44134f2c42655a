"""Voice command: `mia voice --wav FILE... | --mic` hears spoken commands through the closed grammar."""
from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "voice", help="hear spoken commands (WAV files or the microphone), offline",
        description="Recognize spoken commands offline against the closed grammar of voice/commands.yaml\n"
                    "(pocketsphinx's shipped English model by default, or a vosk model). Anything that is\n"
                    "not one of its phrases, noise, silence or a low confidence is 'say again'. flatten\n"
                    "and resume wait for a spoken 'confirm'. Settings: the voice: section of config/mia.yaml.",
        epilog="examples:\n"
               "  mia voice --wav status.wav --json --dry-run      # one JSON object per file\n"
               "  mia voice --wav flatten.wav confirm.wav --dry-run # the confirmation, without acting\n"
               "  mia voice --mic --dry-run                        # listen; say 'status', 'flatten', ...\n"
               "  mia voice --wav cmd.wav --backend vosk --model voice/models/vosk-model-small-en-us-0.15",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--wav", nargs="+", metavar="FILE", help="WAV files (any rate and channel count)")
    src.add_argument("--mic", action="store_true", help="listen to the default microphone (Ctrl-C stops)")
    p.add_argument("--json", action="store_true", help="with --wav: one JSON object per file "
                   "(file, text, command or null, confidence)")
    p.add_argument("--dry-run", action="store_true", help="recognize and confirm, but send nothing")
    p.add_argument("--config", metavar="PATH", help="config file with a voice: section (default config/mia.yaml)")
    p.add_argument("--commands", metavar="PATH", help="phrases file (default: voice.commands, voice/commands.yaml)")
    p.add_argument("--backend", choices=("pocketsphinx", "vosk"), help="override voice.backend")
    p.add_argument("--model", metavar="DIR", help="override voice.model (a vosk model folder)")
    p.add_argument("--language", metavar="CODE", help="override voice.language (en, ko, ...)")
    p.add_argument("--min-confidence", type=float, metavar="X", help="override voice.min_confidence (0..1)")
    p.add_argument("--audit", metavar="FILE", help="append every heard utterance and outcome as JSON lines")
    p.add_argument("--no-speak", action="store_true", help="print replies, do not speak them")
    p.set_defaults(func=cmd_voice)


def cmd_voice(args) -> int:
    from mia.voice.commands import load_commands
    from mia.voice.config import load_voice_config
    from mia.voice.errors import VoiceError
    from mia.voice.recognizer import make_recognizer

    from pathlib import Path

    def absolute(path):  # paths on the command line are the shell's, not the project folder's
        return str(Path(path).resolve()) if path else None

    cfg = load_voice_config(args.config).with_overrides(
        backend=args.backend, model=absolute(args.model), language=args.language, commands=absolute(args.commands),
        min_confidence=args.min_confidence, speak=False if args.no_speak else None)
    if not 0.0 <= cfg.min_confidence <= 1.0:
        raise VoiceError(f"--min-confidence must be between 0 and 1, got {cfg.min_confidence:g}")
    dispatch = _dry_dispatch if args.dry_run else connect_supervisor(args.config)
    commands = load_commands(cfg.commands_path)
    recognizer = make_recognizer(cfg, commands)
    audit = _audit_file(args.audit) if args.audit else (lambda record: None)
    if args.mic:
        return _listen(recognizer, cfg, dispatch, audit)
    if args.json:
        return _wav_json(args.wav, recognizer, cfg)
    return _wav_session(args.wav, recognizer, cfg, dispatch, audit)


def connect_supervisor(config: str | None):
    """The command bus of the running supervisor (the one `config` names), as a ``dispatch``."""
    from mia.cli.run_cmds import load_run_config
    from mia.voice.frontend import ControlDispatch

    return ControlDispatch(load_run_config(config).control_socket)


def _dry_dispatch(command: str, args: list, origin: str, heard: dict) -> str:
    return f"Dry run: {command} not sent."


def _audit_file(path: str):
    from mia.voice.errors import VoiceError

    try:
        fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for the whole run)
    except OSError as exc:
        raise VoiceError(f"{path}: cannot write the audit file ({exc.strerror or exc})") from None

    def audit(record: dict) -> None:
        from datetime import datetime, timezone

        record = {"at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **record}
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        fh.flush()

    return audit


def _hear_file(path: str, recognizer, cfg):
    from mia.voice.audio import read_wav
    from mia.voice.recognizer import decide

    return decide(recognizer.recognize(read_wav(path)), recognizer.phrases, cfg.min_confidence)


def _wav_json(files: list[str], recognizer, cfg) -> int:
    from mia.voice.errors import VoiceError

    status = 0
    for path in files:
        try:
            heard = _hear_file(path, recognizer, cfg)
        except VoiceError as exc:
            print(str(exc), file=sys.stderr)
            print(json.dumps({"file": path, "error": str(exc)}, ensure_ascii=False), flush=True)
            status = 1
            continue
        row = {"file": path, "text": heard.text, "command": heard.command,
               "confidence": round(heard.confidence, 3)}
        if heard.reason:
            row["reason"] = heard.reason
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return status


def _describe(heard) -> str:
    if heard.command:
        return f"heard '{heard.text}' ({heard.confidence:.2f}) -> {heard.command}"
    said = f" '{heard.text}'" if heard.text else ""
    return f"say again{said} ({heard.reason})"


def _wav_session(files: list[str], recognizer, cfg, dispatch, audit) -> int:
    from mia.voice.errors import VoiceError
    from mia.voice.session import VoiceSession

    session = VoiceSession(dispatch, confirm_timeout_s=cfg.confirm_timeout_s, audit=audit)
    status = 0
    for path in files:
        try:
            heard = _hear_file(path, recognizer, cfg)
        except VoiceError as exc:
            print(str(exc), file=sys.stderr)
            status = 1
            continue
        print(f"{path}: {_describe(heard)}: {session.hear(heard)}", flush=True)
    if session.pending is not None:
        print(f"(no confirm followed: {session.pending.command} was not sent)")
    return status


def _listen(recognizer, cfg, dispatch, audit) -> int:
    from mia.voice import mic
    from mia.voice.recognizer import decide
    from mia.voice.session import VoiceSession
    from mia.voice.speak import Speaker

    name = mic.input_device()
    speaker = Speaker(speak=cfg.speak)
    session = VoiceSession(dispatch, confirm_timeout_s=cfg.confirm_timeout_s, audit=audit)
    print(f"listening on {name} ({recognizer.name}, {cfg.language}); say a command, Ctrl-C to stop", flush=True)

    def on_frame() -> None:
        reply = session.tick()
        if reply:
            speaker.say(reply)

    try:
        for pcm in mic.utterances(on_frame=on_frame):
            heard = decide(recognizer.recognize(pcm), recognizer.phrases, cfg.min_confidence)
            print(_describe(heard), flush=True)
            speaker.say(session.hear(heard))
    finally:
        speaker.close()
    return 0
