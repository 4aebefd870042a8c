#!/usr/bin/env bash
# Benchmark `mailcfg check` (release) against its peers and floors on the same generated
# accounts, in one run, and print medians and ratios. See docs/performance.md.
#
#   bash scripts/bench/run.sh            # installs what is missing, then times S1 S2 S3
#   bash scripts/bench/run.sh --quick    # 1,000 accounts, 3 runs: a smoke run, not for quoting
#   bash scripts/bench/run.sh -h
set -uo pipefail

usage() {
  cat <<'EOF'
usage: run.sh [--quick] [--no-install] [--scenarios "S1 S2 S3"]

  --quick          N=1000 N3=100 RUNS=3 RUNS3=5
  --no-install     use what is installed; install nothing
  --scenarios L    time only these (default "S1 S2 S3")

environment (defaults):
  BENCH_WORK=/tmp/mailcfg-bench   tools, corpora, results
  N=10000 N3=100 SEED=1           accounts in S1/S2, in S3; generator seed
  RUNS=5 RUNS3=20                 hyperfine runs per command in S1/S2, in S3
  JOBS=2                          cargo build jobs
  S3_BASELINE_MS=4.9              S3 median of `mailcfg check` before issue 17 (its target:
                                  no slower)
EOF
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${BENCH_WORK:-/tmp/mailcfg-bench}
TOOLS=$WORK/tools
CORPUS=$WORK/corpus
OUT=$WORK/results
LOGS=$WORK/logs
N=${N:-10000}
N3=${N3:-100}
SEED=${SEED:-1}
RUNS=${RUNS:-5}
RUNS3=${RUNS3:-20}
JOBS=${JOBS:-2}
S3_BASELINE_MS=${S3_BASELINE_MS:-4.9}
INSTALL=1
SCENARIOS="S1 S2 S3"
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) N=1000 N3=100 RUNS=3 RUNS3=5 QUICK=1 ;;
    --no-install) INSTALL=0 ;;
    --scenarios) shift; SCENARIOS=$1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# Versions installed when missing.
CHECK_JSONSCHEMA_VERSION=0.39.0
CKDL_VERSION=1.0
AJV_CLI_VERSION=5.0.0
JSONSCHEMA_CLI_VERSION=0.60.2

mkdir -p "$TOOLS" "$CORPUS" "$OUT" "$LOGS"
VENV=$TOOLS/venv
PY=$VENV/bin/python
AJV=$TOOLS/npm/node_modules/.bin/ajv
CHECK_JSONSCHEMA=$VENV/bin/check-jsonschema
JSONSCHEMA_CLI=$TOOLS/cargo/bin/jsonschema-cli
MAILCFG=$REPO/target/release/mailcfg
FLOOR=$REPO/target/release/mailcfg-bench-floor
SCHEMA=$WORK/peer.schema.json

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- install

install_tools() {
  if ! command -v hyperfine >/dev/null; then
    log "hyperfine: apt-get install"
    [ "$(id -u)" = 0 ] || die "hyperfine is missing: apt-get install hyperfine"
    { apt-get install -y hyperfine || { apt-get update && apt-get install -y hyperfine; }; } \
      >"$LOGS/install-hyperfine.log" 2>&1 || die "apt-get failed, see $LOGS/install-hyperfine.log"
  fi
  if [ ! -x "$CHECK_JSONSCHEMA" ] || ! "$PY" -c 'import ckdl' 2>/dev/null; then
    log "check-jsonschema $CHECK_JSONSCHEMA_VERSION, ckdl $CKDL_VERSION: pip install into $VENV"
    { python3 -m venv "$VENV" &&
      "$VENV/bin/pip" install -q "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "ckdl==$CKDL_VERSION"; } \
      >"$LOGS/install-pip.log" 2>&1 || die "pip install failed, see $LOGS/install-pip.log"
  fi
  if [ ! -x "$AJV" ]; then
    log "ajv-cli $AJV_CLI_VERSION: npm install"
    mkdir -p "$TOOLS/npm"
    npm install --prefix "$TOOLS/npm" --no-audit --no-fund "ajv-cli@$AJV_CLI_VERSION" \
      >"$LOGS/install-npm.log" 2>&1 || die "npm install failed, see $LOGS/install-npm.log"
  fi
  if [ ! -x "$JSONSCHEMA_CLI" ]; then
    log "jsonschema-cli $JSONSCHEMA_CLI_VERSION: cargo install (several minutes on 2 cores)"
    cargo install --locked --root "$TOOLS/cargo" --version "$JSONSCHEMA_CLI_VERSION" \
      -j "$JOBS" jsonschema-cli >"$LOGS/install-jsonschema-cli.log" 2>&1 ||
      die "cargo install jsonschema-cli failed, see $LOGS/install-jsonschema-cli.log"
  fi
}

build() {
  log "mailcfg: cargo build --release"
  (cd "$REPO" && cargo build --release -j "$JOBS" >"$LOGS/build.log" 2>&1) ||
    die "release build failed, see $LOGS/build.log"
  # The floor shares mailcfg's target dir and (via a copy of its lock file) its versions, so
  # only the floor itself is compiled again.
  cp "$REPO/Cargo.lock" "$HERE/floor/Cargo.lock"
  (cd "$HERE/floor" && CARGO_TARGET_DIR=$REPO/target cargo build --release -j "$JOBS" \
    >"$LOGS/build-floor.log" 2>&1) || die "floor build failed, see $LOGS/build-floor.log"
}

[ "$INSTALL" = 1 ] && install_tools
command -v hyperfine >/dev/null || die "hyperfine missing (run without --no-install)"
build

# ---------------------------------------------------------------- corpora

# The peers validate the JSON form against mailcfg's own schema, minus annotations that are
# not validation (`format: uint32` from schemars, `x-*` keywords), which ajv's strict mode
# rejects; every validator then checks the same constraints.
"$PY" - "$REPO/schema/mailcfg.schema.json" "$SCHEMA" <<'EOF'
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items()
                if not k.startswith("x-") and not (k == "format" and isinstance(v, str))}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
json.dump(strip(json.load(open(sys.argv[1]))), open(sys.argv[2], "w"), indent=1)
EOF

gen_key=$(cat "$HERE/gen.py" | sha256sum | cut -c1-12)-$SEED-$N-$N3
gen() { # name accounts layout ratio
  local dir=$CORPUS/$1
  if [ "$(cat "$dir/.key" 2>/dev/null)" = "$gen_key" ]; then return; fi
  log "generating $1: $2 accounts, $3, invalid ratio $4"
  rm -rf "$dir"
  python3 "$HERE/gen.py" --accounts "$2" --layout "$3" --seed "$SEED" --invalid-ratio "$4" \
    --out "$dir" --manifest "$dir/broken.json" || die "gen.py failed"
  echo "$gen_key" >"$dir/.key"
}
gen S1 "$N" files 0
gen S2 "$N" single 0
gen S3 "$N3" files 0
gen V1 "$N" files 0.01
gen V2 "$N" single 0.01

# ---------------------------------------------------------------- commands

# kdl_arg / json_arg: what each tool is given for a scenario (a directory, a glob or a file).
cmds() { # scenario -> lines "label<TAB>command"
  local d=$CORPUS/$1 kdl json jsons json_path
  if [ -f "$d/kdl/accounts.kdl" ]; then
    kdl=$d/kdl/accounts.kdl json=$d/json/accounts.json jsons=$json json_path=$json
  else
    kdl=$d/kdl json="$d/json/*.json" jsons="$d/json/*.json" json_path=$d/json
  fi
  local kdl_glob=$kdl
  [ -d "$kdl" ] && kdl_glob="$kdl/*.kdl"
  printf '%s\t%s\n' \
    "mailcfg check" "$MAILCFG check --color never $kdl" \
    "jsonschema-cli" "$JSONSCHEMA_CLI validate --offline $SCHEMA -i $jsons" \
    "ajv-cli" "$AJV validate --spec=draft2020 --all-errors --errors=line -s $SCHEMA -d '$json'" \
    "check-jsonschema" "$CHECK_JSONSCHEMA --schemafile $SCHEMA $jsons" \
    "floor: cat" "cat $kdl_glob" \
    "floor: read (Rust)" "$FLOOR read $kdl" \
    "floor: mailcfg reader" "$FLOOR reader $kdl" \
    "floor: mailcfg stream" "$FLOOR stream $kdl" \
    "floor: serde_json → model (JSON)" "$FLOOR serde-json $json_path" \
    "floor: kdl 6.7.1 parse" "$FLOOR kdl $kdl" \
    "floor: ckdl parse" "$PY $HERE/ckdl_floor.py $kdl"
}

# ---------------------------------------------------------------- error check

# Nobody may measure a no-op: every validator must pass the valid corpus and report exactly the
# broken accounts of V1 (one per file) and V2 (one file).
log "error check on S1, V1, V2"
{
  echo "| tool | S1 valid | V1: 1 % of $N files broken | V2: 1 % of $N accounts in one file broken |"
  echo "|---|---|---|---|"
  for tool in "mailcfg check" "jsonschema-cli" "ajv-cli" "check-jsonschema"; do
    row="| $tool"
    for sc in S1 V1 V2; do
      cmd=$(cmds "$sc" | awk -F'\t' -v t="$tool" '$1 == t { print $2 }')
      sh -c "$cmd" >"$LOGS/check-$sc-${tool// /-}.out" 2>&1
      rc=$?
      n=$("$PY" "$HERE/count_errors.py" "$tool" "$LOGS/check-$sc-${tool// /-}.out")
      row="$row | exit $rc, $n"
    done
    echo "$row |"
  done
} >"$OUT/errors.md"
cat "$OUT/errors.md"

# ---------------------------------------------------------------- timing

for sc in $SCENARIOS; do
  runs=$RUNS
  [ "$sc" = S3 ] && runs=$RUNS3
  log "timing $sc ($runs runs per command)"
  args=()
  while IFS=$'\t' read -r label cmd; do
    args+=(-n "$label" "$cmd")
  done < <(cmds "$sc")
  hyperfine --shell sh --warmup 1 --runs "$runs" --export-json "$OUT/$sc.json" \
    --style basic "${args[@]}" >"$LOGS/hyperfine-$sc.log" 2>&1 ||
    log "hyperfine $sc reported a failure, see $LOGS/hyperfine-$sc.log"
done

# Peak memory of mailcfg check on the one-file scenario (resident set, from rusage).
peak=$("$PY" -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
  "$MAILCFG" check --color never "$CORPUS/S2/kdl/accounts.kdl")
size=$(stat -c %s "$CORPUS/S2/kdl/accounts.kdl")

"$PY" "$HERE/summarize.py" --out "$OUT" --scenarios "$SCENARIOS" --peak-kib "$peak" \
  --s2-bytes "$size" --corpus "$CORPUS" --s3-baseline-ms "$S3_BASELINE_MS" | tee "$OUT/results.md"
cat "$OUT/errors.md" >>"$OUT/results.md"
log "results in $OUT/results.md"
