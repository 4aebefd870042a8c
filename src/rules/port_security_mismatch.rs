use super::{sides, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::{well_known_port, Security, Service};

pub static META: RuleMeta = RuleMeta {
    name: "port-security-mismatch",
    level: Level::Error,
    summary: "the port expects implicit TLS but security is basic/STARTTLS, or the reverse",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", steps 6c and 9c (default and SSL ports); RFC 8314 §3.1–3.3 (implicit TLS for POP 995, IMAP 993, submission 465); RFC 6409 §3.1 (Submission Identification, port 587)",
    docs: r#"## What it checks
A custom `port` whose well-known meaning contradicts `security`:
- implicit-TLS security (`ssl`, `ssl-no-auth`) on a cleartext/STARTTLS port: 110 (POP3),
  143 (IMAP), 25 or 587 (SMTP);
- `basic` or `tls` (STARTTLS) on an implicit-TLS port: 995 (POP3S), 993 (IMAPS), 465 (SMTPS).

## Why
The connection cannot work: on 993/995/465 the server starts the TLS handshake before any
protocol greeting, while on 110/143/25/587 it sends a cleartext greeting and expects STARTTLS.
The client waits for a greeting that never comes, or sends a TLS handshake to a server that
answers in plain text.

## Example
```kdl bad
account "Sales" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "sales@example.com"
        password env="SALES_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        port 587
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```

```kdl good
account "Sales" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "sales@example.com"
        password env="SALES_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
        port 587
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```
"#,
};

fn expectation(port: u32, implicit: bool, service: Service) -> String {
    if implicit {
        format!(
            "port {port} is the {} implicit-TLS port: use security \"ssl\"",
            service.display()
        )
    } else {
        format!(
            "port {port} is the {} cleartext/STARTTLS port: use security \"tls\" (STARTTLS)",
            service.display()
        )
    }
}

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        for side in sides(&acc.value) {
            let (Some(port), Some(security)) = (side.port, side.security) else {
                continue;
            };
            let Some(known) = well_known_port(port) else {
                continue;
            };
            let bad = match security {
                Security::Ssl | Security::SslNoAuth => !known.implicit_tls,
                Security::Basic | Security::Tls => known.implicit_tls,
                Security::Auto => false,
            };
            if !bad {
                continue;
            }
            let what = if security.is_implicit_tls() {
                "implicit TLS"
            } else if security == Security::Tls {
                "STARTTLS"
            } else {
                "a cleartext connection"
            };
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &side.rel("port"),
                    Part::Value,
                    format!(
                        "security \"{security}\" uses {what}, but port {port} expects {}",
                        if known.implicit_tls {
                            "implicit TLS"
                        } else {
                            "a cleartext greeting (then STARTTLS)"
                        }
                    ),
                )
                .with_related(
                    cx.label(acc, &side.rel("security"), Part::Value)
                        .with_text(format!("security \"{security}\"")),
                )
                .with_help(expectation(port, known.implicit_tls, known.service)),
            );
        }
    }
}
