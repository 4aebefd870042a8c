use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::Protocol;

pub static META: RuleMeta = RuleMeta {
    name: "mailbox-imap-only",
    level: Level::Error,
    summary: "`mailbox` is set on a POP3 account",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 7d (\"Mailbox (IMAP only)\")",
    docs: r#"## What it checks
A POP account whose `incoming` block sets `mailbox`.

## Why
The field is "Mailbox (IMAP only)" (step 7d): a POP account has no such setting, and POP3 itself
has no folders (one maildrop per user). A reader of the file would wrongly believe
the monitor reads that folder.

## Example
```kdl bad
account "Facilities" {
    protocol "pop"
    incoming {
        server "pop.example.com"
        security "ssl"
        user "facilities@example.com"
        password env="FACILITIES_PASSWORD"
        mailbox "Facilities"
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
account "Facilities" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "facilities@example.com"
        password env="FACILITIES_PASSWORD"
        mailbox "Facilities"
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
        let a = &acc.value;
        if a.protocol != Protocol::Pop || a.incoming.mailbox.is_none() {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "incoming/mailbox",
                Part::Node,
                format!(
                    "`mailbox` is an IMAP setting; account {:?} uses POP3, which has no folders",
                    a.name
                ),
            )
            .with_related(
                cx.label(acc, "protocol", Part::Value)
                    .with_text("POP account"),
            )
            .with_help("remove `mailbox`, or switch the account to protocol \"imap\""),
        );
    }
}
