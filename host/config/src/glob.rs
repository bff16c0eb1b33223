//! The model-name patterns of `[model_features]`.
//!
//! A pattern matches the whole model name, case-sensitively. `*` matches
//! any run of characters (none included) and `?` exactly one character;
//! every other character matches itself. There is no escape and no
//! character class: model names do not contain `*` or `?`.

/// Whether `pattern` matches all of `name`.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Backtracking to the last `*` only: linear in practice, and at worst
    // pattern length times name length, with no recursion.
    let (mut p, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                last_star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match last_star {
                Some((star, matched)) => {
                    p = star + 1;
                    n = matched + 1;
                    last_star = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Whether `pattern` has a wildcard; without one it matches only itself.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// How specific a pattern is: the number of characters that are not
/// wildcards. Of several matching patterns the most specific wins.
pub fn specificity(pattern: &str) -> usize {
    pattern.chars().filter(|c| !matches!(c, '*' | '?')).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            ("gpt-5*", "gpt-5", true),
            ("gpt-5*", "gpt-5-codex", true),
            ("gpt-5*", "gpt-4.1", false),
            ("*codex*", "gpt-5-codex-mini", true),
            ("*codex", "gpt-5-codex-mini", false),
            ("o?", "o3", true),
            ("o?", "o3-pro", false),
            ("o?-*", "o3-pro", true),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("GPT-5", "gpt-5", false),
            ("é*", "éa", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(glob_matches(pattern, name), expected, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn specificity_counts_literal_characters() {
        assert_eq!(specificity("gpt-5*"), 5);
        assert_eq!(specificity("*"), 0);
        assert!(is_glob("o?") && !is_glob("o3"));
    }
}
