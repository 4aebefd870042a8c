use super::from_addresses::FromAddress;
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
        let addresses = cx.from_addresses(n);
        // An account lists a handful of addresses: comparing each with those before it beats
        // a hash map, and the keys are compared where they are, not built as strings.
        for (later, from) in addresses.iter().enumerate() {
            let key = FromKey::of(from);
            let Some(first) = addresses[..later].iter().find(|f| FromKey::of(f) == key) else {
                continue;
            };
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &address_rel(from.index),
                    Part::Value,
                    format!("From address {:?} is already listed", from.address.value),
                )
                .with_related(
                    cx.label(acc, &address_rel(first.index), Part::Value)
                        .with_text("first listed here"),
                )
                .with_help("remove one of the two entries"),
            );
        }
    }
}

/// What two addresses are compared by: `local@domain` of a valid mailbox (display name
/// ignored), else the whole trimmed text; both ignoring case.
#[derive(Debug, Clone, Copy)]
enum FromKey<'a> {
    Mailbox { local: &'a str, domain: &'a str },
    Text(&'a str),
}

impl<'a> FromKey<'a> {
    fn of(from: &FromAddress<'a>) -> Self {
        match &from.mailbox {
            Some(m) => FromKey::Mailbox {
                local: m.local,
                domain: m.domain,
            },
            None => FromKey::Text(from.address.value.trim()),
        }
    }

    fn parts(&self) -> [&'a str; 3] {
        match *self {
            FromKey::Mailbox { local, domain } => [local, "@", domain],
            FromKey::Text(t) => [t, "", ""],
        }
    }

    /// The key as one lower-cased string.
    fn lowercase(&self) -> String {
        self.parts().concat().to_lowercase()
    }
}

impl PartialEq for FromKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        // A domain has no `@`, so two mailboxes' keys are equal when their parts are.
        if let (
            FromKey::Mailbox { local, domain },
            FromKey::Mailbox {
                local: other_local,
                domain: other_domain,
            },
        ) = (self, other)
        {
            if [local, domain, other_local, other_domain]
                .iter()
                .all(|p| p.is_ascii())
            {
                return local.eq_ignore_ascii_case(other_local)
                    && domain.eq_ignore_ascii_case(other_domain);
            }
        }
        let (a, b) = (self.parts(), other.parts());
        if a.iter().chain(&b).all(|p| p.is_ascii()) {
            let len = |p: &[&str; 3]| p.iter().map(|s| s.len()).sum::<usize>();
            len(&a) == len(&b) && ascii_lowercase_bytes(a).eq(ascii_lowercase_bytes(b))
        } else {
            self.lowercase() == other.lowercase()
        }
    }
}

fn ascii_lowercase_bytes<'a>(parts: [&'a str; 3]) -> impl Iterator<Item = u8> + 'a {
    parts
        .into_iter()
        .flat_map(str::bytes)
        .map(|c| c.to_ascii_lowercase())
}
