//! The caller number presented to a provider, decided by the trunk's policy. Pure.

use super::config::CallerIdPolicy;

/// The number to present (`None`: present the call as anonymous). `caller` is the number the
/// call reached us with (`None`, empty or `anonymous` when withheld); `dialed` is the tenant
/// number the caller dialed.
pub fn presented_caller(
    policy: &CallerIdPolicy,
    caller: Option<&str>,
    dialed: &str,
) -> Option<String> {
    match policy {
        CallerIdPolicy::PassThrough => caller
            .map(str::trim)
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("anonymous"))
            .map(str::to_string),
        CallerIdPolicy::Fixed(number) => Some(number.clone()),
        CallerIdPolicy::DialedNumber => Some(dialed.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIALED: &str = "+421211110001";

    #[test]
    fn pass_through_keeps_the_caller_and_their_privacy() {
        let policy = CallerIdPolicy::PassThrough;
        assert_eq!(
            presented_caller(&policy, Some("+420601234567"), DIALED).as_deref(),
            Some("+420601234567")
        );
        for withheld in [None, Some(""), Some("Anonymous"), Some("  ")] {
            assert_eq!(
                presented_caller(&policy, withheld, DIALED),
                None,
                "{withheld:?}"
            );
        }
    }

    #[test]
    fn fixed_and_dialed_replace_the_caller() {
        let fixed = CallerIdPolicy::Fixed("+421255550100".into());
        assert_eq!(
            presented_caller(&fixed, Some("+420601234567"), DIALED).as_deref(),
            Some("+421255550100")
        );
        assert_eq!(
            presented_caller(&CallerIdPolicy::DialedNumber, None, DIALED).as_deref(),
            Some(DIALED)
        );
    }
}
