use super::{sides, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "password-with-credential",
    level: Level::Error,
    summary: "a server block has both a password and a credential",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 7b (\"This field is deactivated if you use credentials-based authentication\")",
    docs: r#"## What it checks
An `incoming` block, or an `outgoing` block with `auth "log-on"`, that sets both `password` and
`credential`.

## Why
With credentials-based authentication (Google / Office 365) CSM disables the password field:
the credential replaces the password. Having both means one of them is silently ignored, and
nobody can tell from the file which one is used.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
        credential "google-support"
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
credential "google-support" {
    type "google"
    service-account "mail@project.iam.gserviceaccount.com"
    private-key file="secrets/google-support.json"
}
```

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "support@example.com"
        credential "google-support"
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
credential "google-support" {
    type "google"
    service-account "mail@project.iam.gserviceaccount.com"
    private-key file="secrets/google-support.json"
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        let a = &acc.value;
        for side in sides(a) {
            // An outgoing login without auth "log-on" is ignored altogether
            // (`outgoing-login-ignored` says so); there is no conflict for CSM to resolve.
            if side.password.is_none() || side.credential.is_none() || !side.own_login {
                continue;
            }
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &side.rel("password"),
                    Part::Node,
                    format!("`{}` of account {:?} has both a password and a credential", side.block, a.name),
                )
                .with_related(
                    cx.label(acc, &side.rel("credential"), Part::Node)
                        .with_text("credential given here"),
                )
                .with_help("credentials-based authentication replaces the password: remove `password`, or remove `credential` to log in with the password"),
            );
        }
    }
}
