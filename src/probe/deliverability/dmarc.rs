//! DMARC (RFC 7489) of a From domain: policy discovery (§6.6.3) with the mail-auth library's
//! record parser. The organizational domain (§6.6.3 step 3) is found by walking up the name to
//! the closest ancestor that publishes a record, as mail-auth's own discovery does (a DNS tree
//! walk instead of the Public Suffix List of §3.2).

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::{Dmarc, Policy};
use mail_auth::MessageAuthenticator;

use super::dns::{self, Miss};

pub enum Found {
    /// A record whose policy is in force; `inherited` when it is an ancestor's (then `sp`, else
    /// `p`, applies). `discarded` names tag errors receivers discard (RFC 7489 §6.3).
    Policy {
        name: String,
        text: String,
        policy: &'static str,
        inherited: bool,
        discarded: Option<String>,
    },
    /// Records at `name` that begin with `v=DMARC1` but are not one valid record.
    Invalid {
        name: String,
        texts: Vec<String>,
        why: String,
    },
    Missing,
    Unanswered(String),
}

fn policy_name(p: Policy) -> &'static str {
    match p {
        Policy::None | Policy::Unspecified => "none",
        Policy::Quarantine => "quarantine",
        Policy::Reject => "reject",
    }
}

/// The records at `_dmarc.NAME` that claim to be DMARC (§6.6.3 step 2 discards the others).
async fn at(
    auth: &MessageAuthenticator,
    name: &str,
) -> Result<Vec<(String, mail_auth::Result<Dmarc>)>, String> {
    match dns::txt(auth, &format!("_dmarc.{name}")).await {
        Ok(texts) => Ok(texts
            .into_iter()
            .filter_map(|t| match Dmarc::parse(t.as_bytes()) {
                Err(mail_auth::Error::Dns(mail_auth::DnsError::InvalidRecordType)) => None,
                r => Some((t, r)),
            })
            .collect()),
        Err(Miss::NoSuchName | Miss::NoRecords) => Ok(Vec::new()),
        Err(Miss::Unanswered(why)) => Err(why),
    }
}

pub async fn discover(auth: &MessageAuthenticator, domain: &str) -> Found {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let mut name = domain.as_str();
    loop {
        let records = match at(auth, name).await {
            Ok(r) => r,
            Err(why) => return Found::Unanswered(why),
        };
        let inherited = name != domain;
        match records.len() {
            0 => {}
            1 => {
                let (text, parsed) = records.into_iter().next().expect("one record");
                let name = format!("_dmarc.{name}");
                return match parsed {
                    Ok(d) if d.p == Policy::Unspecified => Found::Invalid {
                        name,
                        texts: vec![text],
                        why: "it has no valid `p` tag (REQUIRED, RFC 7489 §6.3)".into(),
                    },
                    Ok(d) => Found::Policy {
                        name,
                        text,
                        policy: policy_name(if inherited && d.sp != Policy::Unspecified {
                            d.sp
                        } else {
                            d.p
                        }),
                        inherited,
                        discarded: None,
                    },
                    Err(_) => match lenient(&text) {
                        Ok((p, sp)) => Found::Policy {
                            name,
                            policy: policy_name(match (inherited, sp) {
                                (true, Some(sp)) => sp,
                                _ => p,
                            }),
                            discarded: Some(
                                "a tag value does not parse as RFC 7489 §6.4 defines it; \
                                 receivers discard such errors in favour of the defaults \
                                 (§6.3), so the policy stays in force"
                                    .into(),
                            ),
                            text,
                            inherited,
                        },
                        Err(why) => Found::Invalid {
                            name,
                            texts: vec![text],
                            why,
                        },
                    },
                };
            }
            n => {
                return Found::Invalid {
                    name: format!("_dmarc.{name}"),
                    texts: records.into_iter().map(|(t, _)| t).collect(),
                    why: format!("{n} records begin with v=DMARC1; receivers apply none of them"),
                }
            }
        }
        // Up one label, never to a top-level domain.
        match name.split_once('.') {
            Some((_, parent)) if parent.contains('.') => name = parent,
            _ => return Found::Missing,
        }
    }
}

/// The `p` and `sp` of a record the strict parser refused. RFC 7489 §6.3: "Syntax errors in the
/// remainder of the record SHOULD be discarded in favor of default values (if any) or ignored
/// outright"; only a `p` or `sp` that is not valid voids the policy (§6.6.3 step 6).
fn lenient(text: &str) -> Result<(Policy, Option<Policy>), String> {
    let tag = |name: &str| {
        text.split(';')
            .filter_map(|t| t.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    let value = |v: &str| match v {
        "none" => Some(Policy::None),
        "quarantine" => Some(Policy::Quarantine),
        "reject" => Some(Policy::Reject),
        _ => None,
    };
    let p = match tag("p") {
        None => return Err("it has no `p` tag (REQUIRED, RFC 7489 §6.3)".into()),
        Some(v) => value(&v).ok_or_else(|| {
            format!("`p={v}` is not a valid policy (RFC 7489 §6.3, §6.6.3 step 6)")
        })?,
    };
    let sp = match tag("sp") {
        None => None,
        Some(v) => Some(value(&v).ok_or_else(|| {
            format!("`sp={v}` is not a valid policy (RFC 7489 §6.3, §6.6.3 step 6)")
        })?),
    };
    Ok((p, sp))
}
