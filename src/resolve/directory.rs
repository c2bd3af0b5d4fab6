//! The workspace's identity directory: every profile's `cio_id`, `id` and
//! email, so a Gmail-style variant is found from either side. Customer.io's
//! search matches text exactly, so from `jenniferlee@gmail.com` no search
//! finds `jennifer.lee@gmail.com`; the directory does, in memory.
//!
//! It comes from a listing the selection already made (`--all`, a sample,
//! the TUI), or is listed once per process (filter search `email exists`,
//! 1,000 per page) when the workspace has at most [`MAX_DIRECTORY`]
//! profiles with an email. A bigger workspace without a listing at hand
//! falls back to searching the canonical form (found from the dotted or
//! tagged side only).

use std::collections::BTreeMap;

use crate::customerio::PersonRef;
use crate::model::normalize;

/// The most profiles listed just to build the directory.
pub const MAX_DIRECTORY: usize = 20_000;

#[derive(Debug, Default)]
pub struct Directory {
    /// Gmail-style canonical email → the profiles holding a form of it.
    by_canonical: BTreeMap<String, Vec<PersonRef>>,
}

impl Directory {
    pub fn new(refs: &[PersonRef]) -> Directory {
        let mut by_canonical: BTreeMap<String, Vec<PersonRef>> = BTreeMap::new();
        for r in refs {
            if let Some(e) = r.email.as_deref().and_then(normalize::email) {
                by_canonical
                    .entry(normalize::email_canonical(&e))
                    .or_default()
                    .push(r.clone());
            }
        }
        Directory { by_canonical }
    }

    /// Profiles whose email is `email` (normalized), however it is written.
    pub fn holders_of<'a>(&'a self, email: &'a str) -> impl Iterator<Item = &'a PersonRef> + 'a {
        self.by_canonical
            .get(&normalize::email_canonical(email))
            .into_iter()
            .flatten()
            .filter(move |r| {
                r.email.as_deref().and_then(normalize::email).as_deref() == Some(email)
            })
    }

    /// Profiles whose email is a Gmail-style variant of `email` (normalized),
    /// not the same address.
    pub fn variants_of<'a>(&'a self, email: &'a str) -> impl Iterator<Item = &'a PersonRef> + 'a {
        self.by_canonical
            .get(&normalize::email_canonical(email))
            .into_iter()
            .flatten()
            .filter(move |r| {
                r.email.as_deref().and_then(normalize::email).as_deref() != Some(email)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(cio: &str, email: &str) -> PersonRef {
        PersonRef {
            cio_id: cio.into(),
            id: None,
            email: Some(email.into()),
        }
    }

    #[test]
    fn variants_are_found_from_the_plain_and_the_dotted_side() {
        let d = Directory::new(&[
            r("a1", "jennifer.lee@gmail.com"),
            r("a2", "JenniferLee@gmail.com"),
            r("a3", "mikechen+shop@gmail.com"),
            r("a4", "mikechen@gmail.com"),
            r("a5", "other@gmail.com"),
        ]);
        let cio = |e: &str| {
            d.variants_of(e)
                .map(|r| r.cio_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(cio("jenniferlee@gmail.com"), ["a1"]);
        assert_eq!(cio("jennifer.lee@gmail.com"), ["a2"]);
        assert_eq!(cio("mikechen@gmail.com"), ["a3"]);
        assert_eq!(cio("mikechen+shop@gmail.com"), ["a4"]);
        assert!(cio("other@gmail.com").is_empty());
        let same: Vec<&str> = d
            .holders_of("jenniferlee@gmail.com")
            .map(|r| r.cio_id.as_str())
            .collect();
        assert_eq!(same, ["a2"], "case does not matter");
    }
}
