//! SPF (RFC 7208) of a From domain with the mail-auth library: which TXT record is the SPF
//! record (§4.5), whether it parses (§4.6, mail-auth's parser), how many DNS-querying terms a
//! full evaluation needs (§4.6.4, counted over the parsed records), and `check_host()` for an
//! address (mail-auth's evaluation).

use std::collections::HashMap;
use std::net::IpAddr;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::spf::{Macro, Mechanism, Spf};
use mail_auth::{MessageAuthenticator, SpfResult};

use super::dns::{self, Miss};

/// RFC 7208 §4.6.4: at most 10 terms that cause DNS queries per evaluation.
pub const LOOKUP_LIMIT: usize = 10;

/// Include/redirect targets fetched at most, so a hostile chain cannot make the probe slow.
const MAX_FETCHES: usize = 40;

/// What the domain's TXT records hold, as SPF sees them (§4.5).
pub enum Record {
    /// The domain does not exist, or has no TXT record beginning with `v=spf1`.
    None {
        no_such_domain: bool,
    },
    /// More than one `v=spf1` record: `permerror` for everybody.
    Multiple(Vec<String>),
    /// One record that does not parse: `permerror`.
    Invalid(String),
    Valid(String, Box<Spf>),
    /// The DNS server gave no usable answer.
    Unanswered(String),
}

/// `Some` for a record that claims to be SPF (begins with `v=spf1`), with its parse.
fn parse(text: &str) -> Option<Result<Spf, mail_auth::Error>> {
    match Spf::parse(text.as_bytes()) {
        Err(mail_auth::Error::Dns(mail_auth::DnsError::InvalidRecordType)) => None,
        r => Some(r),
    }
}

pub async fn record(auth: &MessageAuthenticator, domain: &str) -> Record {
    let texts = match dns::txt(auth, domain).await {
        Ok(t) => t,
        Err(Miss::NoSuchName) => {
            return Record::None {
                no_such_domain: true,
            }
        }
        Err(Miss::NoRecords) => {
            return Record::None {
                no_such_domain: false,
            }
        }
        Err(Miss::Unanswered(why)) => return Record::Unanswered(why),
    };
    let mut spf: Vec<(String, Result<Spf, mail_auth::Error>)> = texts
        .into_iter()
        .filter_map(|t| parse(&t).map(|p| (t, p)))
        .collect();
    match spf.len() {
        0 => Record::None {
            no_such_domain: false,
        },
        1 => match spf.remove(0) {
            (text, Ok(parsed)) => Record::Valid(text, Box::new(parsed)),
            (text, Err(_)) => Record::Invalid(text),
        },
        _ => Record::Multiple(spf.into_iter().map(|(t, _)| t).collect()),
    }
}

/// The domain a `include:`/`redirect=` names, when it is a plain name (a macro is expanded only
/// during an evaluation, for one sender).
fn literal(m: &Macro) -> Option<String> {
    match m {
        Macro::Literal(b) => std::str::from_utf8(b)
            .ok()
            .map(|s| s.trim_end_matches('.').to_ascii_lowercase()),
        _ => None,
    }
}

/// Counting stops this far past the limit: an include loop would never end, and the verdict is
/// the same.
const COUNT_CAP: usize = LOOKUP_LIMIT * 5;

/// How many DNS-querying terms (`include`, `a`, `mx`, `ptr`, `exists`, `redirect`) evaluating the
/// whole record needs, through every include and redirect target, as a receiver evaluates them:
/// a target named twice is evaluated (and counted) twice, and what follows `all` — later
/// mechanisms, and `redirect` in a record with `all` — is never evaluated (RFC 7208 §5.1).
pub async fn lookups(auth: &MessageAuthenticator, spf: &Spf) -> usize {
    let mut total = 0;
    let mut fetched: HashMap<String, Option<Spf>> = HashMap::new();
    let mut pending: Vec<Spf> = vec![spf.clone()];
    while let Some(rec) = pending.pop() {
        if total > COUNT_CAP {
            break;
        }
        let mut targets = Vec::new();
        let mut has_all = false;
        for d in rec.directives.iter() {
            match &d.mechanism {
                Mechanism::Include { macro_string } => {
                    total += 1;
                    targets.extend(literal(macro_string));
                }
                Mechanism::A { .. }
                | Mechanism::Mx { .. }
                | Mechanism::Ptr { .. }
                | Mechanism::Exists { .. } => total += 1,
                Mechanism::All => {
                    has_all = true;
                    break;
                }
                Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => {}
            }
        }
        if let (false, Some(r)) = (has_all, &rec.redirect) {
            total += 1;
            targets.extend(literal(r));
        }
        for t in targets {
            if !fetched.contains_key(&t) {
                if fetched.len() >= MAX_FETCHES {
                    continue;
                }
                let parsed = match record(auth, &t).await {
                    Record::Valid(_, parsed) => Some(*parsed),
                    _ => None,
                };
                fetched.insert(t.clone(), parsed);
            }
            if let Some(Some(parsed)) = fetched.get(&t) {
                pending.push(parsed.clone());
            }
        }
    }
    total
}

/// RFC 7208 `check_host()` for mail from `sender` sent by `ip`, which greets as `helo`.
pub async fn check_host(
    auth: &MessageAuthenticator,
    ip: IpAddr,
    helo: &str,
    sender: &str,
) -> SpfResult {
    auth.verify_spf(SpfParameters::verify_mail_from(ip, helo, helo, sender))
        .await
        .result()
}

pub fn result_name(r: SpfResult) -> &'static str {
    match r {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}
