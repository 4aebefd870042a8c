//! Reported by `diagnostics::suppress`, which reads the suppression comments.

use super::RuleMeta;
use crate::diagnostics::Level;

pub static META: RuleMeta = RuleMeta {
    name: "suppression-without-reason",
    level: Level::Warning,
    summary: "a `mailcfg-ignore` comment gives no `reason=\"…\"`",
    fixable: false,
    source: "mailcfg, docs/configuration.md (suppression comments)",
    docs: r#"## What it checks
A suppression comment, `// mailcfg-ignore: rule-name` before a node or
`// mailcfg-ignore-file: rule-name` at the top of a file, without a non-empty `reason="…"`.
The suppression still takes effect.

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
