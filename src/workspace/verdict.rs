//! What a run of the workspace reports and decides on.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::diagnostics::Level;
use crate::model::{Account, Credential, Located, Project};
use crate::pipeline::Checked;
use crate::source::FileId;

/// The result of checking a workspace: what every command reports and decides on.
pub struct Verdict {
    /// Every file of the context set (by [`FileId`], in the workspace's order), then one entry
    /// per path that could not be walked and per named configuration file. `diagnostics` holds
    /// only the findings in reported files or pointing into one.
    pub checked: Checked,
    /// Per file of `checked.sources`: is it reported on?
    pub reported: Vec<bool>,
}

impl Verdict {
    pub fn is_reported(&self, file: FileId) -> bool {
        self.reported.get(file.index()).copied().unwrap_or(false)
    }

    /// How many files the report is about (the summary line's count): the reported files and
    /// every other file a shown finding is located in (a second `system` node in a file read
    /// for context is shown, so its file is counted).
    pub fn reported_files(&self) -> usize {
        let mut counted = self.reported.clone();
        for d in &self.checked.diagnostics {
            if let Some(c) = counted.get_mut(d.primary.file.index()) {
                *c = true;
            }
        }
        counted.iter().filter(|r| **r).count()
    }

    /// Whether a file could not be read or walked (exit code 2 for every command).
    pub fn has_io_errors(&self) -> bool {
        self.checked.has_io_errors()
    }

    /// Whether any reported finding is at or above `level`.
    pub fn fails_at(&self, level: Level) -> bool {
        self.checked.diagnostics.iter().any(|d| d.level >= level)
    }

    /// What `compile` writes and `probe` tests: the accounts and credentials of the reported
    /// files, the credentials of the context those accounts reference, and the project's
    /// `system` nodes. Meant for a run over one project (see [`Workspace::single_project`]).
    pub fn reported_project(&self) -> Project {
        let project = &self.checked.project;
        let accounts: Vec<Located<Account>> = project
            .accounts
            .iter()
            .filter(|a| self.is_reported(a.file))
            .cloned()
            .collect();
        let referenced: HashSet<&str> = accounts
            .iter()
            .flat_map(|a| {
                let a = &a.value;
                a.incoming
                    .credential
                    .as_deref()
                    .into_iter()
                    .chain(a.outgoing.as_ref().and_then(|o| o.credential.as_deref()))
            })
            .collect();
        let credentials: Vec<Located<Credential>> = project
            .credentials
            .iter()
            .filter(|c| self.is_reported(c.file) || referenced.contains(c.value.name.as_str()))
            .cloned()
            .collect();
        Project {
            accounts,
            credentials,
            systems: project.systems.clone(),
        }
    }
}

/// The named paths belong to more than one project while the command makes one result of one
/// project (a store, an account's effective settings, a probe run).
#[derive(Debug)]
pub struct SeveralProjects {
    /// The roots of the projects holding reported files.
    pub roots: Vec<PathBuf>,
}

impl std::fmt::Display for SeveralProjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        write!(
            f,
            "the paths belong to {} projects ({}), each with its own configuration and `system`; \
             name the files of one project at a time",
            self.roots.len(),
            roots.join(", ")
        )
    }
}
