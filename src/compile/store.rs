//! The store: the one deployable JSON document `mailcfg compile` writes. Every account is fully
//! resolved (no default is left for the deploy job to guess), and the layout is fixed: keys in
//! declaration order, lists sorted by name, no timestamps. Its JSON Schema is generated from these
//! types into `schema/store.schema.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::model::{AuthMode, CredentialType, Protocol, Security};
use crate::parse::redact::SECRET_NAMES;

/// The value of `format`.
pub const FORMAT: &str = "mailcfg-store";
/// The value of `version` this mailcfg writes and reads.
pub const VERSION: u32 = 2;

/// Whether a store field holds a [`StoreSecret`]: the diff treats it as opaque and shows the
/// reference (`env`, `file`), never a value. Store keys are the snake_case spelling of the
/// file's node names, so this is [`SECRET_NAMES`]; a test checks it against the schema.
pub fn is_secret_field(key: &str) -> bool {
    SECRET_NAMES.contains(&key.replace('_', "-").as_str())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mailcfg store")]
/// The compiled, deployable form of a tree of mailcfg account files.
pub struct Store {
    /// Always "mailcfg-store".
    pub format: StoreFormat,
    /// The store format version (2: padlocks per section, outgoing server required, Trusted
    /// Agents "any" or a group).
    #[schemars(extend("const" = 2))]
    pub version: u32,
    /// Every account, fully resolved, sorted by name.
    pub accounts: Vec<StoreAccount>,
    /// Every credential for credentials-based authentication, sorted by name.
    pub credentials: Vec<StoreCredential>,
    /// Settings shared by all accounts.
    pub system: StoreSystem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StoreFormat {
    #[serde(rename = "mailcfg-store")]
    MailcfgStore,
}

/// Where an account or credential was defined.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    /// The file, relative to the common directory of the compiled paths, with forward slashes.
    pub file: String,
    /// 1-based line of the `account` / `credential` node.
    #[schemars(range(min = 1))]
    pub line: u32,
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreAccount {
    /// The account's name (CSM: Account Name).
    pub name: String,
    pub source: SourceRef,
    /// "sha256:" and the hex SHA-256 of the account's canonical form: this object without
    /// `source` and `digest`, keys sorted, no whitespace.
    #[schemars(regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub digest: String,
    /// Incoming protocol: "imap" or "pop".
    pub protocol: Protocol,
    /// Whether users may send from this account (default false: monitor only).
    pub available_to_users: bool,
    pub incoming: StoreIncoming,
    /// The outgoing (SMTP) server.
    pub outgoing: StoreOutgoing,
    pub conversation_id: StoreConversationId,
    pub from: StoreFrom,
    /// Which Trusted Agents the account uses, or null (the Trusted Agents page left alone).
    pub trusted_agent: Option<StoreTrustedAgent>,
}

/// The Trusted Agents page: any Trusted Agent, or the Trusted Agents of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "use", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StoreTrustedAgent {
    Any,
    Group { group: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreIncoming {
    pub server: String,
    /// Effective security (default "auto").
    pub security: Security,
    /// Effective port: the custom one, or the default for protocol and security.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u32,
    /// How the account logs in: "password", "credential" (credentials-based OAuth) or "none"
    /// (no credentials given: users supply their own).
    pub authentication: IncomingAuth,
    pub user: Option<String>,
    pub password: Option<StoreSecret>,
    /// Name of the credential (see `credentials`) for credentials-based authentication.
    pub credential: Option<String>,
    /// The IMAP folder (default "INBOX"); null for POP3.
    pub mailbox: Option<String>,
    /// The Incoming Server page's padlocks, resolved.
    pub lock: StoreLock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IncomingAuth {
    Password,
    Credential,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreOutgoing {
    pub server: String,
    /// Effective security (default "auto").
    pub security: Security,
    /// Effective port: the custom one, or 25 / 465 (ssl).
    #[schemars(range(min = 1, max = 65535))]
    pub port: u32,
    /// Effective SMTP authentication (default "none").
    pub auth: AuthMode,
    /// The "Log on Using" login; always null unless `auth` is "log-on" (CSM ignores it then).
    pub user: Option<String>,
    pub password: Option<StoreSecret>,
    pub credential: Option<String>,
    /// The Outgoing Server page's padlocks, resolved.
    pub lock: StoreLock,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreConversationId {
    /// Where the conversation ID is added, or "none".
    pub placement: IdPlacement,
    /// The system-wide prefix when IDs are on and one is set; null otherwise (the identifier is
    /// then left to CSM).
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IdPlacement {
    Subject,
    Body,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreFrom {
    pub allow_user_address: bool,
    pub allow_arbitrary: bool,
    /// The From addresses users may pick, in the order written.
    pub addresses: Vec<StoreAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreAddress {
    pub address: String,
    /// The preselected address.
    pub default: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreLock {
    /// Users may not change server, security and port (false: "Allow E-mail Account Override").
    pub server: bool,
    /// Users may not enter their own user name and password (false: "Users Can Change
    /// Credentials").
    pub credentials: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreCredential {
    pub name: String,
    pub source: SourceRef,
    /// As for accounts: "sha256:" and the hex SHA-256 of the canonical form.
    #[schemars(regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub digest: String,
    #[serde(rename = "type")]
    pub kind: CredentialType,
    pub service_account: Option<String>,
    pub private_key: Option<StoreSecret>,
    pub certificate: Option<StoreSecret>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<StoreSecret>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreSystem {
    /// The conversation ID prefix, or null.
    pub conversation_prefix: Option<String>,
}

/// A secret in the store: a reference (the default), or a value (`--allow-inline-secrets` for a
/// literal from the file, `--resolve-secrets` for a reference read at compile time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum StoreSecret {
    Env {
        /// Environment variable holding the secret.
        env: String,
    },
    File {
        /// File holding the secret (trailing newline removed); relative paths are relative to
        /// the directory of `source.file`.
        file: String,
    },
    Resolved {
        /// The secret, read at compile time (`--resolve-secrets`).
        value: String,
        /// The reference it was read from.
        resolved_from: SecretRef,
    },
    Inline {
        /// A literal secret copied from the account file (`--allow-inline-secrets`).
        value: String,
    },
}

impl StoreSecret {
    pub fn value(&self) -> Option<&str> {
        match self {
            StoreSecret::Resolved { value, .. } | StoreSecret::Inline { value } => Some(value),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum SecretRef {
    Env { env: String },
    File { file: String },
}

impl Store {
    pub fn new(
        accounts: Vec<StoreAccount>,
        credentials: Vec<StoreCredential>,
        system: StoreSystem,
    ) -> Self {
        Store {
            format: StoreFormat::MailcfgStore,
            version: VERSION,
            accounts,
            credentials,
            system,
        }
    }

    /// The exact bytes written to disk: pretty JSON, a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = serde_json::to_string_pretty(self).expect("a store serializes");
        s.push('\n');
        s.into_bytes()
    }

    /// Parses a store file, checking the version and that names are unique.
    pub fn parse(bytes: &[u8]) -> Result<Store, String> {
        let store: Store = serde_json::from_slice(bytes).map_err(|e| {
            // serde_json's messages never quote string values, so no secret can leak here.
            format!("not a mailcfg store: {e}")
        })?;
        if store.version != VERSION {
            return Err(format!(
                "unsupported store version {} (this mailcfg reads version {VERSION})",
                store.version
            ));
        }
        for (what, names) in [
            (
                "account",
                store
                    .accounts
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>(),
            ),
            (
                "credential",
                store.credentials.iter().map(|c| c.name.as_str()).collect(),
            ),
        ] {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(format!(
                    "not a valid mailcfg store: {what} {:?} appears twice",
                    w[0]
                ));
            }
        }
        Ok(store)
    }

    /// Every secret value the store holds (for scrubbing output as a last line of defence).
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |s: &Option<StoreSecret>| {
            if let Some(v) = s.as_ref().and_then(StoreSecret::value) {
                out.push(v.to_string());
            }
        };
        for a in &self.accounts {
            push(&a.incoming.password);
            push(&a.outgoing.password);
        }
        for c in &self.credentials {
            push(&c.private_key);
            push(&c.certificate);
            push(&c.client_secret);
        }
        out
    }

    /// Whether any secret value (not a reference) is in the store: it is then written 0600.
    pub fn holds_secret_values(&self) -> bool {
        !self.secret_values().is_empty()
    }
}

/// JSON with object keys sorted and no whitespace: the form digests are computed over.
pub fn canonical_json(v: &Json) -> String {
    fn write(v: &Json, out: &mut String) {
        match v {
            Json::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Json::String((*k).clone()).to_string());
                    out.push(':');
                    write(&map[*k], out);
                }
                out.push('}');
            }
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// "sha256:<hex>" of the canonical form of `item` without its `source` and `digest`.
pub fn digest_of<T: Serialize>(item: &T) -> String {
    use sha2::{Digest, Sha256};
    let mut v = serde_json::to_value(item).expect("store items serialize");
    if let Json::Object(map) = &mut v {
        map.remove("source");
        map.remove("digest");
    }
    let hash = Sha256::digest(canonical_json(&v).as_bytes());
    let mut hex = String::with_capacity(64);
    for b in hash {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("sha256:{hex}")
}

/// The store's JSON Schema, as checked in under `schema/store.schema.json`.
pub fn schema() -> Json {
    let mut json = crate::schema::schema_of::<Store>();
    require_all(&mut json);
    json
}

/// The store always writes every key (absent values as null, never left out), so the schema
/// requires every property, `Option` ones included; schemars would make those optional.
fn require_all(v: &mut Json) {
    match v {
        Json::Object(map) => {
            if let Some(Json::Object(props)) = map.get("properties") {
                let all: Vec<Json> = props.keys().map(|k| Json::String(k.clone())).collect();
                map.insert("required".into(), Json::Array(all));
            }
            map.values_mut().for_each(require_all);
        }
        Json::Array(items) => items.iter_mut().for_each(require_all),
        _ => {}
    }
}

pub fn schema_pretty() -> String {
    crate::schema::pretty(&schema())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every property whose schema is a StoreSecret is a secret field, and nothing else is.
    #[test]
    fn secret_fields_match_the_schema() {
        fn walk(v: &Json, found: &mut Vec<String>, all: &mut Vec<String>) {
            if let Some(props) = v.get("properties").and_then(Json::as_object) {
                for (k, p) in props {
                    all.push(k.clone());
                    if p.to_string().contains("#/$defs/StoreSecret") {
                        found.push(k.clone());
                    }
                }
            }
            match v {
                Json::Object(m) => m.values().for_each(|x| walk(x, found, all)),
                Json::Array(a) => a.iter().for_each(|x| walk(x, found, all)),
                _ => {}
            }
        }
        let (mut found, mut all) = (Vec::new(), Vec::new());
        walk(&schema(), &mut found, &mut all);
        found.sort();
        found.dedup();
        let mut expected: Vec<String> = all.into_iter().filter(|k| is_secret_field(k)).collect();
        expected.sort();
        expected.dedup();
        assert_eq!(found, expected);
        assert_eq!(
            found,
            ["certificate", "client_secret", "password", "private_key"]
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v: Json =
            serde_json::from_str(r#"{"b":{"z":1,"a":[{"y":null,"x":"é\""}]},"a":true}"#).unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":true,"b":{"a":[{"x":"é\"","y":null}],"z":1}}"#
        );
    }

    #[test]
    fn secrets_round_trip_through_the_untagged_form() {
        for s in [
            r#"{"env":"A"}"#,
            r#"{"file":"x/y"}"#,
            r#"{"value":"v","resolved_from":{"env":"A"}}"#,
            r#"{"value":"v"}"#,
        ] {
            let parsed: StoreSecret = serde_json::from_str(s).unwrap();
            assert_eq!(serde_json::to_string(&parsed).unwrap(), s);
        }
        assert!(serde_json::from_str::<StoreSecret>(r#"{"env":"A","file":"b"}"#).is_err());
    }
}
