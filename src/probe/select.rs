//! `--account NAME`: which accounts to probe, and a clear message for a name that matches none.

use crate::pipeline::Checked;

/// Which accounts `--account` names; unknown names are an error.
pub fn select(checked: &Checked, names: &[String]) -> Result<Vec<usize>, String> {
    let accounts = &checked.project.accounts;
    if names.is_empty() {
        return Ok((0..accounts.len()).collect());
    }
    let mut out = Vec::new();
    for n in names {
        let found: Vec<usize> = accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.value.name.eq_ignore_ascii_case(n))
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() {
            return Err(unknown_account(checked, n));
        }
        for i in found {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    Ok(out)
}

/// Why `--account NAME` matched nothing: no such account (with the closest names), or an
/// account of that name that is written but fails the schema check, so it is not in the model.
fn unknown_account(checked: &Checked, name: &str) -> String {
    let accounts = &checked.project.accounts;
    let written = format!("account {name:?}").to_lowercase();
    let in_source = checked.sources.iter().any(|(_, f)| {
        f.text
            .lines()
            .any(|l| l.trim_start().to_lowercase().starts_with(&written))
    });
    if in_source {
        return format!(
            "account {name:?} is written but fails the schema check, so it cannot be probed; \
             `mailcfg check` shows why"
        );
    }
    let mut close: Vec<(f64, &str)> = accounts
        .iter()
        .map(|a| a.value.name.as_str())
        .map(|k| {
            (
                strsim::jaro_winkler(&k.to_lowercase(), &name.to_lowercase()),
                k,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut msg = format!("no account named {name:?} exists");
    if let Some((_, best)) = close.first() {
        msg.push_str(&format!("; did you mean {best:?}?"));
    } else if accounts.is_empty() {
        msg.push_str(" (the files define no account that passes the schema check)");
    } else if accounts.len() <= 10 {
        let names: Vec<String> = accounts
            .iter()
            .map(|a| format!("{:?}", a.value.name))
            .collect();
        msg.push_str(&format!(" (accounts: {})", names.join(", ")));
    } else {
        msg.push_str(&format!(" (among {} accounts)", accounts.len()));
    }
    msg
}
