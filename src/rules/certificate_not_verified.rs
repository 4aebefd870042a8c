use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::Security;

pub static META: RuleMeta = RuleMeta {
    name: "certificate-not-verified",
    level: Level::Warning,
    summary: "`ssl-no-auth` uses TLS without verifying the server certificate",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 6b (\"SSL with No Authentication (IMAP only): … no Server Certificate is required\"); RFC 8314 §5 (MUAs MUST NOT treat a session as confidential if the server certificate cannot be validated)",
    docs: r#"## What it checks
An `incoming` block with `security "ssl-no-auth"`.

## Why
`ssl-no-auth` encrypts the connection but accepts any certificate, so anyone who can redirect
the traffic (DNS, a hostile network) can pose as the server and collect the password and every
message: encryption without authentication does not stop interception. Install the server's
CA certificate on the CSM server and use `ssl` instead.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl-no-auth"
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
system {
    conversation-prefix "ACME"
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        if acc.value.incoming.security() != Security::SslNoAuth {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "incoming/security",
                Part::Value,
                "security \"ssl-no-auth\" does not verify the server's certificate; the connection can be intercepted",
            )
            .with_help("trust the server's CA on the CSM server and use security \"ssl\""),
        );
    }
}
