use super::{missing_login, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "monitor-needs-credentials",
    level: Level::Error,
    summary: "an account only the E-mail and Event Monitor uses has no complete login",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 5b and step 7b note (\"if this account will be used by an automated process like the E-mail and Event Monitor, provide credentials here\")",
    docs: r#"## What it checks
An account that is not available to users (`available-to-users` absent or `#false`) whose
`incoming` block lacks a `user`, or lacks both a `password` and a `credential`. (With the
credentials padlock locked the same problem is reported as `locked-blank-credentials`.)

## Why
Such an account is used only by the E-mail and Event Monitor, an automated process: there is no
user who could type a user name or password, so the monitor can never read the mailbox.

## Example
```kdl bad
account "ServiceDesk" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "servicedesk@example.com"
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
        if a.available_to_users || a.incoming_lock().credentials || a.incoming.has_credentials() {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "incoming",
                Part::Key,
                format!(
                    "account {:?} is used only by the E-mail and Event Monitor but its incoming server has {}",
                    a.name,
                    missing_login(&a.incoming)
                ),
            )
            .with_help("give `user` and `password env=\"…\"` (or `credential`), or set `available-to-users #true` if agents log in with their own credentials"),
        );
    }
}
