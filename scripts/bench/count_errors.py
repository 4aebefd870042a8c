#!/usr/bin/env python3
"""What a validator reported, from its output: `files=F errors=E` (F files with errors)."""
import re
import sys


def main():
    tool, path = sys.argv[1], sys.argv[2]
    text = open(path, encoding="utf-8", errors="replace").read()
    lines = text.splitlines()
    if tool == "mailcfg check":
        errors = sum(1 for l in lines if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", l))
        files = {m.group(1) for m in re.finditer(r"─\[([^\]]+?):\d+:\d+\]", text)}
    elif tool == "jsonschema-cli":
        # `FILE - INVALID. Errors:` then one numbered line per error.
        files = {l.rsplit(" - ", 1)[0] for l in lines if l.endswith(" - INVALID. Errors:")}
        errors = sum(1 for l in lines if re.match(r"\d+\. ", l))
    elif tool == "ajv-cli":
        errors = text.count('"instancePath"')
        files = {l.split()[0] for l in lines if l.endswith(" invalid")}
    else:  # check-jsonschema
        errs = [l for l in lines if "::$" in l]
        errors = len(errs)
        files = {l.strip().split("::")[0] for l in errs}
    print(f"files={len(files)} errors={errors}")


if __name__ == "__main__":
    main()
