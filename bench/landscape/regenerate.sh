#!/usr/bin/env bash
# Rebuilds the landscape bench/landscape_replay replays, with the project itself:
#   fashion-mnist-resnet8.csv.gz        an exhaustive search of fashion-mnist-resnet8.textproto's
#                                       space (every class trained to the end, validation every
#                                       15 steps), its curves exported by export.sh;
#   fashion-mnist-resnet8-rungs.csv.gz  every class trained again with budgets of its own of 33
#                                       and 100 steps (restart-style rungs): fingerprint,budget,
#                                       validation_accuracy (0 where it diverged).
#   bash bench/landscape/regenerate.sh [BUILD_DIR]   (default build/cpu; about 70 min, 2 cores)
# With --long, only the longer landscape instead:
#   fashion-mnist-resnet8-900.csv.gz    fashion-mnist-resnet8-900.textproto's exhaustive search
#                                       (900 steps, 5,000 validation images every 100 steps)
#   bash bench/landscape/regenerate.sh --long [BUILD_DIR]   (about 80 min, 2 cores)
# With --epochs, only the many-epoch landscape (the same on 4,000 training images: 29 epochs):
#   fashion-mnist-4000-resnet8-900.csv.gz
#   bash bench/landscape/regenerate.sh --epochs [BUILD_DIR]   (about 100 min, 2 cores)
# LANDSCAPE_WORK=DIR keeps the searches' databases in DIR: run again after an interruption and
# each search resumes where it stopped (the default, a fresh temporary folder, starts over).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
only=""
case "${1:-}" in
  --long) only=fashion-mnist-resnet8-900; shift ;;
  --epochs) only=fashion-mnist-4000-resnet8-900; shift ;;
esac
build="${1:-build/cpu}"
work="${LANDSCAPE_WORK:-$(mktemp -d)}"
mkdir -p "$work"
if [ -n "$only" ]; then
  "$build/cli/actsearch" local --config "$here/$only.textproto" \
    --db "$work/landscape.db" --workers 1 --progress-seconds 60
  bash "$here/export.sh" "$work/landscape.db" "$here/$only.csv.gz"
  exit 0
fi
config="$here/fashion-mnist-resnet8.textproto"
"$build/cli/actsearch" local --config "$config" --db "$work/landscape.db" --workers 1 \
  --progress-seconds 60
bash "$here/export.sh" "$work/landscape.db" "$here/fashion-mnist-resnet8.csv.gz"
{
  echo "fingerprint,budget,validation_accuracy"
  for budget in 33 100; do
    sed -e "s/name: \"landscape\"/name: \"landscape $budget\"/" \
      -e "s/steps: 300 validation/steps: $budget validation/" -e '/^early_stopping/d' \
      "$config" >"$work/rung.textproto"
    "$build/cli/actsearch" local --config "$work/rung.textproto" --db "$work/rung$budget.db" \
      --workers 1 --progress-seconds 60 >&2
    sqlite3 -readonly -csv "$work/rung$budget.db" "
      SELECT c.fingerprint, $budget,
             CASE WHEN t.state = 'done' THEN r.validation_accuracy ELSE 0 END
      FROM trials t JOIN candidates c ON c.id = t.candidate_id
      JOIN results r ON r.trial_id = t.id WHERE t.state <> 'screened' ORDER BY 1"
  done
} | gzip -9n >"$here/fashion-mnist-resnet8-rungs.csv.gz"
