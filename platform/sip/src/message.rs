//! Reading what Hotline needs out of a SIP request: pure functions over rsipstack's message
//! types, no sockets, so the odd forms carriers send (compact headers, `tel:` URIs, IPv6 hosts,
//! missing optional headers) are unit-tested and fuzzed here.
//!
//! Nothing here decides what to do with a call; it only extracts and validates.

use std::net::{IpAddr, SocketAddr};

use rsipstack::sip::headers::typed::Via;
use rsipstack::sip::prelude::{HeadersExt, ToTypedHeader};
use rsipstack::sip::{Header, Param, Request, Transport, Uri};

/// Largest SIP message Hotline accepts (RFC 3261 suggests staying well under a UDP datagram).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// The first header named `name` (case-insensitive), as text.
pub fn header_value<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|header| header.name().eq_ignore_ascii_case(name))
        .map(Header::value)
}

/// The address a request really came from: the top Via's `received`/`rport` (RFC 3581) when
/// the transport set them, otherwise its sent-by. Replies and later requests go there, not to
/// what a phone behind NAT claims in its Contact.
pub fn source_of(request: &Request) -> Option<SocketAddr> {
    let via: Via = request.via_header().ok()?.typed().ok()?;
    let mut ip: Option<IpAddr> = None;
    let mut port: Option<u16> = None;
    for param in &via.params {
        match param {
            Param::Received(received) => ip = received.to_string().parse().ok(),
            Param::Rport(Some(rport)) => port = Some(*rport),
            _ => {}
        }
    }
    let sent_by = &via.uri.host_with_port;
    let ip = match ip {
        Some(ip) => ip,
        None => strip_brackets(&sent_by.host.to_string()).parse().ok()?,
    };
    let port = port
        .or_else(|| sent_by.port.as_ref().map(|p| p.value()))
        .unwrap_or(5060);
    Some(SocketAddr::new(ip, port))
}

/// The transport named in the top Via.
pub fn via_transport(request: &Request) -> Transport {
    request
        .via_header()
        .ok()
        .and_then(|via| via.typed().ok())
        .map(|via| via.transport)
        .unwrap_or_default()
}

fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// The user part of a `sip:`, `sips:` or `tel:` URI: `sip:+4212@host;user=phone` → `+4212`,
/// `tel:+4212;phone-context=x` → `+4212`. Percent-escapes are decoded. `None` when empty.
pub fn uri_user(uri: &Uri) -> Option<String> {
    let text = uri.to_string();
    let rest = text
        .strip_prefix("sips:")
        .or_else(|| text.strip_prefix("sip:"))
        .or_else(|| text.strip_prefix("tel:"))
        .unwrap_or(&text);
    let user = match rest.split_once('@') {
        Some((user, _)) => user,
        None if text.starts_with("tel:") => rest,
        None => return None,
    };
    let user = user.split([';', ':']).next().unwrap_or_default();
    let decoded = percent_decode(user);
    (!decoded.is_empty()).then_some(decoded)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(value) = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                out.push(value);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The number the caller dialed: the Request-URI's user, then the To URI's (carriers differ).
pub fn dialed_user(request: &Request) -> Option<String> {
    uri_user(&request.uri).or_else(|| {
        request
            .to_header()
            .ok()
            .and_then(|to| to.typed().ok())
            .and_then(|to| uri_user(&to.uri))
    })
}

/// The caller's user part and display name from From.
pub fn caller(request: &Request) -> (String, Option<String>) {
    match request.from_header().ok().and_then(|from| from.typed().ok()) {
        Some(from) => (
            uri_user(&from.uri).unwrap_or_else(|| "anonymous".into()),
            from.display_name
                .map(|name| name.trim_matches('"').to_string())
                .filter(|name| !name.is_empty()),
        ),
        None => ("anonymous".into(), None),
    }
}

/// Max-Forwards, 70 when absent (RFC 3261 8.1.1.6), `None` when unparseable.
pub fn max_forwards(request: &Request) -> Option<u32> {
    match header_value(request, "Max-Forwards") {
        None => Some(70),
        Some(value) => value.trim().parse().ok(),
    }
}

/// Who refreshes a session (RFC 4028).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresher {
    Uac,
    Uas,
}

/// A parsed `Session-Expires` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionExpires {
    pub seconds: u32,
    pub refresher: Option<Refresher>,
}

/// `Session-Expires` (compact `x`), e.g. `1800;refresher=uac`.
pub fn session_expires(request: &Request) -> Option<SessionExpires> {
    let value = header_value(request, "Session-Expires").or_else(|| header_value(request, "x"))?;
    let mut parts = value.split(';');
    let seconds = parts.next()?.trim().parse().ok()?;
    let refresher = parts.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("refresher") {
            return None;
        }
        match value.trim().to_ascii_lowercase().as_str() {
            "uac" => Some(Refresher::Uac),
            "uas" => Some(Refresher::Uas),
            _ => None,
        }
    });
    Some(SessionExpires { seconds, refresher })
}

/// `Min-SE`, 90 s when absent (RFC 4028 4).
pub fn min_se(request: &Request) -> u32 {
    header_value(request, "Min-SE")
        .and_then(|value| value.split(';').next()?.trim().parse().ok())
        .unwrap_or(90)
}

/// The SDP body, when the request carries one.
pub fn sdp_body(request: &Request) -> Option<Vec<u8>> {
    if request.body.is_empty() {
        return None;
    }
    let content_type = header_value(request, "Content-Type").or_else(|| header_value(request, "c"));
    match content_type {
        Some(kind) if kind.trim().to_ascii_lowercase().starts_with("application/sdp") => {
            Some(request.body.clone())
        }
        _ => None,
    }
}

/// Mandatory headers of a request (RFC 3261 8.1.1): missing any of them earns a 400.
pub fn missing_mandatory_header(request: &Request) -> Option<&'static str> {
    if request.via_header().is_err() {
        return Some("Via");
    }
    if request.from_header().is_err() {
        return Some("From");
    }
    if request.to_header().is_err() {
        return Some("To");
    }
    if request.call_id_header().is_err() {
        return Some("Call-ID");
    }
    if request.cseq_header().is_err() {
        return Some("CSeq");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsipstack::sip::SipMessage;

    fn request(text: &str) -> Request {
        match SipMessage::try_from(text) {
            Ok(SipMessage::Request(request)) => request,
            other => panic!("not a request: {other:?}"),
        }
    }

    fn invite(uri: &str, extra: &str) -> Request {
        request(&format!(
            "INVITE {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK1;rport=5071;received=203.0.113.9\r\n\
             From: \"Jane Doe\" <sip:+421900111222@carrier.example>;tag=a\r\n\
             To: <sip:+421233000111@hotline.example>\r\n\
             Call-ID: c1@carrier\r\n\
             CSeq: 1 INVITE\r\n\
             {extra}\
             Content-Length: 0\r\n\r\n"
        ))
    }

    #[test]
    fn source_prefers_received_and_rport() {
        let req = invite("sip:+421233000111@hotline.example", "");
        assert_eq!(source_of(&req), Some("203.0.113.9:5071".parse().unwrap()));
    }

    #[test]
    fn dialed_number_comes_from_the_request_uri_then_to() {
        let req = invite("sip:+421233000111@hotline.example;user=phone", "");
        assert_eq!(dialed_user(&req).as_deref(), Some("+421233000111"));
        let req = invite("sip:hotline.example", "");
        assert_eq!(dialed_user(&req).as_deref(), Some("+421233000111"));
    }

    #[test]
    fn tel_and_ipv6_uris() {
        let req = invite("tel:+421233000111;phone-context=+421", "");
        assert_eq!(dialed_user(&req).as_deref(), Some("+421233000111"));
        let req = invite("sip:0233000111@[2001:db8::1]:5060", "");
        assert_eq!(dialed_user(&req).as_deref(), Some("0233000111"));
    }

    #[test]
    fn caller_and_display_name() {
        let req = invite("sip:x@h", "");
        assert_eq!(
            caller(&req),
            ("+421900111222".to_string(), Some("Jane Doe".to_string()))
        );
    }

    #[test]
    fn session_timer_headers() {
        let req = invite("sip:x@h", "Session-Expires: 1800;refresher=uac\r\nMin-SE: 120\r\n");
        assert_eq!(
            session_expires(&req),
            Some(SessionExpires {
                seconds: 1800,
                refresher: Some(Refresher::Uac)
            })
        );
        assert_eq!(min_se(&req), 120);
        let req = invite("sip:x@h", "");
        assert_eq!(session_expires(&req), None);
        assert_eq!(min_se(&req), 90);
    }

    #[test]
    fn max_forwards_defaults_and_garbage() {
        assert_eq!(max_forwards(&invite("sip:x@h", "")), Some(70));
        assert_eq!(max_forwards(&invite("sip:x@h", "Max-Forwards: 0\r\n")), Some(0));
        assert_eq!(max_forwards(&invite("sip:x@h", "Max-Forwards: lots\r\n")), None);
    }

    #[test]
    fn percent_escapes_are_decoded() {
        let req = invite("sip:%2B421233000111@hotline.example", "");
        assert_eq!(dialed_user(&req).as_deref(), Some("+421233000111"));
    }
}
