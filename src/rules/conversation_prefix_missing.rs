use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "conversation-prefix-missing",
    level: Level::Info,
    summary: "accounts use conversation IDs but no `system` conversation prefix is set",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", introduction (\"ABCD is an identifier for the particular CSM system (set this value in the History Attachment Options …)\")",
    docs: r#"## What it checks
At least one account sets `conversation-id`, and no checked file has
`system { conversation-prefix "…" }`. Reported once, on the first such account.

## Why
A Conversation ID looks like `{CMI: ABCD1234}`, "where ABCD is an identifier for the particular
CSM system (set this value in the History Attachment Options …)" (the CSM page). When no file
sets it, the files do not say which identifier the accounts' Conversation IDs carry: it is left
to whatever the CSM system has, which the files cannot show or keep the same between
environments. Information only.

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
system {
    conversation-prefix "ACME"
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    if cx
        .project
        .systems
        .iter()
        .any(|s| s.value.conversation_prefix.is_some())
    {
        return;
    }
    let Some(acc) = cx
        .project
        .accounts
        .iter()
        .find(|a| a.value.conversation_id.is_some())
    else {
        return;
    };
    out.push(
        cx.diag(
            &META,
            acc,
            "conversation-id",
            Part::Node,
            "conversation IDs are on, but no checked file sets the `system` conversation prefix",
        )
        .with_help(
            "add `system { conversation-prefix \"ACME\" }` (2–8 letters or digits) to one file",
        ),
    );
}
