//! After the login: EXAMINE the mailbox (IMAP), STAT (POP3), test the From addresses and send
//! the optional test message (SMTP).

use std::time::Instant;

use super::{Run, Session};
use crate::probe::net::{Conn, NetError};
use crate::probe::{pop3, smtp, Finding, LoginPlan, MailboxFacts, Outcome, SenderVerdict, Verdict};
use crate::registry::probe as r;

impl Run<'_> {
    // ---- after login --------------------------------------------------------------------

    pub(super) fn mailbox(&mut self, s: &mut Session) {
        let mailbox = self.plan.mailbox.clone().unwrap_or_else(|| "INBOX".into());
        let t = Instant::now();
        match s.imap.examine(&mut s.conn, &mailbox) {
            Ok((rep, n)) if rep.ok => {
                self.report.mailbox = Some(MailboxFacts {
                    name: mailbox.clone(),
                    messages: n,
                    opened: true,
                });
                let count = n.map(|n| format!(": {n} messages")).unwrap_or_default();
                self.stage(
                    "mailbox",
                    Outcome::Ok,
                    format!("EXAMINE {mailbox:?}{count}"),
                    t,
                );
            }
            Ok((rep, _)) => {
                self.report.mailbox = Some(MailboxFacts {
                    name: mailbox.clone(),
                    messages: None,
                    opened: false,
                });
                let names = s.imap.list(&mut s.conn).unwrap_or_default();
                let similar = similar_names(&mailbox, &names);
                self.stage(
                    "mailbox",
                    Outcome::Fail,
                    format!("EXAMINE {mailbox:?}: {}", rep.text),
                    t,
                );
                let msg = if rep.code.as_deref() == Some("NONEXISTENT")
                    || rep.text.to_ascii_lowercase().contains("exist")
                {
                    format!("mailbox {mailbox:?} does not exist on the {}", self.who())
                } else {
                    format!("mailbox {mailbox:?} cannot be opened: {}", rep.text)
                };
                let help = if !similar.is_empty() {
                    format!("did you mean {}?", quote_list(&similar))
                } else if names.is_empty() {
                    "the server listed no mailboxes".to_string()
                } else {
                    format!(
                        "the server has: {}",
                        quote_list(&names.iter().take(20).cloned().collect::<Vec<_>>())
                    )
                };
                let target = self.rel("mailbox");
                let f = self.find(&r::MAILBOX, &["mailbox"], msg);
                f.help = Some(help);
                if let Some(best) = similar.first() {
                    f.fix = vec![(target, format!("{best:?}"))];
                }
            }
            Err(e) => {
                self.net_fail("mailbox", e, t);
            }
        }
    }

    pub(super) fn stat(&mut self, s: &mut Session) {
        let t = Instant::now();
        match pop3::command(&mut s.conn, "STAT") {
            Ok(rep) if rep.ok => {
                let detail = match pop3::stat_counts(&rep) {
                    Some((n, o)) => {
                        self.report.stat = Some((n, o));
                        format!("STAT: {n} messages, {o} octets")
                    }
                    None => format!("STAT: {}", rep.text),
                };
                self.stage("stat", Outcome::Ok, detail, t);
            }
            Ok(rep) => {
                self.stage("stat", Outcome::Fail, format!("STAT: {}", rep.text), t);
                let msg = format!("the {} refused STAT: {}", self.who(), rep.text);
                self.find(&r::MAILBOX, &["user"], msg);
            }
            Err(e) => {
                self.net_fail("stat", e, t);
            }
        }
    }

    pub(super) fn senders(&mut self, s: &mut Session) {
        let rcpt = self.plan.send_test_to.clone().or_else(|| {
            self.plan
                .default_from
                .as_deref()
                .map(crate::probe::bare_address)
        });
        let t = Instant::now();
        if self.plan.senders.is_empty() {
            self.skip("senders", "no `from { address … }` to test");
        } else if let Some(rcpt) = rcpt.clone() {
            let mut accepted = Vec::new();
            let mut rejected = Vec::new();
            for (addr, at) in self.plan.senders.clone() {
                match check_sender(&mut s.conn, &addr, &rcpt) {
                    Ok(SenderResult::Accepted) => {
                        self.report.senders.push(SenderVerdict {
                            address: addr.clone(),
                            verdict: Verdict::Accepted,
                            reply: None,
                        });
                        accepted.push(addr)
                    }
                    Ok(SenderResult::SenderRejected(text)) => {
                        self.report.senders.push(SenderVerdict {
                            address: addr.clone(),
                            verdict: Verdict::Rejected,
                            reply: Some(text.clone()),
                        });
                        let msg =
                            format!("the {} rejects From address {addr:?}: {text}", self.who());
                        let mut f = Finding::new(&r::FROM_REJECTED, &[], msg);
                        f.at = vec![at.clone(), "from".into()];
                        f.help = Some(
                            "the login may not send as this address: grant \"send as\" on the \
                             server, or remove the address"
                                .into(),
                        );
                        self.findings.push(f);
                        rejected.push(addr);
                    }
                    Ok(SenderResult::RecipientRejected(text)) => {
                        self.report.senders.push(SenderVerdict {
                            address: addr.clone(),
                            verdict: Verdict::RecipientRefused,
                            reply: Some(text.clone()),
                        });
                        accepted.push(format!("{addr} (recipient {rcpt} refused: {text})"));
                    }
                    Err(e) => {
                        self.net_fail("senders", e, t);
                        return;
                    }
                }
            }
            let outcome = if rejected.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Fail
            };
            let mut detail = format!("MAIL FROM accepted: {}", none_or(&accepted));
            if !rejected.is_empty() {
                detail.push_str(&format!("; REJECTED: {}", rejected.join(", ")));
            }
            self.stage("senders", outcome, detail, t);
        }
        if let Some(to) = self.plan.send_test_to.clone() {
            self.send_test(s, &to);
        }
    }

    pub(super) fn send_test(&mut self, s: &mut Session, to: &str) {
        let t = Instant::now();
        let from = self
            .plan
            .default_from
            .clone()
            .or_else(|| match &self.plan.login {
                LoginPlan::Password { user, .. } | LoginPlan::Bearer { user, .. } => {
                    Some(user.clone())
                }
                _ => None,
            });
        let Some(from) = from else {
            self.stage("send", Outcome::Fail, "no From address", t);
            let msg = "--send-test-to needs a From address: the account has no `from` address"
                .to_string();
            let mut f = Finding::new(&r::SEND, &[], msg);
            f.at = vec!["from".into(), "outgoing".into()];
            self.findings.push(f);
            return;
        };
        let id = message_id();
        let message = match build_message(&from, to, &self.plan.account_name, &id) {
            Ok(m) => m,
            Err(e) => {
                self.stage("send", Outcome::Fail, e.clone(), t);
                let mut f =
                    Finding::new(&r::SEND, &[], format!("cannot build the test message: {e}"));
                f.at = vec!["from".into(), "outgoing".into()];
                self.findings.push(f);
                return;
            }
        };
        let from_bare = crate::probe::bare_address(&from);
        let steps = (|| -> Result<Result<(), String>, NetError> {
            let _ = smtp::command(&mut s.conn, "RSET")?;
            let r = smtp::command(&mut s.conn, &format!("MAIL FROM:<{from_bare}>"))?;
            if !r.ok() {
                return Ok(Err(format!(
                    "MAIL FROM:<{from_bare}> refused: {}",
                    r.text()
                )));
            }
            let r = smtp::command(&mut s.conn, &format!("RCPT TO:<{to}>"))?;
            if !r.ok() {
                return Ok(Err(format!("RCPT TO:<{to}> refused: {}", r.text())));
            }
            let r = smtp::data(&mut s.conn, &message)?;
            if !r.ok() {
                return Ok(Err(format!("message refused: {}", r.text())));
            }
            Ok(Ok(()))
        })();
        match steps {
            Ok(Ok(())) => {
                self.stage(
                    "send",
                    Outcome::Ok,
                    format!("sent to {to}, Message-ID {id}"),
                    t,
                );
                self.report.sent_message_id = Some(id);
            }
            Ok(Err(e)) => {
                self.stage("send", Outcome::Fail, e.clone(), t);
                let msg = format!("the test message to {to} was not sent: {e}");
                let mut f = Finding::new(&r::SEND, &[], msg);
                f.at = vec!["outgoing/server".into(), "outgoing".into()];
                self.findings.push(f);
            }
            Err(e) => {
                self.net_fail("send", e, t);
            }
        }
    }
}

enum SenderResult {
    Accepted,
    SenderRejected(String),
    RecipientRejected(String),
}

/// MAIL FROM + RCPT TO + RSET. Servers usually delay sender rejections to RCPT
/// (Postfix `smtpd_delay_reject`), so a RCPT refusal that names the sender counts as one.
fn check_sender(c: &mut Conn, from: &str, rcpt: &str) -> Result<SenderResult, NetError> {
    let r = smtp::command(c, &format!("MAIL FROM:<{from}>"))?;
    if !r.ok() {
        let _ = smtp::command(c, "RSET")?;
        return Ok(SenderResult::SenderRejected(r.text()));
    }
    let rr = smtp::command(c, &format!("RCPT TO:<{rcpt}>"))?;
    let _ = smtp::command(c, "RSET")?;
    if rr.ok() {
        return Ok(SenderResult::Accepted);
    }
    let text = rr.text();
    let lower = text.to_ascii_lowercase();
    if lower.contains("sender")
        || rr.first().starts_with("5.1.7")
        || rr.first().starts_with("5.1.8")
    {
        Ok(SenderResult::SenderRejected(text))
    } else {
        Ok(SenderResult::RecipientRejected(text))
    }
}

fn none_or(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn quote_list(v: &[String]) -> String {
    v.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Mailbox names close to `wanted`: same ignoring case, one contains the other, or a small
/// edit distance.
fn similar_names(wanted: &str, names: &[String]) -> Vec<String> {
    let w = wanted.to_lowercase();
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| {
            let l = n.to_lowercase();
            let d = strsim::levenshtein(&w, &l);
            let close = l == w
                || l.ends_with(&format!("/{w}"))
                || l.ends_with(&format!(".{w}"))
                || (w.len() >= 3 && l.contains(&w))
                || (l.len() >= 3 && w.contains(&l))
                || d <= (w.chars().count() / 3).max(1);
            close.then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, n)| n.clone()).collect()
}

fn message_id() -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!(
        "{now}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let h = Sha256::digest(seed.as_bytes());
    let hex: String = h.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("<mailcfg-probe.{hex}@mailcfg.invalid>")
}

fn build_message(from: &str, to: &str, account: &str, id: &str) -> Result<Vec<u8>, String> {
    use lettre::message::header::ContentType;
    let from = from.parse().map_err(|e| format!("From {from:?}: {e}"))?;
    let to = to.parse().map_err(|e| format!("To {to:?}: {e}"))?;
    let m = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(format!(
            "mailcfg probe: test message from account \"{account}\""
        ))
        .message_id(Some(id.to_string()))
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "This is a test message sent by `mailcfg probe --send-test-to` for the account \
             \"{account}\".\r\nIf it arrived, the account's outgoing server works.\r\n"
        ))
        .map_err(|e| e.to_string())?;
    Ok(m.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn similar_mailboxes_are_suggested() {
        let names: Vec<String> = ["INBOX", "Sent", "Shared/HR", "Archive", "Trash"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(similar_names("HR", &names), vec!["Shared/HR".to_string()]);
        assert_eq!(similar_names("inbox", &names), vec!["INBOX".to_string()]);
        assert_eq!(similar_names("Archiv", &names), vec!["Archive".to_string()]);
        assert!(similar_names("Nothing-like-it", &names).is_empty());
    }
}
