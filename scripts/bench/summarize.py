#!/usr/bin/env python3
"""hyperfine JSON exports -> Markdown tables with medians, ratios and the issue's targets."""
import argparse
import json
import os


def fmt(t):
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--scenarios", required=True)
    ap.add_argument("--peak-kib", type=int, required=True)
    ap.add_argument("--s2-bytes", type=int, required=True)
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args()
    medians = {}
    for sc in args.scenarios.split():
        path = os.path.join(args.out, f"{sc}.json")
        if not os.path.exists(path):
            print(f"{sc}: no results\n")
            continue
        results = json.load(open(path))["results"]
        med = {r["command"]: r["median"] for r in results}
        medians[sc] = med
        ours = med.get("mailcfg check")
        kdl_dir = os.path.join(args.corpus, sc, "kdl")
        size = sum(os.path.getsize(os.path.join(kdl_dir, f)) for f in os.listdir(kdl_dir))
        nfiles = len(os.listdir(kdl_dir))
        print(f"#### {sc}: {nfiles} KDL file(s), {size / 1e6:.2f} MB\n")
        print("| command | runs | median | min-max | CPU (user+sys, mean) | mailcfg check / this |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in results:
            # hyperfine subtracts the shell's start-up; a sub-millisecond floor can come out as 0.
            ratio = f"{ours / r['median']:.2f}" if ours and r["median"] > 0 else "-"
            cpu = r["user"] + r["system"]
            print(f"| {r['command']} | {len(r['times'])} | {fmt(r['median'])} | "
                  f"{fmt(r['min'])}-{fmt(r['max'])} | {fmt(cpu)} | {ratio} |")
        print()
    print("#### Targets\n")
    print("| target | measured | met |")
    print("|---|---:|---|")
    for sc, med in medians.items():
        ours = med.get("mailcfg check")
        if ours is None:
            continue
        checks = []
        if "jsonschema-cli" in med:
            checks.append((f"{sc}: mailcfg / jsonschema-cli < 1.0", ours / med["jsonschema-cli"], lambda x: x < 1.0, "{:.2f}"))
        if "ajv-cli" in med:
            checks.append((f"{sc}: ajv-cli / mailcfg >= 6", med["ajv-cli"] / ours, lambda x: x >= 6, "{:.1f}x"))
        if "check-jsonschema" in med:
            checks.append((f"{sc}: check-jsonschema / mailcfg >= 60", med["check-jsonschema"] / ours, lambda x: x >= 60, "{:.0f}x"))
        if sc == "S1" and "floor: read (Rust)" in med:
            checks.append(("S1: mailcfg / reading the files <= 2", ours / med["floor: read (Rust)"], lambda x: x <= 2, "{:.1f}x"))
        for name, value, ok, f in checks:
            print(f"| {name} | {f.format(value)} | {'yes' if ok(value) else '**no**'} |")
    ratio = args.peak_kib * 1024 / args.s2_bytes
    print(f"| S2: peak memory < 10x input | {args.peak_kib / 1024:.0f} MiB = {ratio:.1f}x of "
          f"{args.s2_bytes / 1e6:.2f} MB | {'yes' if ratio < 10 else '**no**'} |")
    print()


if __name__ == "__main__":
    main()
