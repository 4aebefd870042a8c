//! Typed account model. The JSON Schema is generated from these types, and every default
//! (ports, security, mailbox, padlocks) lives here and nowhere else.

use std::fmt;

/// The model's strings: short ones (most names, hosts, users and addresses) are held inline,
/// without an allocation of their own.
pub use compact_str::CompactString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::source::FileId;

/// One account file after lowering: top-level nodes grouped by name.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mailcfg account file", extend("x-kdl-path" = "file"))]
pub struct File {
    /// A global POP or IMAP account (CSM 10.4, "Define Global POP or IMAP Account Settings":
    /// E-mail and Event Monitoring › Edit E-mail Accounts and Settings › Accounts). Any number per
    /// file.
    #[serde(default)]
    pub account: Vec<Account>,
    /// Credentials for credentials-based (Google / Office 365) authentication, referenced by name
    /// from `credential "name"` inside `incoming` or `outgoing`.
    #[serde(default)]
    pub credential: Vec<Credential>,
    /// Settings shared by all accounts. At most one `system` node in the whole tree.
    #[serde(default)]
    pub system: Option<System>,
}

/// Names of nodes that may repeat (they lower to JSON arrays); every other node may appear once.
/// The key is the parent's path with array indices left out.
pub fn is_list_node(parent: &[&str], name: &str) -> bool {
    matches!(
        (parent, name),
        ([], "account") | ([], "credential") | (["account", "from"], "address")
    )
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Account {
    /// The account's name, unique (case-insensitively) across the whole tree (CSM: "Name",
    /// step 5a).
    #[schemars(extend("x-gui-label" = "Name"))]
    #[schemars(with = "String")]
    pub name: CompactString,
    /// Incoming mail protocol: "imap" or "pop" (CSM: Add › "POP account" or "IMAP account",
    /// step 3).
    #[schemars(extend("x-gui-label" = "Add › POP account / IMAP account"))]
    pub protocol: Protocol,
    /// Whether users may send e-mails from within CSM using this account (CSM: "Make Account
    /// Available to Users", step 5b). Default #false: only the E-mail and Event Monitor uses it.
    #[serde(default)]
    #[schemars(extend("x-gui-label" = "Make Account Available to Users"))]
    pub available_to_users: bool,
    /// The incoming (POP or IMAP) server (CSM: the Incoming Server page, steps 5–7).
    #[schemars(extend("x-gui-label" = "Incoming Server page"))]
    pub incoming: Incoming,
    /// The outgoing (SMTP) server (CSM: the Outgoing Server page, steps 8–10). Required by CSM
    /// ("All required Incoming and Outgoing Server information must be completed", step 12);
    /// its absence is reported by the `outgoing-server-missing` rule rather than by the schema,
    /// so that every other rule still checks the account in the same run.
    #[schemars(extend("x-gui-label" = "Outgoing Server page"))]
    pub outgoing: Option<Outgoing>,
    /// Where the Conversation ID ({CMI: ABCD1234}) is added: "subject" or "body" (CSM: "Add
    /// Conversation IDs to Outgoing Messages" with "Add to Subject Line" / "Add to Body", step
    /// 11). Absent: the check box is cleared.
    #[schemars(extend(
        "x-gui-label" = "Add Conversation IDs to Outgoing Messages › Add to Subject Line / Add to Body"
    ))]
    pub conversation_id: Option<ConversationId>,
    /// The addresses and settings associated with outbound e-mails (CSM: the From Settings page,
    /// step 13, optional).
    #[schemars(extend("x-gui-label" = "From Settings page"))]
    pub from: Option<From>,
    /// How Trusted Agents are used with this account: `trusted-agent "any"` or
    /// `trusted-agent group="GROUP"` (CSM: the Trusted Agents page, step 14, optional).
    #[schemars(extend("x-gui-label" = "Trusted Agents page"))]
    pub trusted_agent: Option<TrustedAgent>,
    /// Shorthand for the same padlocks on both the incoming and the outgoing section; a section's
    /// own `lock` wins for what it names. Defaults: server=#true credentials=#false.
    #[schemars(extend("x-gui-label" = "the padlock buttons of both sections"))]
    pub lock: Option<Lock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    Imap,
    Pop,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop => "pop",
        }
    }
    pub fn display(self) -> &'static str {
        match self {
            Protocol::Imap => "IMAP",
            Protocol::Pop => "POP3",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Security {
    #[default]
    Auto,
    Basic,
    Ssl,
    SslNoAuth,
    Tls,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Auto => "auto",
            Security::Basic => "basic",
            Security::Ssl => "ssl",
            Security::SslNoAuth => "ssl-no-auth",
            Security::Tls => "tls",
        }
    }
    /// TLS from the first byte (as opposed to STARTTLS or cleartext).
    pub fn is_implicit_tls(self) -> bool {
        matches!(self, Security::Ssl | Security::SslNoAuth)
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three kinds of server a port can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Imap,
    Pop,
    Smtp,
}

impl Service {
    pub fn display(self) -> &'static str {
        match self {
            Service::Imap => "IMAP",
            Service::Pop => "POP3",
            Service::Smtp => "SMTP",
        }
    }
    /// The port CSM uses when none is given (per the CSM documentation).
    pub fn default_port(self, security: Security) -> u16 {
        match (self, security.is_implicit_tls()) {
            (Service::Pop, false) => 110,
            (Service::Pop, true) => 995,
            (Service::Imap, false) => 143,
            (Service::Imap, true) => 993,
            (Service::Smtp, false) => 25,
            (Service::Smtp, true) => 465,
        }
    }
}

impl std::convert::From<Protocol> for Service {
    fn from(p: Protocol) -> Self {
        match p {
            Protocol::Imap => Service::Imap,
            Protocol::Pop => Service::Pop,
        }
    }
}

/// What a well-known port expects, if it is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WellKnownPort {
    pub service: Service,
    pub implicit_tls: bool,
}

pub fn well_known_port(port: u32) -> Option<WellKnownPort> {
    let (service, implicit_tls) = match port {
        110 => (Service::Pop, false),
        995 => (Service::Pop, true),
        143 => (Service::Imap, false),
        993 => (Service::Imap, true),
        25 | 587 => (Service::Smtp, false),
        465 => (Service::Smtp, true),
        _ => return None,
    };
    Some(WellKnownPort {
        service,
        implicit_tls,
    })
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Incoming {
    /// Host name or IP address of the POP or IMAP server (CSM: "Incoming Mail Server", step 6a).
    #[schemars(extend("x-gui-label" = "Incoming Mail Server"))]
    #[schemars(with = "String")]
    pub server: CompactString,
    /// Connection security: auto (default), basic, ssl, ssl-no-auth, tls; ssl-no-auth and tls
    /// are offered for IMAP only (CSM: "Security", step 6b).
    #[schemars(extend("x-gui-label" = "Security"))]
    pub security: Option<Security>,
    /// Custom port. Default: POP 110 / 995 (ssl), IMAP 143 / 993 (ssl) (CSM: "Custom Port",
    /// step 6c).
    #[schemars(range(min = 1, max = 65535))]
    #[schemars(extend("x-gui-label" = "Custom Port"))]
    #[serde(default, deserialize_with = "port")]
    pub port: Option<u32>,
    /// Login name on the incoming server (CSM: "User Name", step 7a). Leave it and the password
    /// out to let users provide their own.
    #[schemars(extend("x-gui-label" = "User Name"))]
    #[schemars(with = "Option<String>")]
    pub user: Option<CompactString>,
    /// The password: env="VAR", file="path" or a literal string (discouraged) (CSM: "Password",
    /// step 7b).
    #[schemars(extend("x-gui-label" = "Password"))]
    pub password: Option<Secret>,
    /// Name of a `credential` for credentials-based authentication; replaces the password (CSM:
    /// "Use Credentials-Based Authentication", step 5c, and "Credentials", step 7c).
    #[schemars(extend(
        "x-gui-label" = "Use Credentials-Based Authentication › Credentials"
    ))]
    #[schemars(with = "Option<String>")]
    pub credential: Option<CompactString>,
    /// IMAP folder to read. Default "INBOX". IMAP only (CSM: "Mailbox (IMAP only)", step 7d).
    #[schemars(extend("x-gui-label" = "Mailbox (IMAP only)"))]
    #[schemars(with = "Option<String>")]
    pub mailbox: Option<CompactString>,
    /// This section's padlock button (CSM: the Incoming Server page's padlock). Defaults:
    /// server=#true credentials=#false, or the account's `lock`.
    #[schemars(extend("x-gui-label" = "the Incoming Server page's padlock button"))]
    pub lock: Option<Lock>,
}

impl Incoming {
    pub fn security(&self) -> Security {
        self.security.unwrap_or_default()
    }
    pub fn effective_port(&self, protocol: Protocol) -> u32 {
        self.port
            .unwrap_or_else(|| Service::from(protocol).default_port(self.security()) as u32)
    }
    pub fn effective_mailbox(&self, protocol: Protocol) -> Option<&str> {
        match protocol {
            Protocol::Imap => Some(self.mailbox.as_deref().unwrap_or(DEFAULT_MAILBOX)),
            Protocol::Pop => None,
        }
    }
    pub fn has_credentials(&self) -> bool {
        self.user.is_some() && (self.password.is_some() || self.credential.is_some())
    }
}

/// The schema's port range, also enforced when the model is read straight from the tree.
fn port<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let port = u32::deserialize(d)?;
    if (1..=65535).contains(&port) {
        Ok(Some(port))
    } else {
        Err(serde::de::Error::custom("port out of range"))
    }
}

pub const DEFAULT_MAILBOX: &str = "INBOX";

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Outgoing {
    /// Host name or IP address of the SMTP server (CSM: "Outgoing Mail Server (SMTP)", step 9a).
    #[schemars(extend("x-gui-label" = "Outgoing Mail Server (SMTP)"))]
    #[schemars(with = "String")]
    pub server: CompactString,
    /// Connection security: auto (default), basic, ssl, tls (CSM: "Security", step 9b).
    #[schemars(extend("x-gui-label" = "Security"))]
    pub security: Option<Security>,
    /// Custom port. Default: 25, or 465 with ssl (CSM: "Custom Port", step 9c).
    #[schemars(range(min = 1, max = 65535))]
    #[schemars(extend("x-gui-label" = "Custom Port"))]
    #[serde(default, deserialize_with = "port")]
    pub port: Option<u32>,
    /// SMTP authentication: none (default: the check box is cleared), same-as-incoming, log-on
    /// (with user and password or credential in this block) (CSM: "Requires Authentication" with
    /// "Use Same Settings as My Incoming Server" / "Log on Using", step 10a).
    #[schemars(extend(
        "x-gui-label" = "Requires Authentication › Use Same Settings as My Incoming Server / Log on Using"
    ))]
    pub auth: Option<AuthMode>,
    /// Login name for auth "log-on"; ignored otherwise (CSM: "Log on Using" › user name, step
    /// 10a).
    #[schemars(extend("x-gui-label" = "Log on Using › User Name"))]
    #[schemars(with = "Option<String>")]
    pub user: Option<CompactString>,
    /// Password for auth "log-on"; ignored otherwise: env="VAR", file="path" or a literal string
    /// (discouraged) (CSM: "Log on Using" › password, step 10a).
    #[schemars(extend("x-gui-label" = "Log on Using › Password"))]
    pub password: Option<Secret>,
    /// Credential name for auth "log-on" with credentials-based authentication; ignored
    /// otherwise (CSM: "Use Credentials-Based Authentication", step 5c note).
    #[schemars(extend(
        "x-gui-label" = "Use Credentials-Based Authentication › Credentials"
    ))]
    #[schemars(with = "Option<String>")]
    pub credential: Option<CompactString>,
    /// This section's padlock button (CSM: the Outgoing Server page's padlock). Defaults:
    /// server=#true credentials=#false, or the account's `lock`.
    #[schemars(extend("x-gui-label" = "the Outgoing Server page's padlock button"))]
    pub lock: Option<Lock>,
}

impl Outgoing {
    pub fn security(&self) -> Security {
        self.security.unwrap_or_default()
    }
    pub fn auth(&self) -> AuthMode {
        self.auth.unwrap_or_default()
    }
    pub fn effective_port(&self) -> u32 {
        self.port
            .unwrap_or_else(|| Service::Smtp.default_port(self.security()) as u32)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    #[default]
    None,
    SameAsIncoming,
    LogOn,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::SameAsIncoming => "same-as-incoming",
            AuthMode::LogOn => "log-on",
        }
    }
}

/// Names of the nodes (and properties) whose value is a [`Secret`]: every literal value written
/// under them is masked in every output (`parse::redact`). A test holds this list to the
/// model's `Secret` fields.
pub const SECRET_NAMES: &[&str] = &[
    "password",
    "private-key",
    "certificate",
    "client-secret",
    "token",
];

/// A secret is never written in clear into any output; only its reference is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
#[schemars(extend("x-expected" = "env=\"VARIABLE\", file=\"path\" or a quoted string"))]
pub enum Secret {
    Env {
        /// Name of the environment variable that holds the secret.
        #[schemars(with = "String")]
        env: CompactString,
    },
    File {
        /// Path of a file whose contents (trailing newline removed) are the secret.
        #[schemars(with = "String")]
        file: CompactString,
    },
    Literal(#[schemars(with = "String")] CompactString),
}

// Read by hand rather than as serde's untagged enum, which buffers every value and tries each
// variant in turn (a tenth of reading a large file); it takes what the untagged form takes.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

/// A string is a literal secret; a map is `env` or `file` alone, with a string.
struct SecretVisitor;

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SecretKey {
    Env,
    File,
}

impl<'de> serde::de::Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("env=\"VARIABLE\", file=\"path\" or a quoted string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
        Ok(Secret::Literal(v.into()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
        use serde::de::Error;
        let Some(key) = map.next_key::<SecretKey>()? else {
            return Err(A::Error::custom("expected env or file"));
        };
        let value: CompactString = map.next_value()?;
        if map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("expected env or file alone"));
        }
        Ok(match key {
            SecretKey::Env => Secret::Env { env: value },
            SecretKey::File => Secret::File { file: value },
        })
    }
}

impl Secret {
    pub fn is_literal(&self) -> bool {
        matches!(self, Secret::Literal(_))
    }
    /// How the secret may be shown to users: the reference, never a literal value.
    pub fn redacted(&self) -> String {
        match self {
            Secret::Env { env } => format!("env={env:?}"),
            Secret::File { file } => format!("file={file:?}"),
            Secret::Literal(_) => "\"********\"".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConversationId {
    Subject,
    Body,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct From {
    /// Users may send from their own address. Default #false. (The CSM page does not name this
    /// From Settings control.)
    #[serde(default)]
    #[schemars(extend(
        "x-gui-label" = "settings associated with outbound emails (not named further on the page)"
    ))]
    pub allow_user_address: bool,
    /// Users may type any From address. Default #false. (The CSM page does not name this From
    /// Settings control.)
    #[serde(default)]
    #[schemars(extend(
        "x-gui-label" = "settings associated with outbound emails (not named further on the page)"
    ))]
    pub allow_arbitrary: bool,
    /// A From address users may pick; `default=#true` marks the preselected one (CSM: "From
    /// Addresses that are allowed for sending emails from CSM").
    #[serde(default)]
    #[schemars(extend("x-gui-label" = "From Addresses"))]
    pub address: Vec<Address>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// `name@domain` or `Display Name <name@domain>`.
    #[schemars(with = "String")]
    pub value: CompactString,
    /// Preselected From address. At most one per account.
    #[serde(default)]
    pub default: bool,
}

/// Which Trusted Agents the account uses (CSM: the Trusted Agents page): any Trusted Agent, or
/// those of one group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
#[schemars(extend("x-expected" = "\"any\" or group=\"GROUP\""))]
pub enum TrustedAgent {
    Any(AnyTrustedAgent),
    Group {
        /// The group of Trusted Agents to use.
        #[schemars(with = "String")]
        group: CompactString,
    },
}

/// `trusted-agent "any"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AnyTrustedAgent {
    Any,
}

/// A padlock button. `#true` means locked: users may not override.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Users may not change the server settings (server, security, port). Default #true;
    /// `server=#false` is CSM's "Allow E-mail Account Override".
    #[schemars(extend("x-gui-label" = "padlock › Allow E-mail Account Override"))]
    pub server: Option<bool>,
    /// Users may not enter their own user name and password. Default #false; `credentials=#false`
    /// is CSM's "Users Can Change Credentials".
    #[schemars(extend("x-gui-label" = "padlock › Users Can Change Credentials"))]
    pub credentials: Option<bool>,
}

/// The padlocks of one section, resolved: `true` means locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Padlocks {
    pub server: bool,
    pub credentials: bool,
}

impl Padlocks {
    /// "By default, server settings are locked and credentials are unlocked" (the CSM page).
    pub const DEFAULT: Padlocks = Padlocks {
        server: true,
        credentials: false,
    };

    /// The section's own `lock`, then the account's, then the default.
    fn resolve(section: Option<&Lock>, account: Option<&Lock>) -> Padlocks {
        let pick = |f: fn(&Lock) -> Option<bool>, default: bool| {
            section
                .and_then(f)
                .or_else(|| account.and_then(f))
                .unwrap_or(default)
        };
        Padlocks {
            server: pick(|l| l.server, Padlocks::DEFAULT.server),
            credentials: pick(|l| l.credentials, Padlocks::DEFAULT.credentials),
        }
    }
}

impl Account {
    /// The Incoming Server page's padlocks.
    pub fn incoming_lock(&self) -> Padlocks {
        Padlocks::resolve(self.incoming.lock.as_ref(), self.lock.as_ref())
    }
    /// The Outgoing Server page's padlocks.
    pub fn outgoing_lock(&self) -> Padlocks {
        Padlocks::resolve(
            self.outgoing.as_ref().and_then(|o| o.lock.as_ref()),
            self.lock.as_ref(),
        )
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Credential {
    /// The credential's name, referenced by `credential "name"`; unique across the tree.
    #[schemars(with = "String")]
    pub name: CompactString,
    /// "google" (service account) or "office365" (Entra ID app registration).
    #[serde(rename = "type")]
    pub kind: CredentialType,
    /// Google: the service account's e-mail address.
    #[schemars(with = "Option<String>")]
    pub service_account: Option<CompactString>,
    /// Google: the service account's private key (JSON key file). Exactly one of private-key /
    /// certificate.
    pub private_key: Option<Secret>,
    /// Google or Office 365: a certificate used instead of a private key / client secret.
    pub certificate: Option<Secret>,
    /// Office 365: the directory (tenant) ID.
    #[schemars(with = "Option<String>")]
    pub tenant_id: Option<CompactString>,
    /// Office 365: the application (client) ID.
    #[schemars(with = "Option<String>")]
    pub client_id: Option<CompactString>,
    /// Office 365: the client secret. Exactly one of client-secret / certificate.
    pub client_secret: Option<Secret>,
    /// An OAuth bearer token used by `mailcfg probe` for XOAUTH2 logins (never by CSM).
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialType {
    Google,
    Office365,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct System {
    /// The Conversation ID prefix ({CMI: ABCD1234}), set in CSM's History Attachment Options:
    /// 2–8 letters or digits.
    #[schemars(extend("x-gui-label" = "History Attachment Options › Conversation ID prefix"))]
    #[schemars(with = "Option<String>")]
    pub conversation_prefix: Option<CompactString>,
}

/// A model value with the place it came from: the file and the JSON pointer of its lowered form.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub file: FileId,
    pub pointer: String,
    pub value: T,
}

/// Everything the checked tree defines, across files.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub accounts: Vec<Located<Account>>,
    pub credentials: Vec<Located<Credential>>,
    pub systems: Vec<Located<System>>,
}

impl Project {
    pub fn credential(&self, name: &str) -> Option<&Located<Credential>> {
        self.credentials.iter().find(|c| c.value.name == name)
    }
    pub fn system(&self) -> Option<&System> {
        self.systems.first().map(|s| &s.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(json: &str) -> Option<Secret> {
        serde_json::from_str(json).ok()
    }

    /// What serde's untagged form of [`Secret`] took: a string, or a map of `env` or `file`
    /// alone with a string; nothing else.
    #[test]
    fn a_secret_is_a_string_or_env_or_file_alone() {
        assert_eq!(secret(r#""pw""#), Some(Secret::Literal("pw".into())));
        assert_eq!(
            secret(r#"{"env": "PW"}"#),
            Some(Secret::Env { env: "PW".into() })
        );
        assert_eq!(
            secret(r#"{"file": "pw.txt"}"#),
            Some(Secret::File {
                file: "pw.txt".into()
            })
        );
        for refused in [
            "{}",
            r#"{"env": "PW", "file": "pw.txt"}"#,
            r#"{"env": "PW", "env": "PW"}"#,
            r#"{"path": "pw.txt"}"#,
            r#"{"env": 5}"#,
            r#"{"env": null}"#,
            "5",
            "true",
            "null",
            r#"["PW", "pw.txt"]"#,
        ] {
            assert_eq!(secret(refused), None, "{refused}");
        }
    }
}
