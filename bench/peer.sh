#!/usr/bin/env bash
# The peer of the benchmark: listing a prompt's evaluations the way a hand-written CI step does it,
# with curl and jq, following nextCursor page by page, then totalling the runs.
#
#   ADALINE_API_KEY=... ADALINE_PROMPT_ID=... [ADALINE_BASE_URL=...] bash bench/peer.sh
#
# It asks for limit=200, the API's maximum, as a user who read the reference would (without it the
# API pages 50 at a time: four times the requests). Prints {count, pass, fail, unknown} as JSON.
set -euo pipefail

base="${ADALINE_BASE_URL:-https://api.adaline.ai/v2}"
url="$base/prompts/$ADALINE_PROMPT_ID/evaluations?limit=200"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cursor=""
while :; do
  curl -fsS -H "Authorization: Bearer $ADALINE_API_KEY" \
    "$url${cursor:+&cursor=$cursor}" -o "$work/page.json"
  jq -c '.evaluations[]' "$work/page.json" >>"$work/evaluations.ndjson"
  cursor=$(jq -r '.pagination.nextCursor // empty' "$work/page.json")
  [ -n "$cursor" ] || break
done

touch "$work/evaluations.ndjson"
jq -s '{
  count: length,
  pass: (map(.metrics.passRuns) | add // 0),
  fail: (map(.metrics.failRuns) | add // 0),
  unknown: (map(.metrics.unknownRuns) | add // 0)
}' "$work/evaluations.ndjson"
