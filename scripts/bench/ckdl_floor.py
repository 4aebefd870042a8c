#!/usr/bin/env python3
"""ckdl (C back-end) parse floor: parse every .kdl file under PATH as KDL v2.

    ckdl_floor.py PATH
"""
import os
import sys

import ckdl


def main():
    path = sys.argv[1]
    files = ([path] if os.path.isfile(path) else
             sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".kdl")))
    nodes = errors = 0
    for f in files:
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        try:
            nodes += len(ckdl.parse(text, version=2).nodes)
        except Exception:  # noqa: BLE001 - any parse failure counts
            errors += 1
    print(f"files={len(files)} nodes={nodes} errors={errors}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
