//! Every account's From addresses, parsed once per run: three rules read them
//! (`invalid-from-address`, `duplicate-from-address`, `from-domain-mismatch`), and parsing each
//! address in each of them was most of the rules' cost on a large project (issue 17).

use super::text::{parse_mailbox, Mailbox};
use crate::model::{Address, Project};

/// One `address` of an account's `from` block.
#[derive(Debug)]
pub struct FromAddress<'a> {
    /// Its position among the account's addresses (see [`super::address_rel`]).
    pub index: usize,
    pub address: &'a Address,
    /// `None` when it is not a valid mailbox; [`parse_mailbox`] says why.
    pub mailbox: Option<Mailbox<'a>>,
}

/// The parsed From addresses of every account, in one vector.
#[derive(Debug, Default)]
pub struct FromAddresses<'a> {
    /// Account `i`'s addresses are `entries[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    entries: Vec<FromAddress<'a>>,
}

impl<'a> FromAddresses<'a> {
    pub fn parse(project: &'a Project) -> Self {
        let mut starts = Vec::with_capacity(project.accounts.len() + 1);
        let mut entries = Vec::new();
        starts.push(0);
        for acc in &project.accounts {
            entries.extend(
                super::from_addresses(&acc.value).map(|(index, address)| FromAddress {
                    index,
                    address,
                    mailbox: parse_mailbox(&address.value).ok(),
                }),
            );
            starts.push(entries.len());
        }
        FromAddresses { starts, entries }
    }

    /// The From addresses of `project.accounts[account]`.
    pub fn of(&self, account: usize) -> &[FromAddress<'a>] {
        &self.entries[self.starts[account]..self.starts[account + 1]]
    }
}
