use std::collections::hash_map::Entry;

use crate::lower::FastMap;

use super::keys::{AsciiLowercase, Lowercase};
use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::DEFAULT_MAILBOX;

pub static META: RuleMeta = RuleMeta {
    name: "duplicate-mailbox-watch",
    level: Level::Warning,
    summary: "two accounts read the same server, user and mailbox",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 5b (\"the E-mail and Event Monitor … scan incoming emails\")",
    docs: r#"## What it checks
Two accounts whose incoming server (ignoring case), user (ignoring case) and mailbox are the
same. The mailbox is `mailbox` for IMAP (default `INBOX`, compared ignoring case) and the inbox
for POP3, so a POP account and an IMAP account on `INBOX` of the same user also collide.

## Why
The E-mail and Event Monitor processes each account separately: every message is picked up
twice, creating duplicate records and duplicate auto-replies, and depending on the delete
setting one account removes the mail before the other sees it.

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
account "Support-Escalations" {
    protocol "imap"
    incoming {
        server "IMAP.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
        mailbox "INBOX"
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
account "Support-Escalations" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
        mailbox "Escalations"
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
    let mut seen = FastMap::default();
    seen.reserve(cx.project.accounts.len());
    for acc in &cx.project.accounts {
        let inc = &acc.value.incoming;
        let Some(user) = &inc.user else { continue };
        let mailbox = inc
            .effective_mailbox(acc.value.protocol)
            .unwrap_or(DEFAULT_MAILBOX);
        let mailbox = if mailbox.eq_ignore_ascii_case(DEFAULT_MAILBOX) {
            DEFAULT_MAILBOX
        } else {
            mailbox
        };
        let key = (
            AsciiLowercase(inc.server.trim_end_matches('.')),
            Lowercase(user),
            mailbox,
        );
        match seen.entry(key) {
            Entry::Vacant(v) => {
                v.insert(acc);
            }
            Entry::Occupied(first) => {
                let first = *first.get();
                out.push(
                cx.diag(
                    &META,
                    acc,
                    "incoming",
                    Part::Key,
                    format!(
                        "account {:?} reads the same mailbox as account {:?} ({mailbox} of {user} on {}): every message is processed twice",
                        acc.value.name, first.value.name, inc.server
                    ),
                )
                .with_related(cx.label(first, "incoming", Part::Key).with_text("also read here"))
                .with_help("remove one of the accounts, or point them at different mailboxes"),
            )
            }
        }
    }
}
