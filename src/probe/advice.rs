//! What to change when the probe finds that `security` (or `port`) does not match the server,
//! phrased so that the change passes `mailcfg check`: a suggestion never contradicts
//! `port-security-mismatch` (implicit TLS on 993/995/465, a cleartext greeting on
//! 110/143/25/587: RFC 8314 §3.1–3.3, RFC 6409 §3.1) or `security-imap-only` / `smtp-security-unsupported`
//! (CSM offers STARTTLS for IMAP and SMTP only, `ssl-no-auth` for IMAP only).

use crate::model::{well_known_port, Security, Service};

/// A help text and the settings that carry it out (pointers relative to the account, KDL
/// values); empty edits when the change cannot be written without knowing more (e.g. which
/// port the server's implicit TLS listens on when the account already uses the usual one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub help: String,
    pub edits: Vec<(String, String)>,
}

/// One server block of an account, as written.
#[derive(Debug, Clone, Copy)]
pub struct Side {
    /// `incoming` or `outgoing`.
    pub role: &'static str,
    pub service: Service,
    pub security: Security,
    /// The `port` as written, if it is.
    pub written_port: Option<u32>,
}

impl Side {
    /// The port actually used: the written one, else CSM's default for the security.
    pub fn port(&self) -> u32 {
        self.written_port
            .unwrap_or_else(|| self.service.default_port(self.security) as u32)
    }
}

/// The usual implicit-TLS port of a service (RFC 8314 §7: 993, 995, 465).
pub fn implicit_port(s: Service) -> u32 {
    match s {
        Service::Imap => 993,
        Service::Pop => 995,
        Service::Smtp => 465,
    }
}

/// The usual cleartext/STARTTLS port (RFC 6409 for submission: 587).
pub fn starttls_port(s: Service) -> u32 {
    match s {
        Service::Imap => 143,
        Service::Pop => 110,
        Service::Smtp => 587,
    }
}

/// Does CSM offer this security for this service (the rules `security-imap-only` and
/// `smtp-security-unsupported`)?
pub fn offered(service: Service, security: Security) -> bool {
    !matches!(
        (service, security),
        (Service::Pop, Security::Tls | Security::SslNoAuth) | (Service::Smtp, Security::SslNoAuth)
    )
}

/// Would `check` accept `security` on `port` (written or default) for this service?
pub fn accepted(service: Service, security: Security, port: u32) -> bool {
    if !offered(service, security) {
        return false;
    }
    match well_known_port(port) {
        Some(k) => match security {
            Security::Ssl | Security::SslNoAuth => k.implicit_tls,
            Security::Basic | Security::Tls => !k.implicit_tls,
            Security::Auto => true,
        },
        None => true,
    }
}

fn quoted(s: Security) -> String {
    format!("\"{s}\"")
}

/// The edits that make the side use `security` on `port`: the `port` line is written only when
/// it is written already or the default port of the new security differs.
///
/// A port `check` would reject for that security (a well-known port of the other kind) is
/// replaced by the usual port of the security, so no suggestion can fail `check`.
fn settle(side: &Side, security: Security, port: u32) -> Vec<(String, String)> {
    let port = if accepted(side.service, security, port) {
        port
    } else if security.is_implicit_tls() {
        implicit_port(side.service)
    } else {
        starttls_port(side.service)
    };
    let mut edits = vec![(format!("{}/security", side.role), quoted(security))];
    let default = side.service.default_port(security) as u32;
    if side.written_port.is_some_and(|p| p != port)
        || (side.written_port.is_none() && default != port)
    {
        edits.push((format!("{}/port", side.role), port.to_string()));
    }
    edits
}

/// The server speaks implicit TLS on this port (it waited for a handshake, or `auto` resolved
/// to it).
pub fn implicit_tls_here(side: &Side) -> Advice {
    let port = side.port();
    if accepted(side.service, Security::Ssl, port) {
        return Advice {
            help: format!("use security \"ssl\" for port {port}"),
            edits: settle(side, Security::Ssl, port),
        };
    }
    // A cleartext/STARTTLS port by its number: `ssl` there fails `check`.
    let implicit = implicit_port(side.service);
    let mut help = format!(
        "port {port} is the {} cleartext/STARTTLS port: use port {implicit} with security \"ssl\"",
        side.service.display()
    );
    if offered(side.service, Security::Tls) {
        help.push_str(&format!(
            ", or security \"tls\" on port {port} if the server is meant to offer STARTTLS there"
        ));
    }
    Advice {
        help,
        edits: settle(side, Security::Ssl, implicit),
    }
}

/// The server greets in plaintext on this port although `security` is implicit TLS.
pub fn plaintext_here(side: &Side) -> Advice {
    let port = side.port();
    let implicit = implicit_port(side.service);
    if !offered(side.service, Security::Tls) {
        // POP3: CSM has no STLS, so only the implicit-TLS port is left.
        let edits = if port == implicit {
            Vec::new()
        } else {
            settle(side, side.security, implicit)
        };
        return Advice {
            help: format!(
                "CSM offers no STARTTLS for {}: use the server's implicit-TLS port (usually \
                 {implicit}) with security \"{}\"",
                side.service.display(),
                side.security
            ),
            edits,
        };
    }
    if accepted(side.service, Security::Tls, port) {
        return Advice {
            help: format!(
                "use security \"tls\" (STARTTLS) for port {port}, or the implicit-TLS port \
                 (usually {implicit}) with \"ssl\""
            ),
            edits: settle(side, Security::Tls, port),
        };
    }
    let plain = starttls_port(side.service);
    Advice {
        help: format!(
            "port {port} is the {} implicit-TLS port, yet the server answered in plaintext: use \
             port {plain} with security \"tls\" (STARTTLS)",
            side.service.display()
        ),
        edits: settle(side, Security::Tls, plain),
    }
}

/// STARTTLS was required (`tls`, or `auto` after implicit TLS failed) but is not offered.
pub fn no_starttls(side: &Side) -> Advice {
    let implicit = implicit_port(side.service);
    Advice {
        help: format!(
            "use the server's implicit-TLS port (usually {implicit}) with security \"ssl\", or \
             security \"basic\" only if cleartext is really intended"
        ),
        edits: settle(side, Security::Ssl, implicit),
    }
}

/// The connection is cleartext (`basic`) and should be encrypted: `tls` on the same port where
/// CSM offers STARTTLS, else the implicit-TLS port with `ssl`. `why` starts the help.
pub fn encrypt(side: &Side, why: &str) -> Advice {
    let port = side.port();
    let implicit = implicit_port(side.service);
    if offered(side.service, Security::Tls) && accepted(side.service, Security::Tls, port) {
        return Advice {
            help: format!(
                "{why}use security \"tls\" (STARTTLS) on port {port}, or port {implicit} with \
                 \"ssl\""
            ),
            edits: settle(side, Security::Tls, port),
        };
    }
    Advice {
        help: format!("{why}use port {implicit} with security \"ssl\""),
        edits: settle(side, Security::Ssl, implicit),
    }
}

/// `auto` worked as `mode`: pin it, if `check` accepts that mode here.
pub fn pin(side: &Side, mode: Security) -> Advice {
    let port = side.port();
    if accepted(side.service, mode, port) {
        return Advice {
            help: format!("write security \"{mode}\""),
            edits: settle(side, mode, port),
        };
    }
    if mode == Security::Ssl {
        return implicit_tls_here(side);
    }
    // STARTTLS where CSM does not offer it (POP3): the implicit-TLS port is the way to pin
    // encryption.
    let implicit = implicit_port(side.service);
    Advice {
        help: format!(
            "CSM offers no STARTTLS for {}: to rule out cleartext use the server's implicit-TLS \
             port (usually {implicit}) with security \"ssl\"",
            side.service.display()
        ),
        edits: settle(side, Security::Ssl, implicit),
    }
}

/// `ssl-no-auth` should verify the certificate.
pub fn verify(side: &Side) -> Advice {
    Advice {
        help: "use security \"ssl\" (with --ca-file for a private CA)".into(),
        edits: settle(side, Security::Ssl, side.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(service: Service, security: Security, port: Option<u32>) -> Side {
        Side {
            role: if service == Service::Smtp {
                "outgoing"
            } else {
                "incoming"
            },
            service,
            security,
            written_port: port,
        }
    }

    #[test]
    fn implicit_tls_on_587_suggests_465_with_ssl_or_tls_on_587() {
        let a = implicit_tls_here(&side(Service::Smtp, Security::Tls, Some(587)));
        assert!(
            a.help.contains("port 465 with security \"ssl\""),
            "{}",
            a.help
        );
        assert!(a.help.contains("\"tls\" on port 587"), "{}", a.help);
        assert_eq!(
            a.edits,
            vec![
                ("outgoing/security".to_string(), "\"ssl\"".to_string()),
                ("outgoing/port".to_string(), "465".to_string())
            ]
        );
    }

    #[test]
    fn pop3_is_never_told_to_use_starttls() {
        for s in [
            plaintext_here(&side(Service::Pop, Security::Ssl, Some(10110))),
            pin(
                &side(Service::Pop, Security::Auto, Some(10110)),
                Security::Tls,
            ),
            encrypt(&side(Service::Pop, Security::Basic, None), ""),
        ] {
            assert!(!s.edits.iter().any(|(_, v)| v == "\"tls\""), "{s:?}");
        }
    }
}
