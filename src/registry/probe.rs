//! The rule names of probe findings. They are stable (users filter on them) and documented in
//! docs/probe.md; each finding is placed on the KDL node that causes it.

use crate::diagnostics::Level;
use crate::rules::RuleMeta;

macro_rules! probe_rule {
    ($id:ident, $name:literal, $level:ident, $summary:literal, $docs:literal) => {
        pub static $id: RuleMeta = RuleMeta {
            name: $name,
            level: Level::$level,
            summary: $summary,
            fixable: false,
            source: "mailcfg probe: what a real server answered (docs/probe.md)",
            docs: $docs,
        };
    };
}

probe_rule!(
    NOT_READY,
    "probe-not-ready",
    Error,
    "the account fails `mailcfg check` or lacks data a test needs",
    "CSM requires a complete account before its Test Account button works; so does the probe. \
     Fix the `check` errors, or add the missing incoming/outgoing settings."
);
probe_rule!(
    SECRET,
    "probe-secret",
    Error,
    "a password or token reference cannot be resolved",
    "`password env=\"VAR\"` needs the variable set; `file=\"path\"` needs a readable file \
     (relative paths are relative to the account file). The secret itself is never printed."
);
probe_rule!(
    DNS,
    "probe-dns",
    Error,
    "the server name does not resolve",
    "The `server` host name has no A/AAAA record (or the resolver did not answer in time)."
);
probe_rule!(
    CONNECT,
    "probe-connect",
    Error,
    "no TCP connection to the server's port",
    "Connection refused means nothing listens on that port; a timeout means a firewall drops \
     the packets. Check `server` and `port`."
);
probe_rule!(
    TIMEOUT,
    "probe-timeout",
    Error,
    "the server accepted the connection but did not answer in time",
    "The server stayed silent for `--timeout` seconds: a wrong service on that port, a \
     black-holed connection, or an overloaded server."
);
probe_rule!(
    TLS_MISMATCH,
    "probe-tls-mismatch",
    Error,
    "the security mode does not match what the port speaks",
    "`ssl` on a plaintext/STARTTLS port (the server greets in plaintext, TLS sees \"wrong \
     version number\"/invalid content type), or `tls`/`basic` on an implicit-TLS port (the \
     server waits silently for a TLS handshake)."
);
probe_rule!(
    STARTTLS_MISSING,
    "probe-starttls-missing",
    Error,
    "STARTTLS is required but the server does not offer it",
    "With `security \"tls\"` the probe never falls back to cleartext: if the server does not \
     offer STARTTLS (STLS for POP3), the account would send its password unencrypted."
);
probe_rule!(
    TLS,
    "probe-tls",
    Error,
    "the TLS handshake failed",
    "The handshake failed for a reason other than the certificate (protocol versions, \
     ciphers, the server closing the connection)."
);
probe_rule!(
    CERTIFICATE,
    "probe-certificate",
    Error,
    "the server's certificate is not trusted",
    "Expired, not valid for the `server` name, or issued by an unknown authority (self-signed \
     or a private CA: pass it with `--ca-file`)."
);
probe_rule!(
    CERT_EXPIRING,
    "probe-certificate-expiring",
    Warning,
    "the server's certificate expires soon",
    "The certificate expires within `--cert-warn-days` days (default 21)."
);
probe_rule!(
    UNVERIFIED,
    "probe-unverified",
    Warning,
    "TLS without certificate verification",
    "`ssl-no-auth` encrypts but accepts any certificate, so a man in the middle is not \
     detected."
);
probe_rule!(
    CLEARTEXT,
    "probe-cleartext",
    Warning,
    "the connection is not encrypted",
    "`basic` sends the password and mail in cleartext."
);
probe_rule!(
    AUTO_RESOLVED,
    "probe-auto-resolved",
    Info,
    "which mode `security \"auto\"` resolved to",
    "`auto` tries implicit TLS, then STARTTLS; the probe reports which one worked so the \
     account can pin it."
);
probe_rule!(
    LOGIN,
    "probe-login",
    Error,
    "the server refused the login",
    "Bad user name or password/token, an account that is locked or disabled, or a \
     temporary authentication failure."
);
probe_rule!(
    LOGIN_DISABLED,
    "probe-login-disabled",
    Error,
    "the server refuses to log in without TLS",
    "IMAP LOGINDISABLED, POP3/SMTP without login mechanisms before STARTTLS: use `tls` or \
     `ssl`."
);
probe_rule!(
    MECHANISM,
    "probe-auth-mechanism",
    Error,
    "the server does not offer a usable login mechanism",
    "Passwords need LOGIN/AUTH PLAIN (or AUTH LOGIN for SMTP); credentials-based accounts \
     need XOAUTH2."
);
probe_rule!(
    MAILBOX,
    "probe-mailbox",
    Error,
    "the IMAP mailbox does not exist or cannot be opened",
    "The configured `mailbox` (default INBOX) cannot be EXAMINEd; similar names from LIST \
     are suggested."
);
probe_rule!(
    FROM_REJECTED,
    "probe-from-rejected",
    Error,
    "the SMTP server rejects a From address",
    "Each `from { address … }` is tried with MAIL FROM/RCPT TO (then RSET, nothing is sent)."
);
probe_rule!(
    SEND,
    "probe-send",
    Error,
    "the test message could not be sent",
    "`--send-test-to` sends a real message; the server refused it."
);
probe_rule!(
    PROTOCOL,
    "probe-protocol",
    Error,
    "the server does not speak the expected protocol",
    "The greeting or a reply is not IMAP/POP3/SMTP: a different service listens on that port."
);

pub static ALL: &[&RuleMeta] = &[
    &NOT_READY,
    &SECRET,
    &DNS,
    &CONNECT,
    &TIMEOUT,
    &TLS_MISMATCH,
    &STARTTLS_MISSING,
    &TLS,
    &CERTIFICATE,
    &CERT_EXPIRING,
    &UNVERIFIED,
    &CLEARTEXT,
    &AUTO_RESOLVED,
    &LOGIN,
    &LOGIN_DISABLED,
    &MECHANISM,
    &MAILBOX,
    &FROM_REJECTED,
    &SEND,
    &PROTOCOL,
];

pub fn find(name: &str) -> Option<&'static RuleMeta> {
    ALL.iter().copied().find(|m| m.name == name)
}
