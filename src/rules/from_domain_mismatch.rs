use super::{address_rel, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::AuthMode;

pub static META: RuleMeta = RuleMeta {
    name: "from-domain-mismatch",
    level: Level::Info,
    summary: "a From address's domain differs from the login's domain",
    fixable: false,
    source: "RFC 7489 §3.1 (DMARC identifier alignment); RFC 6409 §6.1 (an MSA MAY refuse a sender the login is not authorised for) and §8.1 (it MAY add or replace Sender)",
    docs: r#"## What it checks
A From `address` whose domain differs (ignoring case) from the domain of the login used to send:
the outgoing `user` with `auth "log-on"`, otherwise the incoming `user`. Only logins that are
e-mail addresses are compared.

## Why
A submission server may refuse a sender address the login is not authorised to use (RFC 6409
§6.1 allows it for the envelope sender) or add a `Sender` field naming the login (§8.1), and
receivers that check DMARC require the From domain to be aligned with a domain that SPF or DKIM
authenticated (RFC 7489 §3.1) — a From domain other than the sending account's often is not. A different domain is sometimes intended (a shared domain, send-as rights) —
then keep it and suppress the finding with a reason.

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
        address "Human Resources <hr@example.org>" default=#true
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
        address "Human Resources <hr@example.com>" default=#true
    }
    lock credentials=#true
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (n, acc) in cx.project.accounts.iter().enumerate() {
        let a = &acc.value;
        let (login, login_rel) = match &a.outgoing {
            Some(o) if o.auth() == AuthMode::LogOn && o.user.is_some() => {
                (o.user.as_deref(), "outgoing/user")
            }
            _ => (a.incoming.user.as_deref(), "incoming/user"),
        };
        let Some((_, login_domain)) = login.and_then(|u| u.rsplit_once('@')) else {
            continue;
        };
        for from in cx.from_addresses(n) {
            let Some(m) = &from.mailbox else {
                continue;
            };
            if m.domain.eq_ignore_ascii_case(login_domain) {
                continue;
            }
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &address_rel(from.index),
                    Part::Value,
                    format!(
                        "From domain {:?} differs from the login's domain {:?}; the server may reject it",
                        m.domain,
                        login_domain.to_ascii_lowercase()
                    ),
                )
                .with_related(cx.label(acc, login_rel, Part::Value).with_text("login"))
                .with_help("use an address of the login's domain, or make sure the mailbox may send as this address"),
            );
        }
    }
}
