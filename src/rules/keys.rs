//! Borrowed keys for the rules that look for duplicates: compared and hashed as their
//! lower-cased text without allocating it. A lower-cased `String` per account and key was most
//! of those rules' cost on a large project (issue 17).

use std::hash::{Hash, Hasher};

/// Text that compares as its `str::to_lowercase` does (names, user names).
#[derive(Debug, Clone, Copy)]
pub struct Lowercase<'a>(pub &'a str);

/// Text that compares as its `str::to_ascii_lowercase` does (host names).
#[derive(Debug, Clone, Copy)]
pub struct AsciiLowercase<'a>(pub &'a str);

impl PartialEq for Lowercase<'_> {
    fn eq(&self, other: &Self) -> bool {
        if self.0.is_ascii() && other.0.is_ascii() {
            self.0.eq_ignore_ascii_case(other.0)
        } else {
            // Rare, and only for keys whose hashes matched: the exact comparison.
            self.0.to_lowercase() == other.0.to_lowercase()
        }
    }
}

impl Eq for Lowercase<'_> {}

impl Hash for Lowercase<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if self.0.is_ascii() {
            hash_bytes(self.0.bytes().map(|b| b.to_ascii_lowercase()), state);
        } else {
            // Equal keys hash equally: an ASCII text hashes the same bytes as its non-ASCII
            // equal (`K`, KELVIN SIGN, lower-cases to `k`).
            hash_bytes(self.0.to_lowercase().bytes(), state);
        }
    }
}

impl PartialEq for AsciiLowercase<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for AsciiLowercase<'_> {}

impl Hash for AsciiLowercase<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_bytes(self.0.bytes().map(|b| b.to_ascii_lowercase()), state);
    }
}

/// Feeds `bytes` to `state` eight at a time, then their count (so that `("ab", "c")` and
/// `("a", "bc")` differ as tuple keys).
fn hash_bytes<H: Hasher>(bytes: impl Iterator<Item = u8>, state: &mut H) {
    let mut word = [0u8; 8];
    let mut filled = 0;
    let mut len = 0usize;
    for b in bytes {
        word[filled] = b;
        filled += 1;
        len += 1;
        if filled == 8 {
            state.write_u64(u64::from_le_bytes(word));
            filled = 0;
        }
    }
    if filled > 0 {
        word[filled..].fill(0);
        state.write_u64(u64::from_le_bytes(word));
    }
    state.write_usize(len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(k: impl Hash) -> u64 {
        std::hash::BuildHasherDefault::<crate::lower::FxHasher>::default().hash_one(k)
    }

    /// Keys are equal exactly when the lower-cased strings are, and equal keys hash alike.
    #[test]
    fn lowercase_keys_agree_with_to_lowercase() {
        let texts = [
            "Support",
            "SUPPORT",
            "support",
            "Suppor",
            "ﬁle",
            "Zoë",
            "ZOË",
            "\u{212A}elvin",
            "kelvin",
            "ΣΑΣ",
            "σας",
            "",
            "a",
            "abcdefgh",
            "ABCDEFGH",
            "abcdefghi",
        ];
        for a in texts {
            for b in texts {
                let equal = a.to_lowercase() == b.to_lowercase();
                assert_eq!(Lowercase(a) == Lowercase(b), equal, "{a:?} {b:?}");
                if equal {
                    assert_eq!(hash(Lowercase(a)), hash(Lowercase(b)), "{a:?} {b:?}");
                }
                let ascii_equal = a.to_ascii_lowercase() == b.to_ascii_lowercase();
                assert_eq!(AsciiLowercase(a) == AsciiLowercase(b), ascii_equal);
                if ascii_equal {
                    assert_eq!(hash(AsciiLowercase(a)), hash(AsciiLowercase(b)));
                }
            }
        }
        assert_ne!(
            hash((Lowercase("ab"), Lowercase("c"))),
            hash((Lowercase("a"), Lowercase("bc")))
        );
    }
}
