use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "arbitrary-from-allowed",
    level: Level::Warning,
    summary: "users may type any From address (`allow-arbitrary #true`)",
    fixable: false,
    source: "RFC 7489 §3.1 (DMARC identifier alignment) and §6.3 (policy `reject`); RFC 6409 §6.1",
    docs: r#"## What it checks
`from { allow-arbitrary #true }`.

## Why
Any user can send mail that claims to come from anyone (the CEO, another company), which is
an invitation to impersonation and phishing: RFC 7489 §3.1 calls the From field "a prime target
for abuse". A From domain that is not aligned with what SPF or DKIM authenticated fails DMARC
(§3.1), and a domain whose DMARC policy is `reject` asks receivers to reject such mail (§6.3);
a submission server may also refuse a sender the login is not authorised for (RFC 6409 §6.1).
List the addresses instead, or allow the user's own address.

## Example
```kdl bad
account "HR" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
        user "hr@example.com"
        password env="HR_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    from {
        allow-arbitrary #true
        address "Human Resources <hr@example.com>" default=#true
    }
    lock credentials=#true
}
```

```kdl good
account "HR" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
        user "hr@example.com"
        password env="HR_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    from {
        allow-user-address #true
        address "Human Resources <hr@example.com>" default=#true
    }
    lock credentials=#true
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        if !acc.value.from.as_ref().is_some_and(|f| f.allow_arbitrary) {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "from/allow-arbitrary",
                Part::Node,
                format!(
                    "account {:?} lets users send from any address",
                    acc.value.name
                ),
            )
            .with_help(
                "list the allowed addresses with `address`, or use `allow-user-address #true`",
            ),
        );
    }
}
