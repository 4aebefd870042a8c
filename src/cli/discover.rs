//! `mailcfg discover`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use mailcfg::discover::{self, DiscoverError, Options, RenderOptions};
use mailcfg::probe::net::Trust;
use mailcfg::probe::resolve::Resolver;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  an account was written (read the notes on stderr: a GUESS is marked as one)
  1  nothing names a mail server for the address's domain
  2  usage or I/O problem: not an e-mail address, --out names a file that exists or cannot be
     written, a --ca-file that cannot be read
  3  internal error (a bug in mailcfg: please report it)
  4  no DNS server answered
With --probe, once the account is written: the exit code of `mailcfg probe` on it (0 every
stage passed; 1 a stage failed or the password variable is not set; 4 no resolver answered)";

#[derive(clap::Args)]
pub struct DiscoverArgs {
    /// The e-mail address whose servers to find (e.g. helpdesk@example.com).
    #[arg(value_name = "ADDRESS")]
    address: String,
    /// The account's name (default: the address).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Make the account available to users (`available-to-users #true`).
    #[arg(long)]
    available: bool,
    /// The login name (default: the autoconfig document's username for the chosen server, else
    /// the address).
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// The environment variable the password is read from (default: the address's local part
    /// in capitals, then _PASSWORD, e.g. HELPDESK_PASSWORD).
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Write the account to this file instead of standard output; an existing file is never
    /// overwritten.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Ask this DNS server (IP or IP:PORT, over UDP, TCP for long answers) instead of the first
    /// nameserver of /etc/resolv.conf.
    #[arg(long, value_name = "IP[:PORT]", env = "MAILCFG_DNS_SERVER",
          value_parser = Resolver::parse_server)]
    dns_server: Option<Resolver>,
    /// Also trust the CA certificates in this PEM file for the autoconfig HTTPS servers (as
    /// `probe --ca-file` does).
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// The port autoconfig documents are fetched from over HTTPS (for test set-ups and
    /// internal mirrors).
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 443,
        hide_short_help = true
    )]
    https_port: u16,
    /// Probe the account at once with `mailcfg probe` (same --dns-server, --ca-file and
    /// --timeout): resolve, connect, TLS, certificate, capabilities; login only when the
    /// password variable is set. Its report goes to stderr when the account goes to stdout.
    #[arg(long)]
    probe: bool,
    /// Seconds to wait for each DNS answer and each HTTPS step.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    timeout: f64,
}

pub fn run(args: DiscoverArgs) -> u8 {
    if !args.timeout.is_finite() || args.timeout <= 0.0 {
        eprintln!("mailcfg: --timeout must be more than 0 seconds");
        return 2;
    }
    if let Some(var) = &args.password_env {
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            eprintln!("mailcfg: --password-env {var:?} is not an environment variable name");
            return 2;
        }
    }
    // Said before any DNS traffic; the create_new below is what actually guarantees it.
    if let Some(path) = args.out.as_ref().filter(|p| p.exists()) {
        eprintln!(
            "mailcfg: cannot write {}: it exists (discover never overwrites a file)",
            path.display()
        );
        return 2;
    }
    let trust = match Trust::new(args.ca_file.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mailcfg: {e}");
            return 2;
        }
    };
    let opts = Options {
        resolver: args.dns_server.unwrap_or_default(),
        timeout: Duration::from_secs_f64(args.timeout),
        trust,
        https_port: args.https_port,
    };
    let found = match discover::discover(&args.address, &opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("mailcfg: {}", e.message());
            return match e {
                DiscoverError::BadAddress(_) => 2,
                DiscoverError::NothingFound(_) => 1,
                DiscoverError::Dns(_) => 4,
            };
        }
    };
    for note in &found.notes {
        eprintln!("note: {note}");
    }
    let kdl = discover::render(
        &found,
        &RenderOptions {
            name: args.name.clone(),
            available: args.available,
            user: args.user.clone(),
            password_env: args.password_env.clone(),
        },
    );
    match &args.out {
        None => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(kdl.as_bytes())
                .and_then(|_| stdout.flush())
                .is_err()
            {
                return 2;
            }
        }
        Some(path) => {
            // create_new: the check and the creation are one step, so nothing is overwritten.
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .and_then(|mut f| f.write_all(kdl.as_bytes()));
            if let Err(e) = written {
                let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
                    "it exists (discover never overwrites a file)".to_string()
                } else {
                    e.to_string()
                };
                eprintln!("mailcfg: cannot write {}: {why}", path.display());
                return 2;
            }
            eprintln!("wrote {}", path.display());
        }
    }
    if !args.probe {
        return 0;
    }
    probe(&kdl, &args)
}

/// `mailcfg probe` on the written account (the file, or a copy of what went to stdout), so the
/// verdict is exactly the one `probe` gives later.
fn probe(kdl: &str, args: &DiscoverArgs) -> u8 {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("mailcfg: cannot find the mailcfg executable to run the probe");
        return 2;
    };
    let mut cmd = std::process::Command::new(exe);
    let _tmp; // kept alive until the probe has run
    match &args.out {
        Some(path) => {
            cmd.arg("probe").arg(path);
        }
        None => {
            let dir = match tempfile::tempdir() {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("mailcfg: cannot create a temporary directory to probe in: {e}");
                    return 2;
                }
            };
            if let Err(e) = std::fs::write(dir.path().join("discovered.kdl"), kdl) {
                eprintln!("mailcfg: cannot write the account to probe it: {e}");
                return 2;
            }
            cmd.current_dir(dir.path())
                .args(["probe", "discovered.kdl"]);
            // The account is on stdout: the report must not be mixed into it.
            cmd.stdout(std::process::Stdio::from(std::io::stderr()));
            _tmp = dir;
        }
    }
    cmd.args(["--timeout", &args.timeout.to_string()]);
    if let Some(Resolver::Server(a)) = args.dns_server {
        cmd.args(["--dns-server", &a.to_string()]);
    }
    if let Some(ca) = &args.ca_file {
        // The probe may run in a temporary directory.
        cmd.arg("--ca-file")
            .arg(std::path::absolute(ca).unwrap_or_else(|_| ca.clone()));
    }
    match cmd.status() {
        Ok(status) => status.code().map_or(3, |c| c.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("mailcfg: cannot run the probe: {e}");
            2
        }
    }
}
