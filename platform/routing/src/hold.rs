//! Reading hold and resume out of a re-offer's SDP (RFC 3264 section 8.4): a stream marked
//! `sendonly` or `inactive`, or a zero connection address, puts the other side on hold.
//! Only a text scan: the B2BUA passes SDP through untouched until the media engine parses it.

/// `Some(true)` on hold, `Some(false)` resumed, `None` when the SDP says nothing either way.
pub fn is_hold(sdp: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(sdp).ok()?;
    let mut direction = None;
    let mut zero_address = false;
    for line in text.lines().map(str::trim) {
        match line {
            "a=sendonly" | "a=inactive" => direction = Some(true),
            "a=sendrecv" | "a=recvonly" => direction = Some(false),
            _ if line.starts_with("c=IN IP4 0.0.0.0") => zero_address = true,
            _ => {}
        }
    }
    if zero_address {
        return Some(true);
    }
    direction.or(Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions() {
        let sdp = |attr: &str| {
            format!("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n{attr}\r\n")
        };
        assert_eq!(is_hold(sdp("a=sendonly").as_bytes()), Some(true));
        assert_eq!(is_hold(sdp("a=inactive").as_bytes()), Some(true));
        assert_eq!(is_hold(sdp("a=sendrecv").as_bytes()), Some(false));
        assert_eq!(is_hold(sdp("").as_bytes()), Some(false));
        assert_eq!(
            is_hold(b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n"),
            Some(true)
        );
        assert_eq!(is_hold(&[0xff, 0xfe]), None);
    }
}
