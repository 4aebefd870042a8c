//! Checking a run project by project: each project's files are each other's context and its
//! configuration sets their levels; the results are put together in the run's file order, so
//! every command reads one `Checked` whatever the number of projects.

use std::path::{Path, PathBuf};

use super::Markers;
use crate::lower::SpanMap;
use crate::model::{Located, Project};
use crate::pipeline::{check_with, Checked, Input};
use crate::policy::config::{self, Config};
use crate::source::{self, FileId, SourceFile, Sources};

/// Checks `inputs` where `project_of[i]` is the project of `inputs[i]` and `configs[p]` the
/// configuration of project `p`: each project is checked on its own (its files are each
/// other's context; its configuration sets their levels), and the results are put together
/// with every file at its place in `inputs`.
pub fn check_projects(inputs: Vec<Input>, project_of: &[usize], configs: &[&Config]) -> Checked {
    let first = project_of.first().copied().unwrap_or(0);
    if project_of.iter().all(|p| *p == first) {
        let default = Config::default();
        return check_with(inputs, configs.get(first).copied().unwrap_or(&default));
    }
    let mut groups: Vec<(Vec<usize>, Vec<Input>)> = vec![(Vec::new(), Vec::new()); configs.len()];
    for (i, input) in inputs.into_iter().enumerate() {
        let (places, inputs) = &mut groups[project_of[i]];
        places.push(i);
        inputs.push(input);
    }
    let total = project_of.len();
    let mut sources: Vec<Option<SourceFile>> = vec![None; total];
    let mut spans: Vec<Option<SpanMap>> = (0..total).map(|_| None).collect();
    let mut project = Project::default();
    let mut diagnostics = Vec::new();
    for (p, (places, inputs)) in groups.into_iter().enumerate() {
        if places.is_empty() {
            continue;
        }
        let checked = check_with(inputs, configs[p]);
        let place = |f: FileId| FileId(places[f.index()] as u32);
        for (id, file) in checked.sources.iter() {
            sources[place(id).index()] = Some(file.clone());
        }
        for (i, map) in checked.spans.into_iter().enumerate() {
            spans[places[i]] = Some(map);
        }
        relocate(&mut project.accounts, checked.project.accounts, &place);
        relocate(
            &mut project.credentials,
            checked.project.credentials,
            &place,
        );
        relocate(&mut project.systems, checked.project.systems, &place);
        diagnostics.extend(checked.diagnostics.into_iter().map(|mut d| {
            d.primary.file = place(d.primary.file);
            for r in &mut d.related {
                r.file = place(r.file);
            }
            for e in d.fix.iter_mut().flat_map(|f| &mut f.edits) {
                e.file = place(e.file);
            }
            d
        }));
    }
    let mut all = Sources::default();
    for file in sources {
        all.add(file.expect("every input belongs to a project"));
    }
    // In file order, as one check of all the files gives them.
    project.accounts.sort_by_key(|a| a.file);
    project.credentials.sort_by_key(|c| c.file);
    project.systems.sort_by_key(|s| s.file);
    diagnostics.sort_by(|a, b| {
        (a.primary.file, a.primary.span, a.rule).cmp(&(b.primary.file, b.primary.span, b.rule))
    });
    Checked {
        sources: all,
        spans: spans
            .into_iter()
            .map(|s| s.expect("every input belongs to a project"))
            .collect(),
        project,
        diagnostics,
    }
}

/// Moves model values of one project's check into the whole run's, at their files' places.
fn relocate<T>(to: &mut Vec<Located<T>>, from: Vec<Located<T>>, place: &dyn Fn(FileId) -> FileId) {
    to.extend(from.into_iter().map(|mut l| {
        l.file = place(l.file);
        l
    }));
}

/// The language server's check of its texts (files on disk, open buffers in their place):
/// each text is checked within its project, as `mailcfg check` plans it. `config` is the
/// editor's configuration (an open `mailcfg.kdl` buffer wins over its disk copy), read from
/// `config_path`; a nested project's own configuration is its open buffer (`buffer`) or its
/// file, the default while it is invalid (the editor shows its problems in it).
pub fn check_texts(
    inputs: Vec<Input>,
    config_path: Option<&Path>,
    config: &Config,
    buffer: &dyn Fn(&Path) -> Option<String>,
) -> Checked {
    let mut markers = Markers::default();
    // Per project: its root (`None`: the unmarked project) and the directory of a file of it.
    let mut projects: Vec<(Option<PathBuf>, PathBuf)> = Vec::new();
    let project_of: Vec<usize> = inputs
        .iter()
        .map(|input| {
            let abs = source::absolute(&input.path);
            let dir = abs.parent().unwrap_or(&abs).to_path_buf();
            let root = dir
                .ancestors()
                .find(|d| markers.holds(d))
                .map(Path::to_path_buf);
            match projects.iter().position(|(r, _)| *r == root) {
                Some(i) => i,
                None => {
                    projects.push((root, dir));
                    projects.len() - 1
                }
            }
        })
        .collect();
    // The editor's configuration (perhaps an unsaved buffer) applies to the projects it is the
    // nearest configuration of; the others read their own from disk.
    let editor_dir = config_path.map(|p| {
        let abs = source::absolute(p);
        abs.parent().map(Path::to_path_buf).unwrap_or(abs)
    });
    let own: Vec<Option<Config>> = projects
        .iter()
        .map(|(root, dir)| {
            let start = root.as_ref().unwrap_or(dir);
            let found = config::find(std::slice::from_ref(start));
            let found_dir = found
                .as_deref()
                .map(|f| source::absolute(f).parent().map(Path::to_path_buf))
                .unwrap_or_default();
            let editor_applies = editor_dir.as_ref().is_some_and(|e| {
                start.starts_with(e) && found_dir.as_ref().is_none_or(|f| e.starts_with(f))
            });
            if editor_applies {
                return None;
            }
            let own = found.and_then(|f| match buffer(&source::absolute(&f)) {
                Some(text) => config::parse_config(&f, &text).ok(),
                None => config::load(&f).ok(),
            });
            Some(own.unwrap_or_default())
        })
        .collect();
    let configs: Vec<&Config> = own.iter().map(|c| c.as_ref().unwrap_or(config)).collect();
    check_projects(inputs, &project_of, &configs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_projects_are_checked_apart_and_put_back_in_place() {
        let hr = |name: &str| {
            format!(
                "account \"{name}\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"imap.example.com\"\n        security \"ssl\"\n        port 993\n    }}\n}}\n"
            )
        };
        // a.kdl and c.kdl are one project, b.kdl another: the same name clashes only in the first.
        let inputs = vec![
            Input::text("a.kdl", hr("Support")),
            Input::text("b.kdl", hr("Support")),
            Input::text("c.kdl", hr("Support")),
        ];
        let lenient = Config::default();
        let checked = check_projects(inputs, &[0, 1, 0], &[&lenient, &lenient]);
        let paths: Vec<String> = checked
            .sources
            .iter()
            .map(|(_, f)| f.path.display().to_string())
            .collect();
        assert_eq!(paths, ["a.kdl", "b.kdl", "c.kdl"]);
        assert_eq!(checked.spans.len(), 3);
        let files: Vec<u32> = checked.project.accounts.iter().map(|a| a.file.0).collect();
        assert_eq!(files, [0, 1, 2]);
        let duplicates: Vec<(u32, Vec<u32>)> = checked
            .diagnostics
            .iter()
            .filter(|d| d.rule == "duplicate-account-name")
            .map(|d| {
                (
                    d.primary.file.0,
                    d.related.iter().map(|r| r.file.0).collect(),
                )
            })
            .collect();
        assert_eq!(
            duplicates,
            [(2, vec![0])],
            "c.kdl repeats a.kdl; b.kdl is apart"
        );
        // Fixes point into the file they were found in (the redundant port of each file).
        let fixed: Vec<u32> = checked
            .diagnostics
            .iter()
            .filter(|d| d.rule == "redundant-port")
            .flat_map(|d| d.fix.iter().flat_map(|f| &f.edits))
            .map(|e| e.file.0)
            .collect();
        assert_eq!(fixed, [0, 1, 2]);
        assert!(checked
            .diagnostics
            .windows(2)
            .all(|w| (w[0].primary.file, w[0].primary.span)
                <= (w[1].primary.file, w[1].primary.span)));
    }
}
