//! E.164 phone numbers, one normalization for the whole platform: the tenant store keys numbers
//! by it and the call engine normalizes dialed numbers with it, so a number stored is a number
//! found.

/// `+` and 8 to 15 digits, the first not zero, after removing the usual separators.
/// `00` as an international prefix becomes `+`. National formats are refused: without a
/// country they are ambiguous.
pub fn normalize(input: &str) -> Result<String, String> {
    let compact: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
        .collect();
    let digits = if let Some(rest) = compact.strip_prefix('+') {
        rest
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest
    } else {
        return Err("must start with + and the country code".into());
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("may contain only digits after +".into());
    }
    if !(8..=15).contains(&digits.len()) {
        return Err("must have 8 to 15 digits".into());
    }
    if digits.starts_with('0') {
        return Err("a country code never starts with 0".into());
    }
    Ok(format!("+{digits}"))
}
