//! DTMF carried in SIP INFO bodies: `application/dtmf-relay` (`Signal=5` / `Duration=160`,
//! the Cisco format most phones send) and `application/dtmf` (the bare key). The SIP layer
//! hands the content type and body; this module never sees SIP itself.

use std::time::Duration;

use super::Digit;

/// Duration assumed when the body names none.
pub const DEFAULT_DURATION: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SipInfoError {
    #[error("content type {0:?} does not carry DTMF")]
    NotDtmf(String),
    #[error("no Signal= line in the dtmf-relay body")]
    NoSignal,
    #[error("unknown DTMF signal {0:?}")]
    BadSignal(String),
    #[error("bad Duration {0:?}")]
    BadDuration(String),
}

/// Reads one INFO body.
pub fn parse(content_type: &str, body: &[u8]) -> Result<(Digit, Duration), SipInfoError> {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let text = String::from_utf8_lossy(body);
    match mime.as_str() {
        "application/dtmf-relay" => relay(&text),
        "application/dtmf" => Ok((signal(text.trim())?, DEFAULT_DURATION)),
        _ => Err(SipInfoError::NotDtmf(content_type.to_owned())),
    }
}

fn relay(text: &str) -> Result<(Digit, Duration), SipInfoError> {
    let mut digit = None;
    let mut duration = DEFAULT_DURATION;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "signal" => digit = Some(signal(value)?),
            "duration" => {
                let ms: u64 = value
                    .parse()
                    .map_err(|_| SipInfoError::BadDuration(value.to_owned()))?;
                if ms > 60_000 {
                    return Err(SipInfoError::BadDuration(value.to_owned()));
                }
                duration = Duration::from_millis(ms);
            }
            _ => {}
        }
    }
    Ok((digit.ok_or(SipInfoError::NoSignal)?, duration))
}

fn signal(value: &str) -> Result<Digit, SipInfoError> {
    let mut chars = value.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if let Some(d) = Digit::from_char(c) {
            return Ok(d);
        }
    }
    // Some gateways send the RFC 4733 code ("10" for *, "11" for #).
    value
        .parse::<u8>()
        .ok()
        .and_then(Digit::from_event_code)
        .ok_or_else(|| SipInfoError::BadSignal(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_bodies() {
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
            Ok((Digit::D5, Duration::from_millis(160)))
        );
        assert_eq!(
            parse(
                "Application/DTMF-Relay; charset=utf-8",
                b"Signal= #\nDuration= 250\n"
            ),
            Ok((Digit::Pound, Duration::from_millis(250)))
        );
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=*"),
            Ok((Digit::Star, DEFAULT_DURATION))
        );
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=11\r\n"),
            Ok((Digit::Pound, DEFAULT_DURATION))
        );
    }

    #[test]
    fn dtmf_bodies() {
        assert_eq!(
            parse("application/dtmf", b"7\r\n"),
            Ok((Digit::D7, DEFAULT_DURATION))
        );
        assert_eq!(
            parse("application/dtmf", b"a"),
            Ok((Digit::A, DEFAULT_DURATION))
        );
    }

    #[test]
    fn bad_bodies_are_clear_errors() {
        assert_eq!(
            parse("application/dtmf-relay", b"Duration=100"),
            Err(SipInfoError::NoSignal)
        );
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=X"),
            Err(SipInfoError::BadSignal("X".into()))
        );
        assert_eq!(
            parse("application/dtmf-relay", b"Signal=1\nDuration=-4"),
            Err(SipInfoError::BadDuration("-4".into()))
        );
        assert_eq!(
            parse("application/dtmf", b"12345"),
            Err(SipInfoError::BadSignal("12345".into()))
        );
        assert!(matches!(
            parse("application/sdp", b"v=0"),
            Err(SipInfoError::NotDtmf(_))
        ));
        assert!(parse("application/dtmf-relay", &[0xff, 0xfe]).is_err());
    }
}
