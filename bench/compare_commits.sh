#!/usr/bin/env bash
# The gateway alone at two commits, in alternating rounds: requests per gateway CPU-second per
# scenario, the figure the decisions (docs/decisions) quote for a change. The load generator is
# ../shared/peer-bench/loadgen.py, pinned to core 0; the gateway is pinned to core 1.
#
#   bench/compare_commits.sh BEFORE AFTER            # e.g. HEAD~1 HEAD
#   ROUNDS=3 SCENARIOS=token,introspect,userinfo,sso bench/compare_commits.sh 963507e b6ae1c9
#   BACKEND=postgresql bench/compare_commits.sh HEAD~1 HEAD
#
# Run it from a checkout with the project installed in .venv, for two commits with the same
# database migrations (both arms share one database). Each commit is checked out into a
# throw-away worktree and run with this checkout's environment (PYTHONPATH first), so both arms
# use the same installed libraries. One database, one client and one citizen serve both arms;
# on PostgreSQL a database is created and dropped at the end. Loopback only; each round is
# bounded by DURATION seconds per scenario.
set -euo pipefail
[[ $# -eq 2 ]] || { sed -n '2,13p' "$0"; exit 2; }
root=$(git rev-parse --show-toplevel)
peer_bench=${PEER_BENCH:-$root/../shared/peer-bench}
[[ -f $peer_bench/loadgen.py ]] || { echo "no loadgen.py under $peer_bench (set PEER_BENCH)"; exit 1; }
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5} SCENARIOS=${SCENARIOS:-token,introspect,userinfo,sso}
BACKEND=${BACKEND:-sqlite} PORT=${PORT:-18432}
python=$root/.venv/bin/python
work=$(mktemp -d /tmp/compare-commits-XXXX)
pg_admin=${TEST_POSTGRES_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/test}
pg_db=compare_$$
cleanup() {
  [[ -n ${server:-} ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  for arm in before after; do git -C "$root" worktree remove --force "$work/$arm" 2>/dev/null || true; done
  [[ $BACKEND == postgresql ]] && psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
git -C "$root" worktree add -q --detach "$work/before" "$1"
git -C "$root" worktree add -q --detach "$work/after" "$2"

export IDP_ISSUER=http://127.0.0.1:$PORT IDP_KEYS_DIR=$work/keys
if [[ $BACKEND == postgresql ]]; then
  psql "$pg_admin" -qc "CREATE DATABASE $pg_db" >/dev/null
  export IDP_DATABASE_URL=postgresql+psycopg://${pg_admin#postgresql://}
  IDP_DATABASE_URL=${IDP_DATABASE_URL%/*}/$pg_db
else
  export IDP_DATABASE_URL=sqlite:///$work/idp.db
fi
# `python -m` puts the current folder first on sys.path: each arm runs from its own worktree.
idp() { (cd "$work/after" && PYTHONPATH=$work/after "$python" -m gateway.cli "$@"); }
idp db upgrade >/dev/null
idp keys rotate --immediately >/dev/null
creds=$(idp clients add --name bench --redirect-uri http://127.0.0.1:9/cb --grant-type client_credentials \
        --grant-type authorization_code --grant-type refresh_token --json)
printf 'bench-password-0001\n' | idp users add --username bench-user --password-stdin --json >/dev/null
read -r cid csec < <("$python" -c 'import json,sys; t=sys.stdin.read(); d=json.loads(t[t.find("{"):]); print(d["client_id"], d["client_secret"])' <<<"$creds")

for round in $(seq "$ROUNDS"); do
  for arm in before after; do
    (cd "$work/$arm" && PYTHONPATH=$work/$arm exec taskset -c 1 "$python" -m gateway.cli serve \
      --host 127.0.0.1 --port "$PORT") >"$work/serve-$arm-$round.log" 2>&1 &
    server=$!
    for _ in $(seq 150); do curl -sf "$IDP_ISSUER/.well-known/openid-configuration" >/dev/null && break; sleep 0.2; done
    # Which code answers: the worktree's, not this checkout's.
    [[ $(readlink "/proc/$server/cwd") == "$work/$arm" ]] || { echo "the $arm arm is not in $work/$arm"; exit 1; }
    taskset -c 0 python3 "$peer_bench/loadgen.py" --base "$IDP_ISSUER" --client-id "$cid" --client-secret "$csec" \
      --username bench-user --password bench-password-0001 --scope "openid profile" --scenarios "$SCENARIOS" \
      --duration "$DURATION" --runs 1 --warmup 2 --no-header --label "$arm r$round: " --json "$work/$arm-$round.json" |
      grep '^|' || true
    kill "$server"; wait "$server" 2>/dev/null || true; server=
  done
done

"$python" - "$work" "$ROUNDS" "$SCENARIOS" "$1" "$2" <<'PY'
import json, statistics, sys
work, rounds, scenarios, before, after = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), *sys.argv[4:]
def figures(arm, scenario):
    found = []
    for r in range(1, rounds + 1):
        try:
            found.append(json.load(open(f"{work}/{arm}-{r}.json"))["results"][scenario]["median"]["per_cpu_s"])
        except (OSError, KeyError):
            pass
    return found
print(f"\n| scenario | {before} per CPU-s (rounds) | {after} per CPU-s (rounds) | change of the medians |")
print("|---|---:|---:|---:|")
for scenario in scenarios:
    a, b = figures("before", scenario), figures("after", scenario)
    if not a or not b:
        print(f"| {scenario} | - | - | no figure |")
        continue
    fmt = lambda xs: f"{statistics.median(xs):,.0f} ({' / '.join(f'{x:,.0f}' for x in xs)})"
    print(f"| {scenario} | {fmt(a)} | {fmt(b)} | {statistics.median(b) / statistics.median(a) - 1:+.0%} |")
PY
