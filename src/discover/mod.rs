//! `mailcfg discover ADDRESS`: the incoming and outgoing servers of an e-mail address, found the
//! way mail clients find them, written as a complete account.
//!
//! Sources, in the order they are trusted:
//! 1. DNS SRV records (RFC 6186 §3, and RFC 8314 §5.1 for `_submissions._tcp`), chosen by
//!    priority and weight (RFC 2782), a "." target meaning the service is not offered;
//! 2. the autoconfig document (Mozilla's config-v1.1.xml) over HTTPS, see [`autoconfig`];
//! 3. the MX host's domain: a guess, clearly marked as one. An outgoing server nothing names is
//!    guessed to be the incoming host (CSM requires one), marked the same way.
//!
//! When two sources name different servers for the same side, the earlier source wins and a
//! note says so.
//!
//! Within SRV records: services without TLS only when nothing with TLS is advertised (RFC 8314
//! §5.1); then the lowest priority value across IMAP and POP3 (RFC 6186 §3.4); at equal priority
//! IMAP before POP3 and implicit TLS before STARTTLS (RFC 6186 §3.4 leaves that choice to the
//! client; RFC 8314 §3 recommends implicit TLS). Autoconfig documents carry no priorities: there
//! the same order applies, then the document's own.

pub mod autoconfig;
pub mod dns;
mod render;

use std::net::SocketAddr;
use std::time::Duration;

use crate::model::{Protocol, Security, Service};
use crate::probe::net::Trust;
use crate::probe::resolve::{self, Resolver};

pub use render::{render, RenderOptions};

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An SRV record: its owner name, priority and weight.
    Srv {
        name: String,
        priority: u16,
        weight: u16,
    },
    /// An autoconfig document at this URL.
    Autoconfig { url: String },
    /// Guessed from the domain of the lowest-preference MX host.
    MxGuess { mx: String },
    /// The outgoing server guessed to be the incoming host, nothing naming one.
    IncomingGuess { incoming: String },
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Srv {
                name,
                priority,
                weight,
            } => format!("DNS SRV {name} (priority {priority}, weight {weight})"),
            Source::Autoconfig { url } => format!("autoconfig document {url}"),
            Source::MxGuess { mx } => format!(
                "GUESS from the MX host {mx}: no SRV record names a server; verify before use"
            ),
            Source::IncomingGuess { incoming } => format!(
                "GUESS: the incoming host {incoming}, as nothing names an outgoing server; \
                 verify before use"
            ),
        }
    }
}

/// One server as mailcfg writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub service: Service,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub source: Source,
}

impl Server {
    fn same_place(&self, other: &Server) -> bool {
        self.host.eq_ignore_ascii_case(&other.host)
            && self.port == other.port
            && self.security == other.security
            && self.service == other.service
    }

    fn summary(&self) -> String {
        format!(
            "{} {}:{} security {}",
            self.service.display(),
            self.host,
            self.port,
            self.security
        )
    }

    /// The port to write: none when it is CSM's default for this service and security.
    pub fn written_port(&self) -> Option<u16> {
        (self.port != self.service.default_port(self.security)).then_some(self.port)
    }
}

#[derive(Debug, Clone)]
pub struct Discovery {
    pub address: String,
    pub domain: String,
    pub protocol: Protocol,
    pub incoming: Server,
    pub outgoing: Server,
    /// The login name the source gave (autoconfig's `username`), if any.
    pub user: Option<String>,
    /// Things the user should know: services a domain says it does not offer, alternatives not
    /// chosen, guesses.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoverError {
    /// Not `local@domain`.
    BadAddress(String),
    /// Every source was asked and none named an incoming server.
    NothingFound(String),
    /// No DNS server answered.
    Dns(String),
}

impl DiscoverError {
    pub fn message(&self) -> &str {
        match self {
            DiscoverError::BadAddress(m)
            | DiscoverError::NothingFound(m)
            | DiscoverError::Dns(m) => m,
        }
    }
}

/// The SRV services of RFC 6186 §3.1-3.3 and RFC 8314 §5.1, in mailcfg's order for equal
/// priorities.
struct SrvService {
    label: &'static str,
    service: Service,
    security: Security,
    /// What the service is, for notes.
    what: &'static str,
}

const INCOMING: [SrvService; 4] = [
    SrvService {
        label: "_imaps._tcp",
        service: Service::Imap,
        security: Security::Ssl,
        what: "IMAP over implicit TLS",
    },
    SrvService {
        label: "_imap._tcp",
        service: Service::Imap,
        security: Security::Tls,
        what: "IMAP with STARTTLS",
    },
    SrvService {
        label: "_pop3s._tcp",
        service: Service::Pop,
        security: Security::Ssl,
        what: "POP3 over implicit TLS",
    },
    // CSM offers STARTTLS for IMAP only (model::Incoming::security), so plain POP3 can only be
    // written as "basic"; `check` then says what that means for the password.
    SrvService {
        label: "_pop3._tcp",
        service: Service::Pop,
        security: Security::Basic,
        what: "POP3 without TLS",
    },
];

const OUTGOING: [SrvService; 2] = [
    SrvService {
        label: "_submissions._tcp",
        service: Service::Smtp,
        security: Security::Ssl,
        what: "submission over implicit TLS",
    },
    SrvService {
        label: "_submission._tcp",
        service: Service::Smtp,
        security: Security::Tls,
        what: "submission with STARTTLS",
    },
];

/// What one SRV name said.
enum SrvAnswer {
    /// No record.
    Absent,
    /// Only the "." target: "decidedly not available" (RFC 2782).
    NotOffered,
    /// The chosen record and how many others there were.
    Chosen(dns::Srv, usize),
}

/// RFC 2782: the lowest priority wins; among equals the weight is a share for random
/// selection. A configuration file needs one answer, so the heaviest wins (ties: the first
/// target in name order), and the others are named in a note.
fn choose(records: Vec<dns::Srv>) -> SrvAnswer {
    let usable: Vec<dns::Srv> = records
        .iter()
        .filter(|r| !r.target.is_empty())
        .cloned()
        .collect();
    if usable.is_empty() {
        return if records.is_empty() {
            SrvAnswer::Absent
        } else {
            SrvAnswer::NotOffered
        };
    }
    let others = usable.len() - 1;
    let best = usable
        .into_iter()
        .min_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then(b.weight.cmp(&a.weight))
                .then(a.target.cmp(&b.target))
        })
        .expect("not empty");
    SrvAnswer::Chosen(best, others)
}

pub struct Options {
    pub resolver: Resolver,
    pub timeout: Duration,
    /// Trust anchors for the autoconfig HTTPS servers.
    pub trust: Trust,
    /// The port autoconfig documents are fetched from (443; tests use another).
    pub https_port: u16,
}

/// Splits `local@domain` (a display name form `Name <local@domain>` is accepted too).
pub fn split_address(address: &str) -> Result<(String, String), DiscoverError> {
    let bare = crate::probe::bare_address(address);
    match bare.rsplit_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
        {
            Ok((local.to_string(), domain.to_ascii_lowercase()))
        }
        _ => Err(DiscoverError::BadAddress(format!(
            "{address:?} is not an e-mail address of the form name@example.com"
        ))),
    }
}

pub fn discover(address: &str, opts: &Options) -> Result<Discovery, DiscoverError> {
    let (local, domain) = split_address(address)?;
    let address = format!("{local}@{domain}");
    let server = dns::name_server(opts.resolver).map_err(|e| DiscoverError::Dns(e.0))?;
    let mut notes = Vec::new();
    let incoming = from_srv(
        server,
        &domain,
        &INCOMING,
        "IMAP before POP3, implicit TLS before STARTTLS; RFC 6186 §3.4 leaves equal priorities to \
         the client, RFC 8314 §3 recommends implicit TLS",
        opts.timeout,
        &mut notes,
    )?;
    let outgoing = from_srv(
        server,
        &domain,
        &OUTGOING,
        "implicit TLS before STARTTLS; RFC 8314 §3 recommends implicit TLS",
        opts.timeout,
        &mut notes,
    )?;
    let document = fetch_autoconfig(&local, &domain, opts, &mut notes);
    let (auto_in, auto_out, user) = match &document {
        Some((url, doc)) => {
            let source = Source::Autoconfig { url: url.clone() };
            let best_in = best_offer(&doc.incoming);
            (
                best_in.map(|o| offer_server(o, &source)),
                best_offer(&doc.outgoing).map(|o| offer_server(o, &source)),
                best_in.and_then(|o| o.username.clone()),
            )
        }
        None => (None, None, None),
    };
    let incoming = first_of("incoming", incoming, auto_in, &mut notes);
    let outgoing = first_of("outgoing", outgoing, auto_out, &mut notes);
    // The login name goes with the server it was given for.
    let user = match &incoming {
        Some(s) if matches!(s.source, Source::Autoconfig { .. }) => user,
        _ => None,
    };
    let (incoming, outgoing) = match (incoming, outgoing) {
        (Some(i), o) => (i, o),
        (None, o) => {
            let guess = mx_guess(server, &domain, opts, &mut notes)?;
            match guess {
                Some((i, guessed_out)) => (i, o.or(Some(guessed_out))),
                None => {
                    let (a, b) = {
                        let [a, b] = autoconfig::urls(&domain, opts.https_port);
                        (a.1, b.1)
                    };
                    // What went wrong on the way (a certificate that did not verify...)
                    // explains the "nothing".
                    let mut message = format!(
                        "nothing names a mail server for {domain}: no SRV record ({}), no \
                         autoconfig document ({a}, {b}), no MX record (asked {server})",
                        INCOMING
                            .iter()
                            .chain(&OUTGOING)
                            .map(|s| s.label)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    for note in notes {
                        message.push_str(&format!("\nnote: {note}"));
                    }
                    return Err(DiscoverError::NothingFound(message));
                }
            }
        }
    };
    // CSM requires an outgoing server (the outgoing-server-missing rule): with none named, the
    // incoming host is the likeliest, and it is marked as the guess it is.
    let outgoing = outgoing.unwrap_or_else(|| {
        notes.push(format!(
            "nothing names an outgoing server for {domain}: GUESSED the incoming host {} with \
             submission over implicit TLS (run `mailcfg probe` on the result before using it)",
            incoming.host
        ));
        Server {
            service: Service::Smtp,
            host: incoming.host.clone(),
            port: Service::Smtp.default_port(Security::Ssl),
            security: Security::Ssl,
            source: Source::IncomingGuess {
                incoming: incoming.host.clone(),
            },
        }
    });
    let protocol = match incoming.service {
        Service::Pop => Protocol::Pop,
        _ => Protocol::Imap,
    };
    Ok(Discovery {
        address,
        domain,
        protocol,
        incoming,
        outgoing,
        user,
        notes,
    })
}

/// The earlier source's answer, with a note when the later one names another server.
fn first_of(
    side: &str,
    earlier: Option<Server>,
    later: Option<Server>,
    notes: &mut Vec<String>,
) -> Option<Server> {
    match (earlier, later) {
        (Some(e), Some(l)) => {
            if !e.same_place(&l) {
                notes.push(format!(
                    "the sources disagree on the {side} server: {} says {}, {} says {}; the \
                     first is used (SRV records before the autoconfig document)",
                    e.source.describe(),
                    e.summary(),
                    l.source.describe(),
                    l.summary()
                ));
            }
            Some(e)
        }
        (e, l) => e.or(l),
    }
}

/// Preference within an autoconfig document: IMAP before POP3, then implicit TLS, then STARTTLS
/// (RFC 8314 §3 recommends implicit TLS), cleartext last (RFC 8314 §5.1); among equals the
/// document's own order.
fn best_offer(offers: &[autoconfig::Offer]) -> Option<&autoconfig::Offer> {
    let rank = |o: &autoconfig::Offer| {
        let service = match o.service {
            Service::Pop => 1,
            _ => 0,
        };
        let security = match o.security {
            Security::Ssl | Security::SslNoAuth => 0,
            Security::Tls => 1,
            _ => 2,
        };
        (service, security)
    };
    offers.iter().min_by_key(|o| rank(o))
}

fn offer_server(o: &autoconfig::Offer, source: &Source) -> Server {
    Server {
        service: o.service,
        host: o.host.clone(),
        port: o.port,
        security: o.security,
        source: source.clone(),
    }
}

/// The first autoconfig document found, with its URL. Failures other than "nothing there"
/// become notes: a certificate that does not verify is worth knowing about.
fn fetch_autoconfig(
    local: &str,
    domain: &str,
    opts: &Options,
    notes: &mut Vec<String>,
) -> Option<(String, autoconfig::Document)> {
    let fetcher = autoconfig::Fetcher {
        resolver: opts.resolver,
        timeout: opts.timeout,
        trust: &opts.trust,
        port: opts.https_port,
    };
    for (host, url) in autoconfig::urls(domain, opts.https_port) {
        match fetcher.get(&host, &url) {
            Ok(body) => match autoconfig::parse(&body, local, domain) {
                Ok(doc) => {
                    for s in &doc.skipped {
                        notes.push(format!("{url}: left out {s}"));
                    }
                    return Some((url, doc));
                }
                Err(e) => notes.push(format!("{url} is not an autoconfig document: {e}")),
            },
            Err(autoconfig::FetchError::Absent) => {}
            Err(autoconfig::FetchError::Failed(e)) => {
                notes.push(format!("{url} was not used: {e}"));
            }
        }
    }
    None
}

/// The first service of `services` (in order of preference) that has a usable SRV record.
fn from_srv(
    server: SocketAddr,
    domain: &str,
    services: &[SrvService],
    tie_break: &str,
    timeout: Duration,
    notes: &mut Vec<String>,
) -> Result<Option<Server>, DiscoverError> {
    // Every label is asked (RFC 6186 §3.4: "retrieve records for both services"); the choice
    // is made across them below.
    let mut found: Vec<(usize, Server, u16)> = Vec::new();
    for (order, s) in services.iter().enumerate() {
        let name = format!("{}.{domain}", s.label);
        let records = dns::srv(server, &name, timeout).map_err(|e| DiscoverError::Dns(e.0))?;
        match choose(records) {
            SrvAnswer::Absent => {}
            SrvAnswer::NotOffered => notes.push(format!(
                "{name} has the target \".\": {domain} says it does not offer {} (RFC 2782)",
                s.what
            )),
            SrvAnswer::Chosen(r, others) => {
                if others > 0 {
                    notes.push(format!(
                        "{name} has {} records: chose {}:{} (lowest priority, then highest weight)",
                        others + 1,
                        r.target,
                        r.port
                    ));
                }
                let priority = r.priority;
                found.push((
                    order,
                    Server {
                        service: s.service,
                        host: r.target,
                        port: r.port,
                        security: s.security,
                        source: Source::Srv {
                            name,
                            priority: r.priority,
                            weight: r.weight,
                        },
                    },
                    priority,
                ));
            }
        }
    }
    // RFC 8314 §5.1: services without TLS are ignored while any with TLS is advertised, "even
    // when those advertised configurations have a higher priority". Then the lowest priority
    // across services wins (RFC 6186 §3.4); at equal priority the client is "free to choose",
    // and mailcfg takes the services' order.
    let any_tls = found.iter().any(|(_, s, _)| s.security != Security::Basic);
    let rank = |(order, s, priority): &(usize, Server, u16)| {
        (any_tls && s.security == Security::Basic, *priority, *order)
    };
    let Some(chosen_at) = (0..found.len()).min_by_key(|&i| rank(&found[i])) else {
        return Ok(None);
    };
    let chosen = found.swap_remove(chosen_at);
    found.sort_by_key(|(order, _, _)| *order);
    for (order, other, priority) in &found {
        let why = if any_tls && other.security == Security::Basic {
            "services without TLS are ignored while one with TLS is offered: RFC 8314 §5.1"
                .to_string()
        } else if *priority > chosen.2 {
            format!(
                "lower priority value {} than {priority}: RFC 6186 §3.4",
                chosen.2
            )
        } else {
            format!("equal priority: {tie_break}")
        };
        let Source::Srv { name, .. } = &other.source else {
            continue;
        };
        notes.push(format!(
            "{name} also offers {} at {}:{}; {} is preferred ({why})",
            services[*order].what,
            other.host,
            other.port,
            chosen.1.source.describe()
        ));
    }
    Ok(Some(chosen.1))
}

/// The last hint: the domain of the most preferred MX host, with the host names mail providers
/// commonly use, the first that resolves. Both servers are guesses with implicit TLS.
fn mx_guess(
    server: SocketAddr,
    domain: &str,
    opts: &Options,
    notes: &mut Vec<String>,
) -> Result<Option<(Server, Server)>, DiscoverError> {
    let mut mxs = dns::mx(server, domain, opts.timeout).map_err(|e| DiscoverError::Dns(e.0))?;
    mxs.retain(|m| !m.exchange.is_empty()); // RFC 7505 null MX: no mail at all
    mxs.sort_by(|a, b| {
        a.preference
            .cmp(&b.preference)
            .then(a.exchange.cmp(&b.exchange))
    });
    let Some(mx) = mxs.first() else {
        return Ok(None);
    };
    let mx_domain = match mx.exchange.split_once('.') {
        Some((_, rest)) if rest.contains('.') => rest.to_string(),
        _ => mx.exchange.clone(),
    };
    let pick = |prefixes: [&str; 2]| -> String {
        prefixes
            .iter()
            .map(|p| format!("{p}.{mx_domain}"))
            .find(|h| resolve::resolve(Resolver::Server(server), h, 0, opts.timeout).is_ok())
            .unwrap_or_else(|| mx.exchange.clone())
    };
    let source = Source::MxGuess {
        mx: mx.exchange.clone(),
    };
    let incoming = Server {
        service: Service::Imap,
        host: pick(["imap", "mail"]),
        port: Service::Imap.default_port(Security::Ssl),
        security: Security::Ssl,
        source: source.clone(),
    };
    let outgoing = Server {
        service: Service::Smtp,
        host: pick(["smtp", "mail"]),
        port: Service::Smtp.default_port(Security::Ssl),
        security: Security::Ssl,
        source,
    };
    notes.push(format!(
        "no SRV record names an incoming server for {domain}: the servers are GUESSED from the \
         MX host {} (run `mailcfg probe` on the result before using it)",
        mx.exchange
    ));
    Ok(Some((incoming, outgoing)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srv(priority: u16, weight: u16, target: &str) -> dns::Srv {
        dns::Srv {
            priority,
            weight,
            port: 993,
            target: target.into(),
        }
    }

    #[test]
    fn lowest_priority_then_heaviest_weight() {
        let got = choose(vec![
            srv(10, 100, "backup.example"),
            srv(0, 1, "light.example"),
            srv(0, 60, "heavy.example"),
        ]);
        match got {
            SrvAnswer::Chosen(r, others) => {
                assert_eq!((r.target.as_str(), others), ("heavy.example", 2))
            }
            _ => panic!("nothing chosen"),
        }
        assert!(matches!(choose(vec![srv(0, 0, "")]), SrvAnswer::NotOffered));
        assert!(matches!(choose(vec![]), SrvAnswer::Absent));
    }

    #[test]
    fn addresses_are_split_and_checked() {
        assert_eq!(
            split_address("Help Desk <helpdesk@Example.COM>").unwrap(),
            ("helpdesk".into(), "example.com".into())
        );
        for bad in [
            "helpdesk",
            "@example.com",
            "a@localhost",
            "a@exa mple.com",
            "a@.com",
        ] {
            assert!(split_address(bad).is_err(), "{bad}");
        }
    }
}
