use crate::lower::FastMap;

use super::keys::Lowercase;

use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "duplicate-account-name",
    level: Level::Error,
    summary: "two accounts have the same name (case-insensitive, across all files)",
    fixable: false,
    source: "mailcfg store format: accounts are identified by name (docs/compile.md); CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 5a (\"Name\")",
    docs: r#"## What it checks
Two `account` nodes anywhere in the checked tree whose names are equal ignoring case.

## Why
Each account is set up under its "Name" (step 5a), and the store `mailcfg compile` writes
identifies accounts by name, as `mailcfg diff` and the deploy job match them (docs/compile.md);
names that differ only in case are treated as the same so that no deployment depends on how a
name is capitalised. Two accounts of one name cannot both be deployed from one store. The second
definition is reported, with a pointer to the first.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
account "support" {
    protocol "pop"
    incoming {
        server "pop.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
account "Support-POP" {
    protocol "pop"
    incoming {
        server "pop.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
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

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut first = FastMap::default();
    first.reserve(cx.project.accounts.len());
    for acc in &cx.project.accounts {
        let key = Lowercase(&acc.value.name);
        match first.get(&key) {
            None => {
                first.insert(key, acc);
            }
            Some(prev) => out.push(
                cx.diag(
                    &META,
                    acc,
                    "name",
                    Part::Value,
                    format!(
                        "account name {:?} is already used by account {:?}",
                        acc.value.name, prev.value.name
                    ),
                )
                .with_related(
                    cx.label(prev, "name", Part::Value)
                        .with_text("first defined here"),
                )
                .with_help(
                    "account names are unique across all files, ignoring case; rename one of them",
                ),
            ),
        }
    }
}
