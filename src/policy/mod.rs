//! Policy: what the project's configuration (`mailcfg.kdl`) and the suppression comments in the
//! account files do to the findings of the stages below: levels, ignored rules, silenced findings.

pub mod config;
pub mod suppress;
