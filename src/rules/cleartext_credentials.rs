use super::{users_supply_credentials, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::{AuthMode, Security};

pub static META: RuleMeta = RuleMeta {
    name: "cleartext-credentials",
    level: Level::Warning,
    summary: "`basic` security sends a password or credential in clear text",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", steps 6b and 9b (\"Basic: … User IDs and passwords passed as plain text\"); RFC 8314 §4.1",
    docs: r#"## What it checks
A server block with `security "basic"` (no TLS at all) over which a login is sent:
- `incoming`: a password or credential is given, or users type their own (the account is
  available to users with the credentials padlock open);
- `outgoing`: `auth` is `same-as-incoming` or `log-on`.

## Why
Without TLS the user name and password cross the network readable by anyone on the path, and
an attacker can also alter the mail itself. RFC 8314 deprecates cleartext mail access and
submission (§4.1: with cleartext, "the compromise of at least some of those passwords should be
assumed"); use `ssl` (implicit TLS) or `tls` (STARTTLS).

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "basic"
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
        security "tls"
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
        let a = &acc.value;
        let inc = &a.incoming;
        if inc.security() == Security::Basic
            && (inc.password.is_some() || inc.credential.is_some() || users_supply_credentials(a))
        {
            out.push(diag(
                cx,
                acc,
                "incoming",
                "the login to the incoming server",
            ));
        }
        let Some(o) = &a.outgoing else {
            continue;
        };
        if o.security() == Security::Basic && o.auth() != AuthMode::None {
            out.push(diag(cx, acc, "outgoing", "the SMTP login"));
        }
    }
}

fn diag(
    cx: &Context<'_>,
    acc: &crate::model::Located<crate::model::Account>,
    block: &str,
    what: &str,
) -> Diagnostic {
    cx.diag(
        &META,
        acc,
        &format!("{block}/security"),
        Part::Value,
        format!("security \"basic\" sends {what} (user name and password) unencrypted"),
    )
    .with_help("use security \"ssl\" (implicit TLS) or \"tls\" (STARTTLS); RFC 8314 §4.1 deprecates cleartext mail access and submission")
}
