#!/usr/bin/env python3
"""Seeded corpus generator for mailcfg's benchmarks (standard library only).

    gen.py --accounts N --layout files|single --out DIR [--seed S] [--invalid-ratio R]
           [--manifest PATH]

Writes N accounts in mailcfg's language (docs/format.md) as KDL, and the same data as JSON in
the form mailcfg lowers KDL to (so peers validate it against schema/mailcfg.schema.json):

    DIR/kdl/acct-00000.kdl ...   or  DIR/kdl/accounts.kdl     (layout files / single)
    DIR/json/acct-00000.json ... or  DIR/json/accounts.json

Accounts vary like real ones: imap (70 %) or pop; security ssl / tls (IMAP only) / auto /
basic with the matching well-known port or (10 %) a custom port; the password as env= or
file= reference; outgoing auth same-as-incoming, log-on (with its own user and password inside
`outgoing`) or none; optional conversation-id, one to four From addresses, optional lock.
About 600 bytes of KDL each. The valid corpus passes `mailcfg check` with no finding.

--invalid-ratio R gives round(R * N) accounts exactly one schema error each (a port out of
range, a security value outside the enumeration, or an unknown node), chosen with their own
random stream so every other account is byte-identical to the valid corpus of the same seed.
--manifest PATH writes the list of broken accounts (index, name, kind) as JSON.
"""

import argparse
import json
import os
import random

DEPTS = ["ServiceDesk", "Support", "Sales", "Billing", "Accounts", "HR", "Payroll",
         "Recruiting", "Marketing", "Press", "Legal", "Security", "Abuse", "NOC", "DevOps",
         "Facilities", "Procurement", "Helpdesk", "Orders", "Returns", "Shipping", "Research"]
REGIONS = ["EMEA", "APAC", "AMER", "DACH", "Nordics", "Benelux", "UK", "US-East", "US-West",
           "LATAM", "ANZ", "Iberia", "Japan", "India"]
DOMAINS = ["example.com", "example.org", "example.net", "acme.example", "contoso.test",
           "fabrikam.test", "initech.example", "globex.example", "mail.example.co.uk",
           "corp.example.de", "tickets.example.fr", "university.example.edu"]
MAILBOXES = ["INBOX", "INBOX", "INBOX", "INBOX/Tickets", "Shared/Queue", "INBOX.Support"]
DISPLAY = ["Service Desk", "Customer Support", "Sales Team", "Billing Dept.", "No Reply",
           "\"Helpdesk (EMEA)\"", "Team \u00c6sir", "Ops On-Call", "Human Resources"]
LOCALS = ["noreply", "no-reply", "support", "help", "info", "team", "contact", "tickets"]

# Well-known ports: (service, implicit TLS?) -> port.
PORTS = {("imap", True): 993, ("imap", False): 143, ("pop", True): 995, ("pop", False): 110,
         ("smtp", True): 465, ("smtp", False): 587}
BAD_KINDS = ["bad-port", "bad-security", "unknown-node"]


def slug(s):
    return "".join(c.lower() if c.isalnum() else "-" for c in s).strip("-")


def env_name(s):
    return "".join(c.upper() if c.isalnum() else "_" for c in s)


def pick(rng, items, weights=None):
    if weights is None:
        return items[rng.randrange(len(items))]
    return rng.choices(items, weights=weights, k=1)[0]


def secret(rng, name, side):
    if rng.random() < 0.75:
        return {"env": f"{env_name(name)}_{side.upper()}_PASSWORD"}
    return {"file": f"secrets/{slug(name)}-{side}.txt"}


def make_account(rng, i):
    """One valid account, as the ordered JSON object mailcfg lowers its KDL to.

    Every choice stays clear of the rule catalogue (docs/rules.md) so the valid corpus has
    no finding at all: only encrypted security modes, ports written only when they differ
    from the default, unique logins, locked shared credentials, conversation IDs for
    monitor-only accounts, no arbitrary From addresses.
    """
    dept, region, domain = pick(rng, DEPTS), pick(rng, REGIONS), pick(rng, DOMAINS)
    name = f"{dept}-{region}-{i:05d}"
    proto = pick(rng, ["imap", "pop"], [70, 30])
    acct = {"name": name, "protocol": proto}
    visible = rng.random() < 0.5
    if visible or rng.random() < 0.8:  # absent means #false
        acct["available-to-users"] = visible
    sec = pick(rng, ["ssl", "tls"], [65, 35]) if proto == "imap" else "ssl"
    inc = {"server": pick(rng, [f"{proto}.{domain}", f"mail.{domain}",
                                f"{proto}{rng.randrange(1, 9)}.{domain}"]),
           "security": sec}
    if rng.random() < 0.1:
        inc["port"] = rng.randrange(1024, 65536)
    local = slug(dept)
    inc["user"] = f"{local}-{i}@{domain}" if rng.random() < 0.8 else f"{local}-{i}"
    inc["password"] = secret(rng, name, proto)
    if proto == "imap" and rng.random() < 0.8:
        inc["mailbox"] = pick(rng, MAILBOXES)
    acct["incoming"] = inc

    auth = pick(rng, ["same-as-incoming", "log-on", "none"], [60, 30, 10])
    # Unauthenticated mail goes to the relay port (STARTTLS, the default 25); authenticated
    # mail to a submission port: 587 with STARTTLS or 465 (the implicit-TLS default).
    osec = "tls" if auth == "none" else pick(rng, ["tls", "ssl"], [70, 30])
    out = {"server": pick(rng, [f"smtp.{domain}", f"mail.{domain}",
                                f"relay{rng.randrange(1, 5)}.{domain}"]),
           "security": osec}
    if auth != "none" and rng.random() < 0.1:
        out["port"] = pick(rng, [2525, 10025, 8025, 1587])
    elif auth != "none" and osec == "tls":
        out["port"] = 587
    out["auth"] = auth
    if auth == "log-on":
        out["user"] = f"{local}-smtp-{i}@{domain}"
        out["password"] = secret(rng, name, "smtp")
    acct["outgoing"] = out

    if not visible or rng.random() < 0.7:
        acct["conversation-id"] = pick(rng, ["subject", "body"])
    frm = {"allow-user-address": rng.random() < 0.3, "allow-arbitrary": False}
    n = pick(rng, [1, 2, 3, 4], [40, 35, 15, 10])
    default_at = rng.randrange(n) if rng.random() < 0.6 else -1
    addrs = []
    for k in range(n):
        a = (f"{local}@{domain}" if k == 0
             else f"{pick(rng, DISPLAY)} <{pick(rng, LOCALS)}{k}@{domain}>")
        addrs.append({"value": a, "default": True} if k == default_at else {"value": a})
    frm["address"] = addrs
    acct["from"] = frm
    if visible or rng.random() < 0.5:
        acct["lock"] = {"server": True, "credentials": True}
    return acct


def break_account(rng, acct, kind):
    """Exactly one schema error of `kind`."""
    side = pick(rng, ["incoming", "outgoing"])
    if kind == "bad-port":
        acct[side]["port"] = pick(rng, [0, 65536, 70000, 99999])
    elif kind == "bad-security":
        acct[side]["security"] = pick(rng, ["ssl3", "starttls", "SSL", "tls1.3"])
    else:
        where = pick(rng, ["account", "incoming", "outgoing", "from"])
        key, val = pick(rng, [("signature", "-- The Team"), ("timeout", 30),
                              ("reply-to", "x@example.com"), ("retries", 3)])
        (acct if where == "account" else acct[where])[key] = val


# ---------------------------------------------------------------- KDL

def kdl_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kdl_value(v):
    if isinstance(v, bool):
        return "#true" if v else "#false"
    if isinstance(v, int):
        return str(v)
    return kdl_str(v)


def kdl_props(d):
    return " ".join(f"{k}={kdl_value(v)}" for k, v in d.items())


def kdl_account(a):
    lines = [f"account {kdl_str(a['name'])} {{"]
    for key, val in a.items():
        if key == "name":
            continue
        if key in ("incoming", "outgoing"):
            lines.append(f"    {key} {{")
            for k, v in val.items():
                if isinstance(v, dict):
                    lines.append(f"        {k} {kdl_props(v)}")
                else:
                    lines.append(f"        {k} {kdl_value(v)}")
            lines.append("    }")
        elif key == "from":
            lines.append("    from {")
            for k, v in val.items():
                if k == "address":
                    for ad in v:
                        extra = " default=#true" if ad.get("default") else ""
                        lines.append(f"        address {kdl_str(ad['value'])}{extra}")
                else:
                    lines.append(f"        {k} {kdl_value(v)}")
            lines.append("    }")
        elif key == "lock":
            lines.append(f"    lock {kdl_props(val)}")
        else:
            lines.append(f"    {key} {kdl_value(val)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, required=True)
    ap.add_argument("--layout", choices=["files", "single"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--invalid-ratio", type=float, default=0.0)
    ap.add_argument("--manifest")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    accounts = [make_account(rng, i) for i in range(args.accounts)]
    bad_rng = random.Random(args.seed * 7919 + 17)
    n_bad = round(args.invalid_ratio * args.accounts)
    broken = []
    for j, i in enumerate(sorted(bad_rng.sample(range(args.accounts), n_bad))):
        kind = BAD_KINDS[j % len(BAD_KINDS)]
        break_account(bad_rng, accounts[i], kind)
        broken.append({"index": i, "name": accounts[i]["name"], "kind": kind})

    kdl_dir, json_dir = os.path.join(args.out, "kdl"), os.path.join(args.out, "json")
    os.makedirs(kdl_dir, exist_ok=True)
    os.makedirs(json_dir, exist_ok=True)
    # Accounts use conversation IDs, so the system node sets their prefix.
    system = {"conversation-prefix": "TKT"}
    system_kdl = "system {\n    conversation-prefix \"TKT\"\n}\n"
    if args.layout == "files":
        with open(os.path.join(kdl_dir, "system.kdl"), "w", encoding="utf-8") as f:
            f.write(system_kdl)
        with open(os.path.join(json_dir, "system.json"), "w", encoding="utf-8") as f:
            json.dump({"system": system}, f, indent=2)
        for i, a in enumerate(accounts):
            with open(os.path.join(kdl_dir, f"acct-{i:05d}.kdl"), "w", encoding="utf-8") as f:
                f.write(kdl_account(a))
            with open(os.path.join(json_dir, f"acct-{i:05d}.json"), "w", encoding="utf-8") as f:
                json.dump({"account": [a]}, f, ensure_ascii=False, indent=2)
    else:
        with open(os.path.join(kdl_dir, "accounts.kdl"), "w", encoding="utf-8") as f:
            f.write(system_kdl + "\n" + "\n".join(kdl_account(a) for a in accounts))
        with open(os.path.join(json_dir, "accounts.json"), "w", encoding="utf-8") as f:
            json.dump({"system": system, "account": accounts}, f, ensure_ascii=False, indent=2)
    if args.manifest:
        with open(args.manifest, "w", encoding="utf-8") as f:
            json.dump(broken, f, indent=1)


if __name__ == "__main__":
    main()
