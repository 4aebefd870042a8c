//! Logging in with the planned secret, by the best mechanism the server offers, and explaining a
//! refusal.

use std::time::Instant;

use super::{Run, Session};
use crate::model::Service;
use crate::probe::net::NetError;
use crate::probe::{advice, pop3, smtp, Finding, LoginPlan, Outcome, Reply};
use crate::registry::probe as r;

impl Run<'_> {
    // ---- login --------------------------------------------------------------------------

    pub(super) fn login(&mut self, s: &mut Session) -> bool {
        let t = Instant::now();
        let (user, secret, bearer, at) = match &self.plan.login {
            LoginPlan::None => {
                self.skip("login", "auth \"none\": no login");
                return true;
            }
            LoginPlan::Unavailable => {
                self.skip("login", "credentials unavailable (see below)");
                return false;
            }
            LoginPlan::Password { user, pass, at } => {
                (user.clone(), pass.clone(), false, at.clone())
            }
            LoginPlan::Bearer { user, token, at } => {
                (user.clone(), token.clone(), true, at.clone())
            }
        };
        let tls = s.conn.is_tls();
        let mech_missing = |run: &mut Self, what: &str| {
            let offered = if s.caps.mechs.is_empty() {
                "none".to_string()
            } else {
                s.caps.mechs.join(" ")
            };
            run.stage("login", Outcome::Fail, format!("{what} not offered"), t);
            if !tls && s.caps.starttls {
                let msg = format!(
                    "the {} offers no login before TLS (mechanisms: {offered}); it expects \
                     STARTTLS",
                    run.who()
                );
                let advice = advice::encrypt(&run.plan.side(), "");
                run.find(&r::LOGIN_DISABLED, &["security"], msg)
                    .advise(advice);
            } else {
                let msg = format!(
                    "the {} does not offer {what} (mechanisms: {offered})",
                    run.who()
                );
                let mut f = Finding::new(&r::MECHANISM, &[], msg);
                f.at = vec![at.clone(), run.rel("user"), run.plan.role.key().to_string()];
                f.help = Some(if bearer {
                    "the server must support XOAUTH2 for credentials-based accounts".into()
                } else {
                    "the server needs LOGIN or AUTH PLAIN for password logins".into()
                });
                run.findings.push(f);
            }
        };
        let result: Result<(Reply, String), NetError> = match self.plan.service {
            Service::Imap => {
                if s.caps.login_disabled {
                    self.stage("login", Outcome::Fail, "LOGINDISABLED", t);
                    let msg = format!(
                        "the {} refuses to log in without TLS (LOGINDISABLED)",
                        self.who()
                    );
                    let advice = advice::encrypt(&self.plan.side(), "");
                    self.find(&r::LOGIN_DISABLED, &["security"], msg)
                        .advise(advice);
                    return false;
                }
                if bearer {
                    if !s.caps.mechs.iter().any(|m| m == "XOAUTH2") {
                        mech_missing(self, "AUTHENTICATE XOAUTH2");
                        return false;
                    }
                    s.imap
                        .authenticate(
                            &mut s.conn,
                            "XOAUTH2",
                            &crate::probe::xoauth2(&user, &secret),
                            s.caps.sasl_ir,
                        )
                        .map(|r| (r, "AUTHENTICATE XOAUTH2".into()))
                } else if s.caps.mechs.iter().any(|m| m == "PLAIN") {
                    s.imap
                        .authenticate(
                            &mut s.conn,
                            "PLAIN",
                            &crate::probe::sasl_plain(&user, &secret),
                            s.caps.sasl_ir,
                        )
                        .map(|r| (r, "AUTHENTICATE PLAIN".into()))
                } else {
                    s.imap
                        .login(&mut s.conn, &user, &secret)
                        .map(|r| (r, "LOGIN".into()))
                }
            }
            Service::Pop => {
                if bearer {
                    if !s.caps.mechs.iter().any(|m| m == "XOAUTH2") {
                        mech_missing(self, "AUTH XOAUTH2");
                        return false;
                    }
                    pop3::auth(
                        &mut s.conn,
                        "XOAUTH2",
                        &crate::probe::xoauth2(&user, &secret),
                    )
                    .map(|r| (r, "AUTH XOAUTH2".into()))
                } else if s.caps.mechs.iter().any(|m| m == "PLAIN") {
                    pop3::auth(
                        &mut s.conn,
                        "PLAIN",
                        &crate::probe::sasl_plain(&user, &secret),
                    )
                    .map(|r| (r, "AUTH PLAIN".into()))
                } else if s.caps.simple_login {
                    pop3::user_pass(&mut s.conn, &user, &secret).map(|r| (r, "USER/PASS".into()))
                } else {
                    mech_missing(self, "USER/PASS or AUTH PLAIN");
                    return false;
                }
            }
            Service::Smtp => {
                let has = |m: &str| s.caps.mechs.iter().any(|x| x == m);
                let r = if bearer {
                    if !has("XOAUTH2") {
                        mech_missing(self, "AUTH XOAUTH2");
                        return false;
                    }
                    smtp::auth(
                        &mut s.conn,
                        "XOAUTH2",
                        &crate::probe::xoauth2(&user, &secret),
                    )
                    .map(|r| (r, "AUTH XOAUTH2"))
                } else if has("PLAIN") {
                    smtp::auth(
                        &mut s.conn,
                        "PLAIN",
                        &crate::probe::sasl_plain(&user, &secret),
                    )
                    .map(|r| (r, "AUTH PLAIN"))
                } else if has("LOGIN") {
                    smtp::auth_login(&mut s.conn, &user, &secret).map(|r| (r, "AUTH LOGIN"))
                } else {
                    mech_missing(self, "AUTH PLAIN/LOGIN");
                    return false;
                };
                r.map(|(rep, how)| {
                    (
                        Reply {
                            ok: rep.code == 235,
                            bad: false,
                            code: Some(rep.code.to_string()),
                            text: rep.text(),
                        },
                        how.to_string(),
                    )
                })
            }
        };
        match result {
            Ok((rep, how)) if rep.ok => {
                self.stage("login", Outcome::Ok, format!("{how} as {user:?}"), t);
                true
            }
            Ok((rep, how)) => {
                self.stage(
                    "login",
                    Outcome::Fail,
                    format!("{how} as {user:?}: {}", rep.text),
                    t,
                );
                self.login_refused(&rep, &user, &at, bearer, tls);
                false
            }
            Err(e) => {
                self.net_fail("login", e, t);
                false
            }
        }
    }

    pub(super) fn login_refused(
        &mut self,
        rep: &Reply,
        user: &str,
        at: &str,
        bearer: bool,
        tls: bool,
    ) {
        let text = rep.text.as_str();
        let lower = text.to_ascii_lowercase();
        let code = rep.code.as_deref().unwrap_or("");
        let needs_tls = matches!(code, "PRIVACYREQUIRED" | "538" | "523" | "530")
            || (lower.contains("plaintext")
                && (lower.contains("disallow") || lower.contains("not allowed")))
            || lower.contains("must issue a starttls");
        if needs_tls && !tls {
            let msg = format!("the {} refuses to log in without TLS: {text}", self.who());
            let advice = advice::encrypt(&self.plan.side(), "");
            self.find(&r::LOGIN_DISABLED, &["security"], msg)
                .advise(advice);
            return;
        }
        let what = if bearer { "token" } else { "password" };
        let (cause, help) = match code {
            "UNAVAILABLE" | "SYS/TEMP" | "454" | "421" => (
                "a temporary server-side failure".to_string(),
                "try again later; if it persists the server's authentication backend is down"
                    .to_string(),
            ),
            "EXPIRED" | "CONTACTADMIN" | "AUTHORIZATIONFAILED" | "IN-USE" | "SYS/PERM" => (
                "the account is locked, expired or not allowed to log in".to_string(),
                "ask the mail administrator to unlock the account".to_string(),
            ),
            "504" => (
                "the mechanism is not supported".to_string(),
                "the server does not accept this login mechanism".to_string(),
            ),
            "534" => (
                "the server wants a stronger mechanism or an app password".to_string(),
                "use an app password or credentials-based (OAuth) login".to_string(),
            ),
            _ => (
                format!("bad user name or {what}"),
                if bearer {
                    "check `user` and the credential's token (it may have expired)".to_string()
                } else {
                    "check `user` and the password the reference points to".to_string()
                },
            ),
        };
        let msg = format!(
            "the {} refused the login as {user:?}: {cause} (server: {text})",
            self.who()
        );
        let mut f = Finding::new(&r::LOGIN, &[], msg);
        f.at = vec![
            at.to_string(),
            self.rel("user"),
            self.plan.role.key().to_string(),
        ];
        f.help = Some(help);
        self.findings.push(f);
    }
}
