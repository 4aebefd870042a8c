#!/usr/bin/env python3
"""hyperfine JSON exports -> Markdown tables with medians, throughput, ratios and the targets.

The targets are issue 17's ("Parse at the speed of reading"); `--s3-baseline-ms` is the S3
median of `mailcfg check` that "S3 no slower than today" compares against.
"""
import argparse
import json
import os

# Commands that read the JSON form of the corpus; every other command reads the KDL files.
JSON_COMMANDS = {"jsonschema-cli", "ajv-cli", "check-jsonschema", "floor: serde_json → model (JSON)"}
READER = "floor: mailcfg reader"
# What `mailcfg check` reads a valid file with (lower::stream); the reader builds the whole tree.
STREAM = "floor: mailcfg stream"
SERDE_JSON = "floor: serde_json → model (JSON)"


def fmt(t):
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def size_of(directory):
    names = [f for f in os.listdir(directory) if not f.startswith(".")]
    return sum(os.path.getsize(os.path.join(directory, f)) for f in names), len(names)


def mbps(size, seconds):
    return size / 1e6 / seconds if seconds > 0 else float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--scenarios", required=True)
    ap.add_argument("--peak-kib", type=int, required=True)
    ap.add_argument("--s2-bytes", type=int, required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--s3-baseline-ms", type=float, default=4.9)
    args = ap.parse_args()
    medians, sizes = {}, {}
    for sc in args.scenarios.split():
        path = os.path.join(args.out, f"{sc}.json")
        if not os.path.exists(path):
            print(f"{sc}: no results\n")
            continue
        results = json.load(open(path))["results"]
        med = {r["command"]: r["median"] for r in results}
        medians[sc] = med
        ours = med.get("mailcfg check")
        kdl_size, nfiles = size_of(os.path.join(args.corpus, sc, "kdl"))
        json_size, _ = size_of(os.path.join(args.corpus, sc, "json"))
        sizes[sc] = (kdl_size, json_size)
        print(f"#### {sc}: {nfiles} KDL file(s), {kdl_size / 1e6:.2f} MB "
              f"(as JSON: {json_size / 1e6:.2f} MB)\n")
        print("| command | runs | median | min-max | CPU (user+sys, mean) | input MB/s | "
              "mailcfg check / this |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in results:
            # hyperfine subtracts the shell's start-up; a sub-millisecond floor can come out as 0.
            ratio = f"{ours / r['median']:.2f}" if ours and r["median"] > 0 else "-"
            cpu = r["user"] + r["system"]
            size = json_size if r["command"] in JSON_COMMANDS else kdl_size
            rate = f"{mbps(size, r['median']):.0f}" if r["median"] > 0 else "-"
            print(f"| {r['command']} | {len(r['times'])} | {fmt(r['median'])} | "
                  f"{fmt(r['min'])}-{fmt(r['max'])} | {fmt(cpu)} | {rate} | {ratio} |")
        print()
        if READER in med and med[READER] > 0:
            line = (f"Reader throughput: mailcfg's reader {mbps(kdl_size, med[READER]):.0f} MB/s "
                    f"of KDL")
            if STREAM in med and med[STREAM] > 0:
                line += (f", its stream reader (what check reads valid files with) "
                         f"{mbps(kdl_size, med[STREAM]):.0f} MB/s")
            if SERDE_JSON in med and med[SERDE_JSON] > 0:
                # What check reads with (the stream reader, else the tree) against serde_json.
                ours_reader, name = ((med[STREAM], "stream reader") if med.get(STREAM, 0) > 0
                                     else (med[READER], "reader"))
                line += (f"; serde_json into the same model {mbps(json_size, med[SERDE_JSON]):.0f}"
                         f" MB/s of JSON, {med[SERDE_JSON] * 1000:.1f} ms for the same accounts "
                         f"({name} / serde_json: {ours_reader / med[SERDE_JSON]:.2f}x the time)")
            print(line + ".\n")
    print("#### Targets (issue 17)\n")
    print("| target | measured | met |")
    print("|---|---:|---|")
    rows = []
    for sc, med in medians.items():
        ours = med.get("mailcfg check")
        if ours is None:
            continue
        limit = {"S1": 0.075, "S2": 0.050, "S3": args.s3_baseline_ms / 1000}.get(sc)
        if limit is not None:
            rows.append((f"{sc}: mailcfg check <= {fmt(limit)}", fmt(ours), ours <= limit))
        if sc == "S2" and "jsonschema-cli" in med:
            x = med["jsonschema-cli"] / ours
            rows.append(("S2: jsonschema-cli / mailcfg >= 2", f"{x:.2f}x", x >= 2))
        elif "jsonschema-cli" in med:
            x = ours / med["jsonschema-cli"]
            rows.append((f"{sc}: mailcfg / jsonschema-cli < 1.0", f"{x:.2f}", x < 1.0))
        if "ajv-cli" in med:
            x = med["ajv-cli"] / ours
            rows.append((f"{sc}: ajv-cli / mailcfg >= 6", f"{x:.1f}x", x >= 6))
        if "check-jsonschema" in med:
            x = med["check-jsonschema"] / ours
            rows.append((f"{sc}: check-jsonschema / mailcfg >= 60", f"{x:.0f}x", x >= 60))
        if sc == "S1" and "floor: read (Rust)" in med:
            x = ours / med["floor: read (Rust)"]
            rows.append(("S1: mailcfg / reading the files <= 1.6", f"{x:.2f}x", x <= 1.6))
        reader = STREAM if STREAM in med else READER
        if sc == "S2" and reader in med:
            rate = mbps(sizes[sc][0], med[reader])
            rows.append((f"S2: reader >= 250 MB/s (one core; {reader})", f"{rate:.0f} MB/s",
                         rate >= 250))
    ratio = args.peak_kib * 1024 / args.s2_bytes
    rows.append(("S2: peak memory <= 2x input",
                 f"{args.peak_kib / 1024:.0f} MiB = {ratio:.1f}x of {args.s2_bytes / 1e6:.2f} MB",
                 ratio <= 2))
    for name, value, ok in rows:
        print(f"| {name} | {value} | {'yes' if ok else '**no**'} |")
    print()


if __name__ == "__main__":
    main()
