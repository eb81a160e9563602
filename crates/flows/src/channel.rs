//! The `channel` selector's pattern, matched as the reference matches a request path: `/` then segments (`:name`
//! matches any value of one segment), then an optional `/`; `EQUALS` wants the whole path, `STARTS_WITH` a prefix
//! (so `/products` also matches `/products-x`, and `/` matches every channel, the empty one included).

/// Characters a `:name` segment matches.
fn in_segment(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~%!$&'()* +,;=:@".contains(c)
}

/// Whether `path` (the subscription's channel with a leading `/`, or empty) matches `pattern`.
pub(crate) fn matches(pattern: &str, path: &str, whole: bool) -> bool {
    let mut rest = path;
    for segment in pattern.split('/').filter(|segment| !segment.is_empty()) {
        let Some(after_slash) = rest.strip_prefix('/') else {
            return false;
        };
        rest = if segment.starts_with(':') {
            let taken = after_slash.find(|c: char| !in_segment(c)).unwrap_or(after_slash.len());
            if taken == 0 {
                return false;
            }
            &after_slash[taken..]
        } else {
            match after_slash.strip_prefix(segment) {
                Some(rest) => rest,
                None => return false,
            }
        };
    }
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    !whole || rest.is_empty()
}

/// How well `pattern` fits, for `best-match`, compared segment by segment (a literal segment beats a `:name` one at
/// the same place; with equal segments, the longer pattern wins).
pub(crate) fn score(pattern: &str) -> Vec<u8> {
    pattern.split('/').filter(|segment| !segment.is_empty()).map(|s| if s.starts_with(':') { 1 } else { 2 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_as_the_reference_matches_them() {
        assert!(matches("/", "", false));
        assert!(matches("/", "/orders", false));
        assert!(matches("/products", "/products-x", false));
        assert!(!matches("/products", "/products-x", true));
        assert!(matches("/books/:id/chapters", "/books/145/chapters/", true));
        assert!(!matches("/books/:id", "/books/", true));
        assert!(!matches("/orders", "", false));
    }

    #[test]
    fn literal_segments_score_more_than_parameters() {
        assert!(score("/books/9999/chapters") > score("/books/:bookId/chapters/:chapterId"));
        assert!(score("/books/:bookId/chapters/:chapterId") > score("/books/:bookId"));
    }
}
