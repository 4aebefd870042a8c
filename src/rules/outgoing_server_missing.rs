use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "outgoing-server-missing",
    level: Level::Error,
    summary: "an account has no `outgoing` (SMTP) server",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", introduction (\"Setting up a POP or IMAP account requires: … Incoming (POP or IMAP) and outgoing (SMTP) email server information\") and step 12 (\"All required Incoming and Outgoing Server information must be completed before testing the account\")",
    docs: r#"## What it checks
An `account` without an `outgoing { … }` block.

## Why
The CSM page lists what "Setting up a POP or IMAP account requires", among it "Incoming (POP or
IMAP) and outgoing (SMTP) email server information", and step 12 says "All required Incoming
and Outgoing Server information must be completed before testing the account." An account
without an outgoing server cannot be completed in CSM; `mailcfg compile` refuses it even when
this rule is allowed in `mailcfg.kdl`. It is a rule rather than a schema error so that every
other rule still checks the account in the same run.

## Example
```kdl bad
account "Intake" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "intake@example.com"
        password env="INTAKE_PASSWORD"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```

```kdl good
account "Intake" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "intake@example.com"
        password env="INTAKE_PASSWORD"
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
    for acc in &cx.project.accounts {
        if acc.value.outgoing.is_some() {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "name",
                Part::Value,
                format!("account {:?} has no outgoing (SMTP) server", acc.value.name),
            )
            .with_help("add `outgoing { server \"smtp.example.com\" … }`: CSM requires the outgoing server information (`outgoing` — \"Outgoing Server page\" in CSM)"),
        );
    }
}
