#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: a venv in .venv with mia and the extras asked for.
# Usage: scripts/bootstrap.sh [EXTRAS]   e.g. scripts/bootstrap.sh test,bench
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
py="${PYTHON:-python3}"
# Voice (extras voice and test) needs two system libraries: espeak-ng (spoken replies, the test
# fixtures' voices) and PortAudio (microphone and speaker). As root, install what is missing.
case ",$extras," in
*,voice,*|*,test,*)
    missing=""
    command -v espeak-ng >/dev/null 2>&1 || missing="$missing espeak-ng"
    ldconfig -p 2>/dev/null | grep -q 'libportaudio\.so\.2' || missing="$missing libportaudio2"
    if [ -n "$missing" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            export DEBIAN_FRONTEND=noninteractive
            log="$(mktemp)"
            if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
                cat "$log" >&2
                echo "bootstrap: apt-get install$missing failed" >&2
                rm -f "$log"
                exit 1
            fi
            rm -f "$log"
        else
            echo "bootstrap: voice needs the system packages:$missing (apt-get install$missing)" >&2
        fi
    fi
    ;;
esac
if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
fi
# Re-install only when pyproject.toml or the extras changed.
stamp=".venv/.mia-setup-$(printf '%s' "$extras" | tr ',' '_')"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    if [ -n "$extras" ]; then
        .venv/bin/python -m pip install --quiet -e ".[$extras]"
    else
        .venv/bin/python -m pip install --quiet -e .
    fi
    echo "$want" > "$stamp"
fi
