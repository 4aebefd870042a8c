//! A private dnsmasq (scripts/setup-dnsmasq.sh installs it) on a free loopback port, for the
//! modules that need a real DNS server (probe, discover, deliverability). Each module passes
//! its own zones; the server stops when dropped.

use std::process::{Command, Stdio};
use std::time::Duration;

pub struct Dnsmasq {
    child: std::process::Child,
    pub port: u16,
    /// `127.0.0.1:PORT`, as `--dns-server` takes it.
    pub addr: String,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts dnsmasq with `zones` (its own options: `--address=`, `--srv-host=`, `--conf-file=`,
/// …) and returns once it answers an A query for `ready_name`.
pub fn start(zones: &[String], ready_name: &str) -> Dnsmasq {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("/usr/sbin/dnsmasq")
        .args([
            "--keep-in-foreground",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--pid-file=",
        ])
        .arg(format!("--port={port}"))
        .args(zones)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq is not installed: run `bash scripts/setup-dnsmasq.sh`");
    let dns = Dnsmasq {
        child,
        port,
        addr: format!("127.0.0.1:{port}"),
    };
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let query = a_query(ready_name);
    for _ in 0..50 {
        let _ = sock.send_to(&query, ("127.0.0.1", port));
        if sock.recv(&mut [0u8; 512]).is_ok() {
            return dns;
        }
    }
    panic!("dnsmasq did not start on port {port}");
}

/// A DNS query (RFC 1035 §4.1) for the A record of `name`.
fn a_query(name: &str) -> Vec<u8> {
    let mut query = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    query
}
