#!/usr/bin/env bash
# Fuzz mailcfg with cargo-fuzz (libFuzzer) for a fixed budget per target; see docs/robustness.md.
#
#   bash scripts/fuzz.sh                 # every target, FUZZ_SECONDS (300) each
#   FUZZ_SECONDS=60 bash scripts/fuzz.sh reader
#
# Targets: reader, stream (the fast path from text to model, against the reader), check, lsp
# (the language server; its input format is documented in src/lsp/session.rs), wire (the
# language server's transport on raw bytes).
#
# Needs a nightly toolchain (rustup toolchain install nightly) and cargo-fuzz (installed here
# when missing). The corpus starts from the files in fuzz/seeds (plus fuzz/seeds/<target>/ when
# there is one) and grows in fuzz/corpus/<target>; crashes land in fuzz/artifacts/<target>:
# copy each into fuzz/regressions/ (tests/it/fuzz_corpus.rs then runs it in CI) and fix the cause.
# Prints executions and findings per target.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-300}
TARGETS=${*:-reader stream check lsp wire}

rustup toolchain list | grep -q '^nightly' || {
  echo "fuzz.sh: needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz >&2
fi

cd "$REPO/fuzz"
mkdir -p logs
for t in $TARGETS; do
  mkdir -p "corpus/$t"
  find seeds -maxdepth 1 -type f -exec cp -n {} "corpus/$t/" \;
  if [ -d "seeds/$t" ]; then cp -n "seeds/$t"/* "corpus/$t/" 2>/dev/null || true; fi
  echo "fuzz.sh: $t for ${SECONDS_PER_TARGET}s" >&2
  set +e
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$SECONDS_PER_TARGET" \
    -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 >"logs/$t.log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(ls "corpus/$t" | wc -l)
  crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
  echo "$t: exit $rc, executions $runs, corpus $corpus inputs, artifacts $crashes (log: fuzz/logs/$t.log)"
done
