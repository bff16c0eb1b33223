//! "Did you mean" for unknown feature keys.

/// Inputs longer than this get no suggestion: no key is that long, and it
/// keeps the quadratic distance computation cheap on hostile input.
const MAX_INPUT_CHARS: usize = 128;

/// The candidate closest to `input` by edit distance, if it is close enough
/// to be a plausible typo: at most one edit per three characters, and at
/// least one allowed. Ties go to the first candidate in iteration order.
///
/// `input` is compared in lowercase with `-` read as `_`, since
/// `--enable unified-exec` is a common slip.
pub(crate) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let normalized: Vec<char> = input
        .trim()
        .chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if normalized.is_empty() || normalized.len() > MAX_INPUT_CHARS {
        return None;
    }
    let limit = (normalized.len() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&normalized, candidate);
        let better = match best {
            Some((best_distance, _)) => distance < best_distance,
            None => true,
        };
        if distance <= limit && better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Edit distance counting insertions, deletions, substitutions and swaps of
/// two neighbouring characters (optimal string alignment), since `alpah`
/// for `alpha` is as much one slip as `alpa` is.
fn edit_distance(a: &[char], b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // Three rows: the one before the previous is needed for swaps.
    let mut before_previous: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            let mut best = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            if i > 0 && j > 0 && ca == b[j - 1] && a[i - 1] == cb {
                best = best.min(before_previous[j - 1] + 1);
            }
            current[j + 1] = best;
        }
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &str, b: &str) -> usize {
        edit_distance(&a.chars().collect::<Vec<_>>(), b)
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("unifed_exec", "unified_exec"), 1);
        assert_eq!(distance("alpah", "alpha"), 1);
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("ca", "abc"), 3);
    }

    #[test]
    fn suggests_the_closest_plausible_key() {
        let keys = ["apps", "unified_exec", "undo"];
        assert_eq!(closest("unifed_exec", keys), Some("unified_exec"));
        assert_eq!(closest("Unified-Exec", keys), Some("unified_exec"));
        assert_eq!(closest("uno", keys), Some("undo"));
        assert_eq!(closest("telemetry", keys), None);
        assert_eq!(closest("", keys), None);
        assert_eq!(closest(&"a".repeat(1000), keys), None);
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(closest("ab", ["aa", "bb"]), Some("aa"));
    }
}
