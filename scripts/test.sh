#!/usr/bin/env bash
# The whole test suite. Run through `make test`, which does the setup first.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
export PROMPTLINK_DEMO=1
# Rasa and TensorFlow print pages of deprecation warnings from their dependencies.
export PYTHONWARNINGS=ignore
RESULTS=var/test-results
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
step() { printf '\n==> %s\n' "$*"; }

step "Browser for the real-browser tests (Debian chromium)"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and this user cannot install it: run 'sudo apt-get install chromium' and retry." >&2
    exit 1
  fi
fi
chromium --version

step "net-snmp tools for the real-trap tests and the SNMP benchmark (Debian snmp, snmptrapd)"
if ! command -v snmptrap >/dev/null 2>&1 || ! command -v snmptrapd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq snmp snmptrapd >/dev/null
  else
    echo "snmptrap/snmptrapd are missing and this user cannot install them: run 'sudo apt-get install snmp snmptrapd' and retry." >&2
    exit 1
  fi
fi

MODEL=$(.venv/bin/python bot/model.py path)

step "Lint and types (ruff, mypy)"
.venv/bin/ruff check backend bot actions tests testkit scripts bench
.venv/bin/mypy

step "Rasa: data validation (and no held-out example in the training data)"
.venv/bin/python scripts/check_nlu_overlap.py | tail -1
.venv-bot/bin/rasa data validate --fail-on-warnings --quiet

step "Rasa: custom actions, tracker store and speed-ups (bot environment)"
BOT_TESTS=(tests/actions tests/bot/test_tracker_store.py tests/bot/test_speedups.py tests/bot/test_channel_turns.py)
.venv-bot/bin/python -m pytest -q "${BOT_TESTS[@]}"

step "Rasa: test stories"
.venv-bot/bin/rasa test core --stories tests/stories --model "$MODEL" --out "$RESULTS/core" \
  --fail-on-prediction-errors --quiet

step "Rasa: held-out NLU set (never trained on)"
.venv-bot/bin/rasa test nlu --nlu tests/nlu_heldout.yml --model "$MODEL" --out "$RESULTS/nlu" --quiet
.venv/bin/python scripts/check_nlu_report.py "$RESULTS/nlu/intent_report.json" --min-accuracy 0.85
# Per-intent F1 and the confusion matrix, kept for people (reports/ is not in git).
mkdir -p reports && cp "$RESULTS"/nlu/intent_report.json "$RESULTS"/nlu/intent_confusion_matrix.png reports/ 2>/dev/null || true

step "Backend, API, channel and browser tests"
.venv/bin/python -m pytest -q "${BOT_TESTS[@]/#/--ignore=}" tests "$@"
