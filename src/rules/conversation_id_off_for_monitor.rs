use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "conversation-id-off-for-monitor",
    level: Level::Info,
    summary: "an account used only by the monitor has no conversation IDs",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 11a note (\"If Conversation IDs are not used, then it can still identify records, but it has to use less reliable techniques\")",
    docs: r#"## What it checks
An account that is not available to users (only the E-mail and Event Monitor reads it) without
`conversation-id "subject"` or `conversation-id "body"`.

## Why
The monitor attaches incoming replies to existing records. With a conversation ID in the mail it
matches exactly; without one it falls back to comparing subjects, which breaks as soon as
someone edits the subject and mismatches replies with similar subjects.

## Example
```kdl bad
account "ServiceDesk" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "servicedesk@example.com"
        password env="SERVICEDESK_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
}
```

```kdl good
account "ServiceDesk" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "servicedesk@example.com"
        password env="SERVICEDESK_PASSWORD"
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
        if a.available_to_users || a.conversation_id.is_some() {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "name",
                Part::Value,
                format!("account {:?} is read by the monitor but adds no conversation IDs; replies are matched by subject only", a.name),
            )
            .with_help("add `conversation-id \"subject\"` (or \"body\")"),
        );
    }
}
