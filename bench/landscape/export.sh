#!/usr/bin/env bash
# Exports the learning curves of a results database's search as a landscape for
# bench/landscape_replay: fingerprint,expression,steps,step,validation_accuracy, one row per
# evaluation during the budget and one for the result (step = steps reached; a diverged or
# failed child's reward, 0, there), gzip-compressed.
#   bash bench/landscape/export.sh RESULTS.db OUT.csv.gz
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 RESULTS.db OUT.csv.gz" >&2; exit 2; }
sqlite3 -readonly -csv -header "$1" "
  SELECT c.fingerprint, c.expression, r.steps, e.step, e.validation_accuracy
  FROM evaluations e JOIN trials t ON t.id = e.trial_id
  JOIN candidates c ON c.id = t.candidate_id JOIN results r ON r.trial_id = t.id
  WHERE e.step < r.steps
  UNION ALL
  SELECT c.fingerprint, c.expression, r.steps, r.steps,
         CASE WHEN t.state = 'done' THEN r.validation_accuracy ELSE 0 END
  FROM trials t JOIN candidates c ON c.id = t.candidate_id JOIN results r ON r.trial_id = t.id
  WHERE t.state <> 'screened'
  ORDER BY 1, 4" | gzip -9n >"$2"
