use super::{address_rel, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "duplicate-from-address",
    level: Level::Warning,
    summary: "the same From address is listed twice in one account (ignoring case)",
    fixable: false,
    source:
        "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 13 (From Settings page)",
    docs: r#"## What it checks
Two `address` entries of one account's `from` block with the same e-mail address, comparing
the domain case-insensitively and ignoring display names.

## Why
Users see the address twice in the From picker and cannot tell which entry (and which display
name) they are choosing; usually one of the two is a leftover of an edit.

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
        address "Human Resources <hr@example.com>" default=#true
        address "hr@EXAMPLE.com"
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
        // An account lists a handful of addresses: a list beats a hash map.
        let mut seen: Vec<(String, usize)> = Vec::new();
        for from in cx.from_addresses(n) {
            let (i, addr) = (from.index, from.address);
            let key = from
                .mailbox
                .as_ref()
                .map(|m| m.key().to_lowercase())
                .unwrap_or_else(|| addr.value.trim().to_lowercase());
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                out.push(
                    cx.diag(
                        &META,
                        acc,
                        &address_rel(i),
                        Part::Value,
                        format!("From address {:?} is already listed", addr.value),
                    )
                    .with_related(
                        cx.label(acc, &address_rel(*first), Part::Value)
                            .with_text("first listed here"),
                    )
                    .with_help("remove one of the two entries"),
                );
            } else {
                seen.push((key, i));
            }
        }
    }
}
