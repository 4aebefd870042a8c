use super::text::parse_mailbox;
use super::{address_rel, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "invalid-from-address",
    level: Level::Error,
    summary: "a From address is not a valid RFC 5322 mailbox (`a@b` or `Name <a@b>`)",
    fixable: false,
    source: "RFC 5322 §3.4 (Address Specification); RFC 6532 §3.2 (UTF-8 syntax)",
    docs: r#"## What it checks
Every `address` in `from`: it must be `local@domain` or `Display Name <local@domain>`, with a
valid local part, a valid domain, and a display name that is quoted if it contains special
characters such as `,` or `@`.

## Why
CSM puts the address into the `From:` header as written. An invalid address makes the SMTP
server reject the message, or worse, the mail leaves with a From the recipient cannot reply to.

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
        address "Human Resources, Head Office <hr@example.com>" default=#true
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
        address "\"Human Resources, Head Office\" <hr@example.com>" default=#true
    }
    lock credentials=#true
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (n, acc) in cx.project.accounts.iter().enumerate() {
        for from in cx.from_addresses(n) {
            if from.mailbox.is_some() {
                continue;
            }
            // Parsed again only to say why: the per-run table keeps just the valid mailboxes.
            let Err(why) = parse_mailbox(&from.address.value) else {
                continue;
            };
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &address_rel(from.index),
                    Part::Value,
                    format!(
                        "{:?} is not a valid e-mail address: {why}",
                        from.address.value
                    ),
                )
                .with_help("write `name@example.com` or `Display Name <name@example.com>`"),
            );
        }
    }
}
