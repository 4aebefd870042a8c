//! The autoconfig document (Mozilla's config-v1.1.xml, as Thunderbird reads it), fetched over
//! HTTPS with the certificate verified, from `autoconfig.DOMAIN/mail/config-v1.1.xml` and then
//! `DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml`.
//!
//! Format: <https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat>:
//! `clientConfig/emailProvider` with `incomingServer type="imap|pop3"` and
//! `outgoingServer type="smtp"`, each with `hostname`, `port`, `socketType` (SSL, STARTTLS or
//! plain) and `username`, where %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% stand for
//! the parts of the address. Servers are listed in the provider's order of preference.

use std::time::Duration;

use crate::model::{Security, Service};
use crate::probe::net::{self, Conn, NetError, Trust};
use crate::probe::resolve::{self, ResolveError, Resolver};

/// Largest document read; real ones are a few kilobytes.
const MAX_BODY: usize = 256 * 1024;

/// One server of the document, in mailcfg's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub service: Service,
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The login name with the placeholders filled in.
    pub username: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    pub incoming: Vec<Offer>,
    pub outgoing: Vec<Offer>,
    /// What was left out and why (POP3 with STARTTLS, unknown types).
    pub skipped: Vec<String>,
}

/// Where the document is looked for, in order.
pub fn urls(domain: &str, port: u16) -> [(String, String); 2] {
    let authority = |host: &str| {
        if port == 443 {
            host.to_string()
        } else {
            format!("{host}:{port}")
        }
    };
    let auto = format!("autoconfig.{domain}");
    [
        (
            auto.clone(),
            format!("https://{}/mail/config-v1.1.xml", authority(&auto)),
        ),
        (
            domain.to_string(),
            format!(
                "https://{}/.well-known/autoconfig/mail/config-v1.1.xml",
                authority(domain)
            ),
        ),
    ]
}

/// Why a URL gave no document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Nobody is there (no such host, connection refused, 404): not worth a note.
    Absent,
    /// Something is there but failed (certificate, timeout, bad XML...): said in a note.
    Failed(String),
}

pub struct Fetcher<'a> {
    pub resolver: Resolver,
    pub timeout: Duration,
    pub trust: &'a Trust,
    pub port: u16,
}

impl Fetcher<'_> {
    /// GET `url` from `host` over HTTPS (HTTP/1.0, so the body is never chunked).
    pub fn get(&self, host: &str, url: &str) -> Result<String, FetchError> {
        let addrs = match resolve::resolve(self.resolver, host, self.port, self.timeout) {
            Ok(a) => a,
            Err(ResolveError::NotFound(_) | ResolveError::NoAddress(_)) => {
                return Err(FetchError::Absent)
            }
            Err(e) => return Err(FetchError::Failed(e.message().to_string())),
        };
        let stream = match net::connect(&addrs, self.timeout).0 {
            Ok((s, _)) => s,
            Err(net::ConnectError::Refused) => return Err(FetchError::Absent),
            Err(net::ConnectError::TimedOut) => {
                return Err(FetchError::Failed("no answer within the timeout".into()))
            }
            Err(net::ConnectError::Other(e)) => return Err(FetchError::Failed(e)),
        };
        let mut conn = Conn::plain(stream, self.timeout);
        if let Err(f) = conn.upgrade(self.trust, host, true) {
            return Err(FetchError::Failed(f.error.to_string()));
        }
        let path = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("/");
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: mailcfg/{}\r\nAccept: \
             application/xml, text/xml\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let failed = |e: NetError| FetchError::Failed(e.to_string());
        conn.send(request.as_bytes()).map_err(failed)?;
        let status = conn.read_line().map_err(failed)?;
        let code = status.split_whitespace().nth(1).unwrap_or("");
        match code {
            "200" => {}
            "404" | "410" => return Err(FetchError::Absent),
            _ => {
                return Err(FetchError::Failed(format!(
                    "the server answered {:?}",
                    status.chars().take(80).collect::<String>()
                )))
            }
        }
        while !conn.read_line().map_err(failed)?.is_empty() {}
        let mut body = String::new();
        loop {
            match conn.read_line() {
                Ok(line) => {
                    body.push_str(&line);
                    body.push('\n');
                    if body.len() > MAX_BODY {
                        return Err(FetchError::Failed(format!(
                            "the document is longer than {} KiB",
                            MAX_BODY / 1024
                        )));
                    }
                }
                // HTTP/1.0: the body ends when the server closes (a last line without a
                // newline is lost only if the server closes mid-line; XML ends with '>').
                Err(NetError::Closed) => break,
                // Some servers close without TLS close_notify after a complete document.
                Err(NetError::Tls(_)) if body.contains("</clientConfig>") => break,
                Err(e) => return Err(failed(e)),
            }
        }
        Ok(body)
    }
}

fn fill(template: &str, local: &str, domain: &str) -> String {
    template
        .replace("%EMAILADDRESS%", &format!("{local}@{domain}"))
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
}

/// The servers of a config-v1.1.xml document for `local@domain`.
pub fn parse(xml: &str, local: &str, domain: &str) -> Result<Document, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not well-formed XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err(format!(
            "the root element is <{}>, not <clientConfig>",
            root.tag_name().name()
        ));
    }
    let provider = root
        .children()
        .find(|n| n.has_tag_name("emailProvider"))
        .ok_or("no <emailProvider> element")?;
    let mut out = Document::default();
    for server in provider.children().filter(|n| n.is_element()) {
        let incoming = match server.tag_name().name() {
            "incomingServer" => true,
            "outgoingServer" => false,
            _ => continue,
        };
        let text = |tag: &str| -> Option<String> {
            server
                .children()
                .find(|n| n.has_tag_name(tag))
                .and_then(|n| n.text())
                .map(|t| t.trim().to_string())
        };
        let kind = server.attribute("type").unwrap_or("");
        let service = match (incoming, kind) {
            (true, "imap") => Service::Imap,
            (true, "pop3") => Service::Pop,
            (false, "smtp") => Service::Smtp,
            _ => {
                out.skipped.push(format!(
                    "a server of type {kind:?} (mailcfg writes IMAP, POP3 and SMTP)"
                ));
                continue;
            }
        };
        let Some(host) = text("hostname").map(|h| fill(&h, local, domain)) else {
            out.skipped
                .push(format!("a {} server without <hostname>", service.display()));
            continue;
        };
        let socket = text("socketType").unwrap_or_default();
        let security = match (socket.as_str(), service) {
            ("SSL", _) => Security::Ssl,
            // CSM offers STARTTLS for IMAP and SMTP, not POP3 (model::Incoming::security).
            ("STARTTLS", Service::Pop) => {
                out.skipped.push(format!(
                    "POP3 with STARTTLS at {host} (CSM offers STARTTLS for IMAP only)"
                ));
                continue;
            }
            ("STARTTLS", _) => Security::Tls,
            ("plain", _) => Security::Basic,
            (other, _) => {
                out.skipped
                    .push(format!("{host}: unknown socketType {other:?}"));
                continue;
            }
        };
        let port = match text("port").map(|p| p.parse::<u16>()) {
            Some(Ok(p)) if p > 0 => p,
            None => service.default_port(security),
            Some(_) => {
                out.skipped
                    .push(format!("{host}: the port is not a number from 1 to 65535"));
                continue;
            }
        };
        let offer = Offer {
            service,
            host,
            port,
            security,
            username: text("username").map(|u| fill(&u, local, domain)),
        };
        if incoming {
            out.incoming.push(offer);
        } else {
            out.outgoing.push(offer);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_ports_and_socket_types() {
        let xml = r#"<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.com">
  <incomingServer type="pop3"><hostname>pop.%EMAILDOMAIN%</hostname><port>110</port>
    <socketType>STARTTLS</socketType><username>%EMAILLOCALPART%</username></incomingServer>
  <incomingServer type="imap"><hostname>imap.example.com</hostname><port>993</port>
    <socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>587</port>
    <socketType>STARTTLS</socketType></outgoingServer>
</emailProvider></clientConfig>"#;
        let d = parse(xml, "desk", "example.com").unwrap();
        assert_eq!(
            d.incoming,
            vec![Offer {
                service: Service::Imap,
                host: "imap.example.com".into(),
                port: 993,
                security: Security::Ssl,
                username: Some("desk@example.com".into()),
            }]
        );
        assert_eq!(d.outgoing[0].security, Security::Tls);
        assert_eq!(d.outgoing[0].port, 587);
        assert!(
            d.skipped[0].contains("POP3 with STARTTLS at pop.example.com"),
            "{:?}",
            d.skipped
        );
        assert!(parse("<html/>", "a", "b.c").unwrap_err().contains("<html>"));
        assert!(parse("<clientConfig", "a", "b.c").is_err());
    }
}
