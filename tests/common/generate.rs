//! What the generated workspaces of the warehouse tests share: a seeded
//! random sequence, and one email written in the forms the identity stages
//! must read as one key or a Gmail-style variant.
#![allow(dead_code)]

/// A linear congruential sequence: the same numbers for the same seed.
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }

    /// A number below `m` (0 when `m` is 0).
    pub fn below(&mut self, m: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % m.max(1)
    }
}

/// Email number `base` in written form `form` (0–4): as written, upper
/// case with spaces around, Gmail dots dropped, a `+tag`, the local part
/// at gmail.com.
pub fn email_form(base: usize, form: usize) -> String {
    let (user, domain) = match base % 3 {
        0 => (format!("ann.lee{base}"), "gmail.com"),
        1 => (format!("bo.ross{base}"), "example.com"),
        _ => (format!("cy{base}"), "googlemail.com"),
    };
    match form {
        0 => format!("{user}@{domain}"),
        1 => format!("  {}@{} ", user.to_uppercase(), domain.to_uppercase()),
        2 => format!("{}@{domain}", user.replace('.', "")),
        3 => format!("{user}+shop@{domain}"),
        _ => format!("{user}@gmail.com"),
    }
}
