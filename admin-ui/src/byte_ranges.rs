//! HTTP byte ranges (RFC 9110, section 14) for the files the API serves, so a player can seek:
//! what part of a file of known length a `Range` header asks for.
//!
//! One range per request: `bytes=a-b`, `bytes=a-` and the suffix `bytes=-n`. What this module
//! does not serve, it ignores as the RFC allows (the whole file goes out with 200): other
//! units, several ranges at once, and syntax it cannot read. It must never answer a range that
//! reaches past the file.

/// What to send of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// The whole file, 200.
    Whole,
    /// Bytes `start..=end`, 206 with `Content-Range`.
    Part { start: u64, end: u64 },
    /// Nothing the file has, 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// The part of a file of `len` bytes that the `Range` header `header` asks for.
pub fn resolve(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(header) = header else {
        return RangeRequest::Whole;
    };
    let Some((unit, set)) = header.trim().split_once('=') else {
        return RangeRequest::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |text: &str| -> Option<u64> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // More digits than a u64 holds asks for more than any file has.
        Some(text.parse::<u64>().unwrap_or(u64::MAX))
    };
    match (first.is_empty(), last.is_empty()) {
        // `bytes=-n`: the last n bytes.
        (true, false) => match number(last) {
            None => RangeRequest::Whole,
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if len == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Part {
                start: len.saturating_sub(n),
                end: len - 1,
            },
        },
        // `bytes=a-`: from a to the end.
        (false, true) => match number(first) {
            None => RangeRequest::Whole,
            Some(start) if start >= len => RangeRequest::Unsatisfiable,
            Some(start) => RangeRequest::Part {
                start,
                end: len - 1,
            },
        },
        // `bytes=a-b`.
        (false, false) => match (number(first), number(last)) {
            (Some(start), Some(end)) if end >= start => {
                if start >= len {
                    RangeRequest::Unsatisfiable
                } else {
                    RangeRequest::Part {
                        start,
                        end: end.min(len - 1),
                    }
                }
            }
            // b < a, or not numbers: an invalid range, ignored.
            _ => RangeRequest::Whole,
        },
        (true, true) => RangeRequest::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeRequest::*;

    #[test]
    fn the_three_forms_within_the_file() {
        assert_eq!(resolve(None, 100), Whole);
        assert_eq!(resolve(Some("bytes=0-9"), 100), Part { start: 0, end: 9 });
        assert_eq!(resolve(Some("bytes=90-"), 100), Part { start: 90, end: 99 });
        assert_eq!(resolve(Some("bytes=-10"), 100), Part { start: 90, end: 99 });
        assert_eq!(
            resolve(Some(" Bytes = 5 - 5 "), 100),
            Part { start: 5, end: 5 }
        );
    }

    #[test]
    fn ranges_past_the_end_are_cut_or_unsatisfiable() {
        assert_eq!(
            resolve(Some("bytes=50-1000"), 100),
            Part { start: 50, end: 99 }
        );
        assert_eq!(
            resolve(Some("bytes=-1000"), 100),
            Part { start: 0, end: 99 }
        );
        assert_eq!(
            resolve(Some("bytes=0-99999999999999999999999"), 100),
            Part { start: 0, end: 99 }
        );
        assert_eq!(resolve(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(resolve(Some("bytes=100-200"), 100), Unsatisfiable);
        assert_eq!(
            resolve(Some("bytes=99999999999999999999999-"), 100),
            Unsatisfiable
        );
        assert_eq!(resolve(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(resolve(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(resolve(Some("bytes=-5"), 0), Unsatisfiable);
    }

    #[test]
    fn what_is_not_served_is_ignored() {
        for header in [
            "items=0-5",
            "bytes=0-5,10-20",
            "bytes=9-3",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
            "bytes=0x10-",
            "bytes",
            "",
            "bytes=--5",
        ] {
            assert_eq!(resolve(Some(header), 100), Whole, "{header:?}");
        }
    }
}
