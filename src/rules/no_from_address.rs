use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "no-from-address",
    level: Level::Info,
    summary: "an account available to users leaves its From Settings to CSM (no `from` addresses)",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 13 (\"Optional: Select the From Settings page\")",
    docs: r#"## What it checks
An account with `available-to-users #true` whose `from` block is missing, or allows neither
the user's own address (`allow-user-address`) nor any address (`allow-arbitrary`) and lists no
`address`.

## Why
This is not a mistake: the CSM page makes the From Settings page optional (step 13, "Optional:
Select the From Settings page and specify the addresses and settings associated with outbound
emails"), so an account without it is a normal CSM account. It is reported as information
only, because the file then does not say which From addresses users send with: that is left
to whatever CSM has for the account. Set the rule to `allow` in `mailcfg.kdl` if you never
manage From Settings in files.

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
    for acc in &cx.project.accounts {
        let a = &acc.value;
        if !a.available_to_users {
            continue;
        }
        let usable = a
            .from
            .as_ref()
            .is_some_and(|f| f.allow_user_address || f.allow_arbitrary || !f.address.is_empty());
        if usable {
            continue;
        }
        let (rel, part) = if a.from.is_some() {
            ("from", Part::Key)
        } else {
            ("available-to-users", Part::Node)
        };
        out.push(
            cx.diag(
                &META,
                acc,
                rel,
                part,
                format!(
                    "account {:?} is available to users but its file sets no From Settings (optional in CSM)",
                    a.name
                ),
            )
            .with_help("add `from { address \"name@example.com\" default=#true }`, or `allow-user-address #true`"),
        );
    }
}
