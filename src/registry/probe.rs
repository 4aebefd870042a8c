//! The rule names of probe findings. They are stable (users filter on them) and documented in
//! docs/probe.md; each finding is placed on the KDL node that causes it.

use crate::diagnostics::Level;
use crate::rules::RuleMeta;

macro_rules! probe_rule {
    ($id:ident, $name:literal, $level:ident, $summary:literal, $docs:literal) => {
        pub static $id: RuleMeta = RuleMeta {
            name: $name,
            level: Level::$level,
            summary: $summary,
            fixable: false,
            source: "mailcfg probe: what a real server answered (docs/probe.md)",
            docs: $docs,
        };
    };
    // The deliverability checks rest on an RFC section rather than on a server's answer.
    ($id:ident, $name:literal, $level:ident, $summary:literal, $source:literal, $docs:literal) => {
        pub static $id: RuleMeta = RuleMeta {
            name: $name,
            level: Level::$level,
            summary: $summary,
            fixable: false,
            source: $source,
            docs: $docs,
        };
    };
}

probe_rule!(
    NOT_READY,
    "probe-not-ready",
    Error,
    "the account fails `mailcfg check` or lacks data a test needs",
    "CSM requires a complete account before its Test Account button works; so does the probe. \
     Fix the `check` errors, or add the missing incoming/outgoing settings."
);
probe_rule!(
    SECRET,
    "probe-secret",
    Error,
    "a password or token reference cannot be resolved",
    "`password env=\"VAR\"` needs the variable set; `file=\"path\"` needs a readable file \
     (relative paths are relative to the account file). The secret itself is never printed."
);
probe_rule!(
    DNS,
    "probe-dns",
    Error,
    "the server name does not resolve",
    "The `server` host name has no A/AAAA record (or the resolver did not answer in time)."
);
probe_rule!(
    CONNECT,
    "probe-connect",
    Error,
    "no TCP connection to the server's port",
    "Connection refused means nothing listens on that port; a timeout means a firewall drops \
     the packets. Check `server` and `port`."
);
probe_rule!(
    TIMEOUT,
    "probe-timeout",
    Error,
    "the server accepted the connection but did not answer in time",
    "The server stayed silent for `--timeout` seconds: a wrong service on that port, a \
     black-holed connection, or an overloaded server."
);
probe_rule!(
    TLS_MISMATCH,
    "probe-tls-mismatch",
    Error,
    "the security mode does not match what the port speaks",
    "`ssl` on a plaintext/STARTTLS port (the server greets in plaintext, TLS sees \"wrong \
     version number\"/invalid content type), or `tls`/`basic` on an implicit-TLS port (the \
     server waits silently for a TLS handshake)."
);
probe_rule!(
    STARTTLS_MISSING,
    "probe-starttls-missing",
    Error,
    "STARTTLS is required but the server does not offer it",
    "With `security \"tls\"` the probe never falls back to cleartext: if the server does not \
     offer STARTTLS (STLS for POP3), the account would send its password unencrypted."
);
probe_rule!(
    TLS,
    "probe-tls",
    Error,
    "the TLS handshake failed",
    "The handshake failed for a reason other than the certificate (protocol versions, \
     ciphers, the server closing the connection)."
);
probe_rule!(
    CERTIFICATE,
    "probe-certificate",
    Error,
    "the server's certificate is not trusted",
    "Expired, not valid for the `server` name, or issued by an unknown authority (self-signed \
     or a private CA: pass it with `--ca-file`)."
);
probe_rule!(
    CERT_EXPIRING,
    "probe-certificate-expiring",
    Warning,
    "the server's certificate expires soon",
    "The certificate expires within `--cert-warn-days` days (default 21)."
);
probe_rule!(
    UNVERIFIED,
    "probe-unverified",
    Warning,
    "TLS without certificate verification",
    "`ssl-no-auth` encrypts but accepts any certificate, so a man in the middle is not \
     detected."
);
probe_rule!(
    CLEARTEXT,
    "probe-cleartext",
    Warning,
    "the connection is not encrypted",
    "`basic` sends the password and mail in cleartext."
);
probe_rule!(
    AUTO_RESOLVED,
    "probe-auto-resolved",
    Info,
    "which mode `security \"auto\"` resolved to",
    "`auto` tries implicit TLS, then STARTTLS; the probe reports which one worked so the \
     account can pin it."
);
probe_rule!(
    LOGIN,
    "probe-login",
    Error,
    "the server refused the login",
    "Bad user name or password/token, an account that is locked or disabled, or a \
     temporary authentication failure."
);
probe_rule!(
    LOGIN_DISABLED,
    "probe-login-disabled",
    Error,
    "the server refuses to log in without TLS",
    "IMAP LOGINDISABLED, POP3/SMTP without login mechanisms before STARTTLS: use `tls` or \
     `ssl`."
);
probe_rule!(
    MECHANISM,
    "probe-auth-mechanism",
    Error,
    "the server does not offer a usable login mechanism",
    "Passwords need LOGIN/AUTH PLAIN (or AUTH LOGIN for SMTP); credentials-based accounts \
     need XOAUTH2."
);
probe_rule!(
    MAILBOX,
    "probe-mailbox",
    Error,
    "the IMAP mailbox does not exist or cannot be opened",
    "The configured `mailbox` (default INBOX) cannot be EXAMINEd; similar names from LIST \
     are suggested."
);
probe_rule!(
    FROM_REJECTED,
    "probe-from-rejected",
    Error,
    "the SMTP server rejects a From address",
    "Each `from { address … }` is tried with MAIL FROM/RCPT TO (then RSET, nothing is sent)."
);
probe_rule!(
    SEND,
    "probe-send",
    Error,
    "the test message could not be sent",
    "`--send-test-to` sends a real message; the server refused it."
);
probe_rule!(
    PROTOCOL,
    "probe-protocol",
    Error,
    "the server does not speak the expected protocol",
    "The greeting or a reply is not IMAP/POP3/SMTP: a different service listens on that port."
);

// ---- deliverability: the DNS records of each From domain (docs/probe.md, "Deliverability") ----

probe_rule!(
    MX_MISSING,
    "probe-mx-missing",
    Warning,
    "a From domain has no MX record, so replies to it may not arrive",
    "RFC 5321 §5.1 (locating the target host); RFC 7505 §3 (null MX), §4.2 (sending from a null-MX domain)",
    r#"## What it checks
The MX records of each From domain (each `from { address … }` domain, and the incoming `user`'s
domain when it is an address). Reported when the domain does not exist, has no MX record, or
publishes a null MX (`0 .`).

## Why
Recipients reply to the From address. RFC 5321 §5.1: without an MX record a sender falls back
to the domain's own A/AAAA record (the "implicit MX"), which is often not a mail server; a null
MX (RFC 7505 §3) says the domain accepts no mail at all, and RFC 7505 §4.2 warns that mail from
such a domain "risks being rejected". Either way replies to the service desk's
notifications bounce or vanish.

## Example
```text bad
; example.com has no MX record
example.com.        TXT   "v=spf1 ip4:192.0.2.25 -all"
```

```text good
example.com.        MX    10 mail.example.com.
```
"#
);
probe_rule!(
    SPF_MISSING,
    "probe-spf-missing",
    Warning,
    "a From domain publishes no SPF record",
    "RFC 7208 §4.5 (selecting records), §2.6.1 (the \"none\" result)",
    r#"## What it checks
The TXT records of the From domain: none of them begins with `v=spf1`.

## Why
Without an SPF record the result of RFC 7208's `check_host()` is `none` (§2.6.1, §4.5):
receivers have no information about whether the service desk's server may send for the domain
(§8.1), and DMARC can then pass only through an aligned DKIM signature (RFC 7489 §4.2).

## Example
```text bad
example.com.        TXT   "google-site-verification=..."
```

```text good
example.com.        TXT   "v=spf1 ip4:192.0.2.25 -all"
```
"#
);
probe_rule!(
    SPF_MULTIPLE,
    "probe-spf-multiple",
    Error,
    "a From domain publishes more than one SPF record",
    "RFC 7208 §4.5 (selecting records: more than one is a permerror), §3.2",
    r#"## What it checks
More than one TXT record of the From domain begins with `v=spf1`.

## Why
RFC 7208 §3.2: a domain MUST NOT publish more than one SPF record; §4.5: if more than one is
found, `check_host()` returns `permerror` — for every sender, so no mail from the domain passes
SPF. This usually happens when a second provider's record is added instead of merged.

## Example
```text bad
example.com.        TXT   "v=spf1 ip4:192.0.2.25 -all"
example.com.        TXT   "v=spf1 include:_spf.provider.example ~all"
```

```text good
example.com.        TXT   "v=spf1 ip4:192.0.2.25 include:_spf.provider.example -all"
```
"#
);
probe_rule!(
    SPF_SYNTAX,
    "probe-spf-syntax",
    Error,
    "a From domain's SPF record is not valid SPF",
    "RFC 7208 §4.6 (record evaluation: a syntax error is a permerror), §12 (collected ABNF)",
    r#"## What it checks
The From domain's `v=spf1` record against the grammar of RFC 7208 (parsed by the mail-auth
library): unknown mechanisms, a malformed `ip4:`/`ip6:` network, a bad macro.

## Why
RFC 7208 §4.6: if there are any syntax errors anywhere in the record, `check_host()` returns
`permerror` without evaluating anything, so no mail from the domain passes SPF.

## Example
```text bad
example.com.        TXT   "v=spf1 ip4:192.0.2 +everything -all"
```

```text good
example.com.        TXT   "v=spf1 ip4:192.0.2.0/24 -all"
```
"#
);
probe_rule!(
    SPF_LOOKUPS,
    "probe-spf-lookups",
    Error,
    "a From domain's SPF record needs more than 10 DNS lookups",
    "RFC 7208 §4.6.4 (DNS lookup limits)",
    r#"## What it checks
The terms of the From domain's SPF record that cause DNS queries — `include`, `a`, `mx`, `ptr`,
`exists` and the `redirect` modifier — counted through every `include:` and `redirect=` target
(the probe fetches them), as a receiver evaluating the whole record would: a target named twice
counts twice, and what follows `all` (later mechanisms, and `redirect` in a record with `all`)
is never evaluated, so it is not counted (RFC 7208 §5.1).

## Why
RFC 7208 §4.6.4: SPF implementations MUST limit these terms to 10 per evaluation, and exceeding
the limit returns `permerror`. A record that needs more passes only for the senders matched
before the 11th lookup and fails with `permerror` for the rest. Flatten `include:`s into
`ip4:`/`ip6:` or drop those of services no longer used.

## Example
```text bad
example.com.        TXT   "v=spf1 include:a.example include:b.example ... include:k.example -all"
```

```text good
example.com.        TXT   "v=spf1 ip4:192.0.2.0/24 include:_spf.provider.example -all"
```
"#
);
probe_rule!(
    SPF_RESULT,
    "probe-spf-result",
    Warning,
    "the From domain's SPF does not pass for the outgoing server's address",
    "RFC 7208 §2.6 (results), §4 (check_host()), §8 (result handling)",
    r#"## What it checks
RFC 7208's `check_host()` (evaluated by the mail-auth library, with the probe's DNS server) for
each address the outgoing `server` resolves to (the one the probe connected to, when it
connected), with the From address as the MAIL FROM identity. Reported when the result is not
`pass`: `fail`, `softfail`, `neutral`, `none`, `permerror` or `temperror`.

## Why
Receivers may reject mail whose sender the domain's SPF record does not authorise (`fail`: its
disposition "is a matter of local policy", §8.4) or subject it to closer scrutiny (`softfail`,
§8.5), and DMARC needs an aligned SPF or DKIM pass (RFC 7489 §4.2, §3.1).
The verdict is about the server the probe connects to: when that server relays the mail onward
through another host (a smarthost, a provider's outbound relay), the receivers see that host's
address instead — check its addresses too before changing the record.

## Example
```text bad
; the outgoing server smtp.example.com is 192.0.2.25
example.com.        TXT   "v=spf1 ip4:198.51.100.0/24 -all"
```

```text good
example.com.        TXT   "v=spf1 ip4:198.51.100.0/24 ip4:192.0.2.25 -all"
```
"#
);
probe_rule!(
    DMARC_MISSING,
    "probe-dmarc-missing",
    Warning,
    "no DMARC policy applies to a From domain",
    "RFC 7489 §6.1 (DMARC policy record), §6.6.3 (policy discovery)",
    r#"## What it checks
The TXT record at `_dmarc.DOMAIN` (RFC 7489 §6.1) and, when there is none, at the closest
parent domain that has one (standing in for the organizational domain of §6.6.3 step 3 and §3.2;
found with mail-auth's DNS tree walk rather than the Public Suffix List). Reported when
neither has a DMARC record.

## Why
Without a DMARC record receivers do not apply DMARC to mail from the domain (RFC 7489 §6.6.3),
and the domain owner gets no reports about who sends in its name (§6.3 `rua`). `p=none` is a safe start.

## Example
```text bad
; no TXT record at _dmarc.example.com
```

```text good
_dmarc.example.com. TXT   "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"
```
"#
);
probe_rule!(
    DMARC_INVALID,
    "probe-dmarc-invalid",
    Error,
    "a From domain's DMARC record is malformed, lacks a valid policy, or is not unique",
    "RFC 7489 §6.3 (general record format), §6.6.3 (policy discovery, steps 5 and 6)",
    r#"## What it checks
The records at `_dmarc.DOMAIN` that begin with `v=DMARC1`, parsed with the mail-auth library:
more than one of them, a record that is not DMARC (§6.4), a `p` or `sp` value that is not valid
(`p=bogus`), or no `p` tag (REQUIRED by §6.3). Other tag errors are only a note: receivers
discard them in favour of the defaults (§6.3).

## Why
RFC 7489 §6.6.3: with more than one DMARC record receivers apply no DMARC processing at all
(step 5); a record without a valid `p` (or with an invalid `sp`) is treated as `p=none` only when
it has a valid `rua`, otherwise it is ignored too (step 6). The policy the domain owner meant to publish
is not in force.

## Example
```text bad
_dmarc.example.com. TXT   "v=DMARC1; p=bogus"
```

```text good
_dmarc.example.com. TXT   "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.com"
```
"#
);
probe_rule!(
    DMARC_POLICY,
    "probe-dmarc-policy",
    Info,
    "the DMARC policy that applies to a From domain",
    "RFC 7489 §6.3 (the p and sp tags), §6.6.3 (policy discovery)",
    r#"## What it checks
Reports the policy a receiver applies to mail from the From domain that fails DMARC: `p` of the
domain's own record, or `sp` (else `p`) of the organizational domain's record for a subdomain.

## Why
The policy requests what receivers do with a notification that fails SPF and DKIM alignment:
nothing (`none`), the spam folder (`quarantine`) or a bounce (`reject`) (RFC 7489 §6.3);
receivers may deviate from it (§6.7). With
`quarantine` or `reject` a sending server that is not covered by SPF (`probe-spf-result`) or
DKIM loses mail.

## Example
```text bad
_dmarc.example.com. TXT   "v=DMARC1; p=reject"
; ... and the service desk's server is not in example.com's SPF record
```

```text good
_dmarc.example.com. TXT   "v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.com"
example.com.        TXT   "v=spf1 ip4:192.0.2.25 -all"
```
"#
);
probe_rule!(
    DELIVERABILITY_DNS,
    "probe-deliverability-dns",
    Warning,
    "the DNS records of a From domain could not be read",
    "RFC 7208 §2.6.6 (temperror), §4.4, §8.6; RFC 7489 §6.6.3 (DNS errors)",
    r#"## What it checks
The MX, SPF (TXT) and DMARC lookups of the deliverability stage got no answer from the DNS
server (a timeout, SERVFAIL, REFUSED), so the records could not be checked.

## Why
A receiver that cannot read the records may accept the mail or defer it (SPF `temperror`, RFC
7208 §2.6.6, §8.6); DMARC leaves DNS errors to the receiver, which may "fail open" or "fail
closed" (RFC 7489 §6.6.3). When only the probe's DNS server cannot answer, point `--dns-server` at
one that resolves the public names.

## Example
```text bad
$ mailcfg probe --dns-server 192.0.2.53 accounts/    # a DNS server that does not answer
```

```text good
$ mailcfg probe accounts/                            # the system resolver
```
"#
);

pub static ALL: &[&RuleMeta] = &[
    &NOT_READY,
    &SECRET,
    &DNS,
    &CONNECT,
    &TIMEOUT,
    &TLS_MISMATCH,
    &STARTTLS_MISSING,
    &TLS,
    &CERTIFICATE,
    &CERT_EXPIRING,
    &UNVERIFIED,
    &CLEARTEXT,
    &AUTO_RESOLVED,
    &LOGIN,
    &LOGIN_DISABLED,
    &MECHANISM,
    &MAILBOX,
    &FROM_REJECTED,
    &SEND,
    &PROTOCOL,
    &MX_MISSING,
    &SPF_MISSING,
    &SPF_MULTIPLE,
    &SPF_SYNTAX,
    &SPF_LOOKUPS,
    &SPF_RESULT,
    &DMARC_MISSING,
    &DMARC_INVALID,
    &DMARC_POLICY,
    &DELIVERABILITY_DNS,
];

pub fn find(name: &str) -> Option<&'static RuleMeta> {
    ALL.iter().copied().find(|m| m.name == name)
}
