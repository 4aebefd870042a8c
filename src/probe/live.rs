//! Live output of the human format while accounts are probed: each account's block as soon as
//! it finishes and, on a terminal, a progress line (accounts done / total, the slowest account
//! still in flight, elapsed time) redrawn under the blocks. Machine formats never use this.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{table, AccountReport, Progress};
use crate::parse::redact;
use crate::source::Sources;

struct State {
    done: usize,
    /// Accounts in flight: index → (name, started).
    running: BTreeMap<usize, (String, Instant)>,
    /// A progress line is on the screen (to be erased before anything else is written).
    drawn: bool,
    stopped: bool,
}

pub struct Live<'a> {
    sources: &'a Sources,
    total: usize,
    started: Instant,
    terminal: bool,
    state: Mutex<State>,
    wake: Condvar,
}

/// How often the progress line is redrawn on a terminal.
const TICK: Duration = Duration::from_millis(250);

impl<'a> Live<'a> {
    /// `terminal`: draw the progress line (stdout is a terminal).
    pub fn new(sources: &'a Sources, total: usize, terminal: bool) -> Live<'a> {
        Live {
            sources,
            total,
            started: Instant::now(),
            terminal,
            state: Mutex::new(State {
                done: 0,
                running: BTreeMap::new(),
                drawn: false,
                stopped: false,
            }),
            wake: Condvar::new(),
        }
    }

    /// `[3/40] 2.1 s · slowest in flight: "Support" 1.8 s` (what fits in one terminal line).
    fn progress_line(&self, st: &State) -> String {
        let mut line = format!(
            "[{}/{}] {:.1} s",
            st.done,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        if let Some((name, since)) = st.running.values().min_by_key(|(_, since)| *since) {
            line.push_str(&format!(
                " · slowest in flight: {name:?} {:.1} s",
                since.elapsed().as_secs_f64()
            ));
            if st.running.len() > 1 {
                line.push_str(&format!(" (+{} more)", st.running.len() - 1));
            }
        }
        line.chars().take(100).collect()
    }

    fn write(&self, st: &mut State, block: &str) {
        let mut out = std::io::stdout().lock();
        if st.drawn {
            // Carriage return and erase the line: the block replaces the progress line.
            let _ = out.write_all(b"\r\x1b[2K");
            st.drawn = false;
        }
        let _ = out.write_all(block.as_bytes());
        if self.terminal && !st.stopped {
            let _ = out.write_all(self.progress_line(st).as_bytes());
            st.drawn = true;
        }
        let _ = out.flush();
    }

    /// Redraws the progress line every `TICK` until [`Live::stop`]; run it on its own
    /// thread. Returns at once off a terminal.
    pub fn tick(&self) {
        if !self.terminal {
            return;
        }
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        while !st.stopped {
            self.write(&mut st, "");
            st = match self.wake.wait_timeout(st, TICK) {
                Ok((g, _)) => g,
                Err(_) => return,
            };
        }
    }

    /// Erases the progress line and stops the ticker: what follows is the final summary.
    pub fn stop(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.stopped = true;
            self.write(&mut st, "");
        }
        self.wake.notify_all();
    }
}

impl Progress for Live<'_> {
    fn started(&self, index: usize, name: &str) {
        if let Ok(mut st) = self.state.lock() {
            st.running.insert(index, (name.to_string(), Instant::now()));
        }
    }

    fn finished(&self, index: usize, account: &AccountReport, secrets: &[String]) {
        let block = redact::scrub(&table::account_block(account, self.sources), secrets);
        if let Ok(mut st) = self.state.lock() {
            st.running.remove(&index);
            st.done += 1;
            self.write(&mut st, &block);
        }
    }
}
