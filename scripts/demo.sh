#!/usr/bin/env bash
# `make run` for now: check the bundled rules, then show where they fire on the bundled session.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/mia check rules/
.venv/bin/mia signals --rules rules/ --quiet
