//! Typed account model. The JSON Schema is generated from these types, and every default
//! (ports, security, mailbox, padlocks) lives here and nowhere else.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::source::FileId;

/// One account file after lowering: top-level nodes grouped by name.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mailcfg account file", extend("x-kdl-path" = "file"))]
pub struct File {
    /// A global e-mail account (CSM: Global Email Settings › Email Accounts). Any number per file.
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
    /// The account's name, unique (case-insensitively) across the whole tree.
    pub name: String,
    /// Incoming mail protocol: "imap" or "pop" (CSM: Incoming Server › Protocol).
    pub protocol: Protocol,
    /// Whether users may send from this account (CSM: "Available to users"). Default #false: only
    /// the E-mail and Event Monitor uses it.
    #[serde(default)]
    pub available_to_users: bool,
    /// The incoming (POP3/IMAP) server.
    pub incoming: Incoming,
    /// The outgoing (SMTP) server.
    pub outgoing: Option<Outgoing>,
    /// Where the conversation ID ({CMI: PREFIX1234}) is added: "subject" or "body". Absent: no IDs.
    pub conversation_id: Option<ConversationId>,
    /// Which From addresses may be used when sending from this account.
    pub from: Option<From>,
    /// A trusted agent group allowed to send on behalf of others (CSM: Trusted Agent).
    pub trusted_agent: Option<TrustedAgent>,
    /// Padlocks: which settings users may not override. Defaults: server=#true credentials=#false.
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
    /// Host name or IP address of the POP3/IMAP server (CSM: Server).
    pub server: String,
    /// Connection security: auto (default), basic, ssl, ssl-no-auth, tls. tls (STARTTLS) and
    /// ssl-no-auth are offered for IMAP only.
    pub security: Option<Security>,
    /// Custom port. Default: POP3 110 / 995 (ssl), IMAP 143 / 993 (ssl).
    #[schemars(range(min = 1, max = 65535))]
    #[serde(default, deserialize_with = "port")]
    pub port: Option<u32>,
    /// Login name on the incoming server (CSM: User name).
    pub user: Option<String>,
    /// The password: env="VAR", file="path" or a literal string (discouraged).
    pub password: Option<Secret>,
    /// Name of a `credential` for credentials-based (OAuth) authentication; replaces the password.
    pub credential: Option<String>,
    /// IMAP folder to read (CSM: Mailbox). Default "INBOX". IMAP only.
    pub mailbox: Option<String>,
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
    /// Host name or IP address of the SMTP server (CSM: Server).
    pub server: String,
    /// Connection security: auto (default), basic, ssl, tls.
    pub security: Option<Security>,
    /// Custom port. Default: 25, or 465 with ssl.
    #[schemars(range(min = 1, max = 65535))]
    #[serde(default, deserialize_with = "port")]
    pub port: Option<u32>,
    /// SMTP authentication: none (default), same-as-incoming, log-on (with user and password or
    /// credential in this block).
    pub auth: Option<AuthMode>,
    /// Login name for auth "log-on".
    pub user: Option<String>,
    /// Password for auth "log-on": env="VAR", file="path" or a literal string (discouraged).
    pub password: Option<Secret>,
    /// Credential name for auth "log-on" with credentials-based authentication.
    pub credential: Option<String>,
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
/// under them is masked in every output (`source::redact`). A test holds this list to the
/// model's `Secret` fields.
pub const SECRET_NAMES: &[&str] = &[
    "password",
    "private-key",
    "certificate",
    "client-secret",
    "token",
];

/// A secret is never written in clear into any output; only its reference is shown.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(extend("x-expected" = "env=\"VARIABLE\", file=\"path\" or a quoted string"))]
pub enum Secret {
    Env {
        /// Name of the environment variable that holds the secret.
        env: String,
    },
    File {
        /// Path of a file whose contents (trailing newline removed) are the secret.
        file: String,
    },
    Literal(String),
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
    /// Users may send from their own address (CSM: "Allow user's e-mail address"). Default #false.
    #[serde(default)]
    pub allow_user_address: bool,
    /// Users may type any From address (CSM: "Allow any address"). Default #false.
    #[serde(default)]
    pub allow_arbitrary: bool,
    /// A From address users may pick; `default=#true` marks the preselected one.
    #[serde(default)]
    pub address: Vec<Address>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// `name@domain` or `Display Name <name@domain>`.
    pub value: String,
    /// Preselected From address. At most one per account.
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedAgent {
    /// The CSM group whose members may send on behalf of others.
    pub group: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Users may not change server, security and port. Default #true.
    pub server: Option<bool>,
    /// Users may not change user name and password. Default #false.
    pub credentials: Option<bool>,
}

impl Lock {
    pub fn server(&self) -> bool {
        self.server.unwrap_or(true)
    }
    pub fn credentials(&self) -> bool {
        self.credentials.unwrap_or(false)
    }
}

impl Account {
    pub fn lock(&self) -> Lock {
        self.lock.clone().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Credential {
    /// The credential's name, referenced by `credential "name"`; unique across the tree.
    pub name: String,
    /// "google" (service account) or "office365" (Entra ID app registration).
    #[serde(rename = "type")]
    pub kind: CredentialType,
    /// Google: the service account's e-mail address.
    pub service_account: Option<String>,
    /// Google: the service account's private key (JSON key file). Exactly one of private-key /
    /// certificate.
    pub private_key: Option<Secret>,
    /// Google or Office 365: a certificate used instead of a private key / client secret.
    pub certificate: Option<Secret>,
    /// Office 365: the directory (tenant) ID.
    pub tenant_id: Option<String>,
    /// Office 365: the application (client) ID.
    pub client_id: Option<String>,
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
    /// The conversation ID prefix ({CMI: PREFIX1234}): 2–8 letters or digits.
    pub conversation_prefix: Option<String>,
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
