//! Reported by `policy::suppress`, which reads the suppression comments.

use super::RuleMeta;
use crate::diagnostics::Level;

/// What the editor's "Suppress" quick fix writes as the reason, for the user to replace.
pub const PLACEHOLDER_REASON: &str = "…";

/// A reason says something: not blank, not only the placeholder's dots.
pub fn is_a_reason(reason: &str) -> bool {
    let r = reason.trim();
    !r.is_empty() && !r.chars().all(|c| c == '…' || c == '.' || c.is_whitespace())
}

pub static META: RuleMeta = RuleMeta {
    name: "suppression-without-reason",
    level: Level::Warning,
    summary: "a `mailcfg-ignore` comment gives no `reason=\"…\"`",
    fixable: false,
    source: "mailcfg, docs/configuration.md (suppression comments)",
    docs: r#"## What it checks
A suppression comment, `// mailcfg-ignore: rule-name` before a node or
`// mailcfg-ignore-file: rule-name` at the top of a file, without a non-empty `reason="…"`.
A reason that is only the placeholder `…` (or `...`), as the editor's "Suppress" quick fix
inserts it, is no reason: the warning stays until it is replaced by a real one. The
suppression still takes effect.

## Why
A suppression switches a check off for good; the next reader needs to know why that was right
(an app password is in use, the domain has send-as rights, …) to tell whether it still is.

## Example
```kdl bad
// mailcfg-ignore: google-password-auth
account "Support" {
    protocol "imap"
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "support@example.org"
        password env="SUPPORT_APP_PASSWORD"
    }
    outgoing {
        server "smtp.gmail.com"
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
// mailcfg-ignore: google-password-auth reason="app password, 2-step verification is on"
account "Support" {
    protocol "imap"
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "support@example.org"
        password env="SUPPORT_APP_PASSWORD"
    }
    outgoing {
        server "smtp.gmail.com"
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
