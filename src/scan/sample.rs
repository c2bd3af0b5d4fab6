//! The event sample of a scan: which humans' activities are read.
//!
//! Activities cost a request per profile, so the rules that read them run
//! on a seeded random sample of humans — the part rates are estimated
//! from, with a 95 % interval — plus, within the same budget, humans the
//! attribute rules already flagged (their event findings are real findings
//! with evidence, but they are not counted in the rates: they were not
//! chosen at random). A workspace no larger than the budget is sampled
//! whole: a census, whose rates are exact.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Why a human is in the event sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Not sampled: activity rules did not run on this human.
    None,
    /// Chosen at random: counted in the rates.
    Random,
    /// Chosen because attribute rules flagged it: findings only.
    Flagged,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::None => "",
            Part::Random => "random",
            Part::Flagged => "flagged",
        }
    }
}

/// The share of the budget kept for flagged humans.
const FLAGGED_SHARE: f64 = 0.2;

/// Choose the sample: one [`Part`] per human (in the order given).
/// `flagged[i]` says whether attribute rules found something on human `i`.
/// The same humans, budget and seed give the same sample.
pub fn choose(flagged: &[bool], budget: usize, seed: u64) -> Vec<Part> {
    let n = flagged.len();
    if n <= budget {
        return vec![Part::Random; n];
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let flagged_quota = (budget as f64 * FLAGGED_SHARE).floor() as usize;
    // Flagged humans the random part will not reach, in shuffled order.
    let random_part = budget - flagged_quota;
    let mut parts = vec![Part::None; n];
    for &i in &order[..random_part] {
        parts[i] = Part::Random;
    }
    let mut extra = 0;
    for &i in &order[random_part..] {
        if extra == flagged_quota {
            break;
        }
        if flagged[i] {
            parts[i] = Part::Flagged;
            extra += 1;
        }
    }
    // An unused flagged quota goes to the random part.
    for &i in &order[random_part..] {
        if extra == flagged_quota {
            break;
        }
        if parts[i] == Part::None {
            parts[i] = Part::Random;
            extra += 1;
        }
    }
    parts
}

/// The Wilson score interval at 95 % for `hits` of `n`: `(low, high)`.
pub fn wilson(hits: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let n = n as f64;
    let p = hits as f64 / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * ((p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt()) / (1.0 + z2 / n);
    // With no hits (or all hits) the bound is exactly 0 (or 1); floating
    // point would leave a few ulps above (below) it.
    let lo = if p == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if p == 1.0 {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_workspace_is_sampled_whole() {
        let parts = choose(&[false, true, false], 1000, 7);
        assert!(parts.iter().all(|p| *p == Part::Random));
    }

    #[test]
    fn the_budget_is_kept_and_flagged_humans_get_their_share() {
        let flagged: Vec<bool> = (0..10_000).map(|i| i % 10 == 0).collect();
        let parts = choose(&flagged, 1000, 42);
        let random = parts.iter().filter(|p| **p == Part::Random).count();
        let extra = parts.iter().filter(|p| **p == Part::Flagged).count();
        assert_eq!(random + extra, 1000);
        assert_eq!(extra, 200);
        assert!(parts
            .iter()
            .zip(&flagged)
            .all(|(p, f)| *p != Part::Flagged || *f));
        // Seeded: the same sample again; another seed, another sample.
        assert_eq!(parts, choose(&flagged, 1000, 42));
        assert_ne!(parts, choose(&flagged, 1000, 43));
    }

    #[test]
    fn without_flagged_humans_the_budget_is_all_random() {
        let parts = choose(&vec![false; 5000], 1000, 1);
        assert_eq!(parts.iter().filter(|p| **p == Part::Random).count(), 1000);
    }

    #[test]
    fn wilson_interval_brackets_the_rate() {
        let (lo, hi) = wilson(50, 1000).unwrap();
        assert!(lo < 0.05 && 0.05 < hi);
        assert!((lo - 0.0382).abs() < 0.001, "{lo}");
        assert!((hi - 0.0653).abs() < 0.001, "{hi}");
        let (lo, hi) = wilson(0, 100).unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.05);
        assert!(wilson(0, 0).is_none());
    }
}
