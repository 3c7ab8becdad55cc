//! Reading what Hotline needs out of a SIP request: pure functions over rsipstack's message
//! types, no sockets, so the odd forms carriers send (compact headers, `tel:` URIs, IPv6 hosts,
//! missing optional headers) are unit-tested and fuzzed here.
//!
//! Nothing here decides what to do with a call; it only extracts and validates.

use std::net::{IpAddr, SocketAddr};

use rsipstack::sip::headers::typed::Via;
use rsipstack::sip::prelude::{HeadersExt, ToTypedHeader};
use rsipstack::sip::{Header, Param, Request, Scheme, SipMessage, Transport, Uri, Version};
use rsipstack::transport::SipConnection;

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
    // The top Via is the first value of the first Via header: several hops may share a line.
    let via: Via = request.top_via_header().ok()?.typed().ok()?;
    let mut ip: Option<IpAddr> = None;
    let mut port: Option<u16> = None;
    for param in &via.params {
        match param {
            // An IPv6 `received` comes bracketed, and rsipstack 0.7.14's own stamp even
            // doubles the brackets (`[[2001:db8::1]]`).
            Param::Received(received) => {
                ip = received
                    .to_string()
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse()
                    .ok()
            }
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
        .top_via_header()
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
    // rsipstack keeps the user as it was sent (escapes included) but escapes every `%` again
    // when it prints a URI, so the user is read from the parsed field, never from the text.
    let raw = match (&uri.auth, &uri.scheme) {
        (Some(auth), _) => auth.user.clone(),
        (None, Some(Scheme::Other(scheme))) if scheme.eq_ignore_ascii_case("tel") => {
            uri.host_with_port.host.to_string()
        }
        _ => return None,
    };
    let user = raw.split(';').next().unwrap_or_default();
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
    match request
        .from_header()
        .ok()
        .and_then(|from| from.typed().ok())
    {
        Some(from) => (
            uri_user(&from.uri).unwrap_or_else(|| "anonymous".into()),
            from.display_name
                .map(|name| name.trim_matches('"').to_string())
                .filter(|name| !name.is_empty()),
        ),
        None => ("anonymous".into(), None),
    }
}

/// The largest Max-Forwards RFC 3261 20.22 allows.
const MAX_FORWARDS_LIMIT: u32 = 255;

/// Max-Forwards, 70 when absent (RFC 3261 8.1.1.6), `None` when unparseable or above 255
/// (RFC 3261 20.22): a value out of range is a broken or hostile sender, and passing it on
/// would let a call loop far longer than any real path needs.
pub fn max_forwards(request: &Request) -> Option<u32> {
    match header_value(request, "Max-Forwards") {
        None => Some(70),
        Some(value) => value
            .trim()
            .parse()
            .ok()
            .filter(|hops| *hops <= MAX_FORWARDS_LIMIT),
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
        Some(kind)
            if kind
                .trim()
                .to_ascii_lowercase()
                .starts_with("application/sdp") =>
        {
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

/// Why a request rsipstack managed to parse must still be refused before anyone acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Malformation {
    /// Larger than [`MAX_MESSAGE_BYTES`]: 513 Message Too Large (RFC 3261 21.4.11).
    TooLarge(usize),
    /// Not `SIP/2.0`: 505 Version Not Supported (RFC 3261 21.5.6).
    Version(String),
    /// A mandatory header (RFC 3261 8.1.1) is missing: 400.
    MissingHeader(&'static str),
    /// CSeq unparseable, or naming another method than the request's (RFC 3261 8.1.1.5): 400.
    CSeq,
    /// Content-Length unparseable, or larger than the body that arrived (RFC 3261 18.3: over
    /// UDP a datagram that ends before its declared body is an error, answered 400).
    ContentLength,
}

impl Malformation {
    /// The status the request is refused with.
    pub fn status(&self) -> u16 {
        match self {
            Malformation::TooLarge(_) => 513,
            Malformation::Version(_) => 505,
            _ => 400,
        }
    }

    /// The problem in words, for the Warning header and logs.
    pub fn reason(&self) -> String {
        match self {
            Malformation::TooLarge(size) => {
                format!("Message of {size} bytes too large (limit {MAX_MESSAGE_BYTES})")
            }
            Malformation::Version(version) => format!("Version {version} not supported"),
            Malformation::MissingHeader(name) => format!("Missing {name}"),
            Malformation::CSeq => "Bad CSeq".into(),
            Malformation::ContentLength => "Bad Content-Length".into(),
        }
    }
}

/// What makes this request unfit to be handled at all: its size first (the transports let
/// TCP messages of up to about 128 KB through), then in the order a reader would stumble on
/// it: version, mandatory headers, CSeq, Content-Length.
pub fn malformation(request: &Request) -> Option<Malformation> {
    let size = wire_size(request);
    if size > MAX_MESSAGE_BYTES {
        return Some(Malformation::TooLarge(size));
    }
    if request.version != Version::V2 {
        return Some(Malformation::Version(request.version.to_string()));
    }
    if let Some(missing) = missing_mandatory_header(request) {
        return Some(Malformation::MissingHeader(missing));
    }
    let cseq_matches = request.cseq_header().ok().is_some_and(|cseq| {
        cseq.seq().is_ok() && cseq.method().is_ok_and(|method| method == request.method)
    });
    if !cseq_matches {
        return Some(Malformation::CSeq);
    }
    if let Some(declared) = header_value(request, "Content-Length") {
        // The parser keeps at most what arrived, so a declared length beyond the body means the
        // message was cut short (or lies); an unparseable one was silently read as 0.
        match declared.trim().parse::<usize>() {
            Ok(length) if length <= request.body.len() => {}
            _ => return Some(Malformation::ContentLength),
        }
    }
    None
}

/// The request's size as written back out: within a few bytes of what arrived (whitespace
/// around values is trimmed, folded lines joined), which is all a size limit needs.
pub fn wire_size(request: &Request) -> usize {
    let start_line = request.method.to_string().len() + request.uri.to_string().len() + 12;
    let headers: usize = request
        .headers
        .iter()
        .map(|header| header.name().len() + header.value().len() + 4)
        .sum();
    start_line + headers + 2 + request.body.len()
}

/// Why bytes could not be inspected as a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a SIP message: {0}")]
    Unparseable(String),
    #[error("a SIP response, not a request")]
    NotARequest,
    /// The transport refuses to stamp the arrival address on the top Via (none, or unreadable)
    /// and drops such a message before Hotline sees it.
    #[error("no usable Via: {0}")]
    NoVia(String),
}

/// Everything this module reads out of one request: what [`inspect`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectedRequest {
    pub method: String,
    pub malformation: Option<Malformation>,
    pub missing_header: Option<&'static str>,
    pub dialed: Option<String>,
    pub caller: String,
    pub caller_name: Option<String>,
    pub source: Option<SocketAddr>,
    pub via_transport: String,
    pub max_forwards: Option<u32>,
    pub session_expires: Option<SessionExpires>,
    pub min_se: u32,
    pub sdp: Option<Vec<u8>>,
}

/// Parse raw bytes with rsipstack's parser and run every extractor of this module over the
/// request: the entry point of the `sip_message` fuzz target and of the corpus tests. Pure; no
/// input may make it panic.
pub fn inspect(bytes: &[u8]) -> Result<InspectedRequest, ParseError> {
    Ok(extract(&parse_request(bytes)?))
}

/// [`inspect`] as the dispatcher sees a request that arrived over UDP from `peer`: first the
/// transport's own rewrite of the top Via (`received`, `rport`, RFC 3581), which runs on every
/// datagram before Hotline's code does.
pub fn inspect_arrived(bytes: &[u8], peer: SocketAddr) -> Result<InspectedRequest, ParseError> {
    let request = parse_request(bytes)?;
    let stamped = SipConnection::update_msg_received(request.into(), peer, Transport::Udp)
        .map_err(|error| ParseError::NoVia(error.to_string()))?;
    match stamped {
        SipMessage::Request(request) => Ok(extract(&request)),
        SipMessage::Response(_) => Err(ParseError::NotARequest),
    }
}

fn parse_request(bytes: &[u8]) -> Result<Request, ParseError> {
    match SipMessage::try_from(bytes) {
        Ok(SipMessage::Request(request)) => Ok(request),
        Ok(SipMessage::Response(_)) => Err(ParseError::NotARequest),
        Err(error) => Err(ParseError::Unparseable(error.to_string())),
    }
}

fn extract(request: &Request) -> InspectedRequest {
    let (caller, caller_name) = caller(request);
    InspectedRequest {
        method: request.method.to_string(),
        malformation: malformation(request),
        missing_header: missing_mandatory_header(request),
        dialed: dialed_user(request),
        caller,
        caller_name,
        source: source_of(request),
        via_transport: via_transport(request).to_string(),
        max_forwards: max_forwards(request),
        session_expires: session_expires(request),
        min_se: min_se(request),
        sdp: sdp_body(request),
    }
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
        let req = invite(
            "sip:x@h",
            "Session-Expires: 1800;refresher=uac\r\nMin-SE: 120\r\n",
        );
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
        assert_eq!(
            max_forwards(&invite("sip:x@h", "Max-Forwards: 0\r\n")),
            Some(0)
        );
        assert_eq!(
            max_forwards(&invite("sip:x@h", "Max-Forwards: lots\r\n")),
            None
        );
    }

    #[test]
    fn user_parts_of_odd_uris() {
        let uri = |text: &str| Uri::try_from(text).unwrap();
        assert_eq!(
            uri_user(&uri("TEL:+421233000111")).as_deref(),
            Some("+421233000111")
        );
        assert_eq!(
            uri_user(&uri("sip:alice:secret@h")).as_deref(),
            Some("alice")
        );
        assert_eq!(uri_user(&uri("sip:h")), None);
        assert_eq!(uri_user(&uri("sip:@h")), None);
        assert_eq!(
            uri_user(&uri("sip:%41lice%2@h")).as_deref(),
            Some("Alice%2")
        );
    }

    #[test]
    fn percent_escapes_are_decoded() {
        let req = invite("sip:%2B421233000111@hotline.example", "");
        assert_eq!(dialed_user(&req).as_deref(), Some("+421233000111"));
    }

    #[test]
    fn source_reads_the_first_of_several_vias_on_one_line() {
        let text = "OPTIONS sip:h SIP/2.0\r\n\
                    Via: SIP/2.0/TCP 198.51.100.7:5070;branch=z9hG4bK1;received=203.0.113.9;rport=5071, SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK0\r\n\
                    From: <sip:a@b>;tag=a\r\nTo: <sip:h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let req = request(text);
        assert_eq!(source_of(&req), Some("203.0.113.9:5071".parse().unwrap()));
        assert_eq!(via_transport(&req), Transport::Tcp);
    }

    #[test]
    fn source_reads_a_bracketed_ipv6_received() {
        let text = "OPTIONS sip:h SIP/2.0\r\n\
                    Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=[2001:db8::99];rport=40000\r\n\
                    From: <sip:a@b>;tag=a\r\nTo: <sip:h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let want: SocketAddr = "[2001:db8::99]:40000".parse().unwrap();
        assert_eq!(source_of(&request(text)), Some(want));
        let peer: SocketAddr = "[2001:db8::7]:41000".parse().unwrap();
        let stamped = inspect_arrived(text.as_bytes(), peer).unwrap();
        assert_eq!(stamped.source, Some(peer));
    }

    #[test]
    fn messages_above_the_size_limit_get_513() {
        let padding = "a".repeat(MAX_MESSAGE_BYTES);
        let tail = format!("X-Padding: {padding}\r\nContent-Length: 0\r\n\r\n");
        let text = raw("OPTIONS sip:h SIP/2.0", "1 OPTIONS", &tail);
        let req = request(&text);
        assert!(
            wire_size(&req).abs_diff(text.len()) < 8,
            "{} vs {}",
            wire_size(&req),
            text.len()
        );
        let problem = malformation(&req).unwrap();
        assert!(matches!(problem, Malformation::TooLarge(size) if size > MAX_MESSAGE_BYTES));
        assert_eq!(problem.status(), 513);
        let text = raw(
            "OPTIONS sip:h SIP/2.0",
            "1 OPTIONS",
            "Content-Length: 0\r\n\r\n",
        );
        assert!(wire_size(&request(&text)).abs_diff(text.len()) < 8);
    }

    #[test]
    fn max_forwards_above_255_is_refused() {
        assert_eq!(
            max_forwards(&invite("sip:x@h", "Max-Forwards: 255\r\n")),
            Some(255)
        );
        assert_eq!(
            max_forwards(&invite("sip:x@h", "Max-Forwards: 256\r\n")),
            None
        );
        assert_eq!(
            max_forwards(&invite("sip:x@h", "Max-Forwards: -1\r\n")),
            None
        );
    }

    fn raw(start: &str, cseq: &str, tail: &str) -> String {
        format!(
            "{start}\r\n\
             Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK1;rport\r\n\
             From: <sip:+421900111222@carrier.example>;tag=a\r\n\
             To: <sip:+421233000111@hotline.example>\r\n\
             Call-ID: c1@carrier\r\n\
             CSeq: {cseq}\r\n\
             {tail}"
        )
    }

    #[test]
    fn a_well_formed_request_has_no_malformation() {
        let text = raw(
            "OPTIONS sip:h SIP/2.0",
            "1 OPTIONS",
            "Content-Length: 0\r\n\r\n",
        );
        assert_eq!(malformation(&request(&text)), None);
        let text = raw("OPTIONS sip:h SIP/2.0", "1 OPTIONS", "\r\n");
        assert_eq!(
            malformation(&request(&text)),
            None,
            "Content-Length may be absent"
        );
    }

    #[test]
    fn other_sip_versions_get_505() {
        let text = raw(
            "OPTIONS sip:h SIP/3.0",
            "1 OPTIONS",
            "Content-Length: 0\r\n\r\n",
        );
        let problem = malformation(&request(&text)).unwrap();
        assert_eq!(problem, Malformation::Version("SIP/3.0".into()));
        assert_eq!(problem.status(), 505);
    }

    #[test]
    fn cseq_must_name_the_request_method() {
        let text = raw(
            "OPTIONS sip:h SIP/2.0",
            "1 INVITE",
            "Content-Length: 0\r\n\r\n",
        );
        assert_eq!(malformation(&request(&text)), Some(Malformation::CSeq));
        let text = raw(
            "OPTIONS sip:h SIP/2.0",
            "one OPTIONS",
            "Content-Length: 0\r\n\r\n",
        );
        assert_eq!(malformation(&request(&text)), Some(Malformation::CSeq));
        let text = raw(
            "OPTIONS sip:h SIP/2.0",
            "1 options",
            "Content-Length: 0\r\n\r\n",
        );
        assert_eq!(
            malformation(&request(&text)),
            None,
            "methods compare case-blind"
        );
    }

    #[test]
    fn content_length_must_parse_and_fit_the_body() {
        for (declared, body, bad) in [
            ("-1", "", true),
            ("99999999999999999999999", "", true),
            ("12", "short", true),
            ("5", "hello", false),
            ("2", "hello", false),
        ] {
            let tail = format!("Content-Length: {declared}\r\n\r\n{body}");
            let text = raw("OPTIONS sip:h SIP/2.0", "1 OPTIONS", &tail);
            let problem = malformation(&request(&text));
            assert_eq!(problem.is_some(), bad, "{declared} / {body}");
            if bad {
                assert_eq!(problem, Some(Malformation::ContentLength));
                assert_eq!(Malformation::ContentLength.status(), 400);
            }
        }
    }

    #[test]
    fn missing_headers_come_before_cseq_and_length() {
        let text = "OPTIONS sip:h SIP/2.0\r\n\
                    Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK1\r\n\
                    From: <sip:a@b>;tag=a\r\n\
                    Call-ID: c1\r\n\
                    CSeq: 1 INVITE\r\n\
                    Content-Length: 9\r\n\r\n";
        let problem = malformation(&request(text)).unwrap();
        assert_eq!(problem, Malformation::MissingHeader("To"));
        assert_eq!(problem.reason(), "Missing To");
    }

    #[test]
    fn inspect_runs_every_extractor() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
        let text = format!(
            "INVITE sip:hotline.example SIP/2.0\r\n\
             v: SIP/2.0/TCP 198.51.100.7:5070;branch=z9hG4bK1\r\n\
             f: \"Jane\" <sip:+421900111222@carrier.example>;tag=a\r\n\
             t: <sip:+421233000222@hotline.example>\r\n\
             i: c1@carrier\r\n\
             CSeq: 1 INVITE\r\n\
             Max-Forwards: 12\r\n\
             x: 1800;refresher=uas\r\n\
             Min-SE: 100\r\n\
             c: application/sdp\r\n\
             l: {}\r\n\r\n{sdp}",
            sdp.len()
        );
        let seen = inspect(text.as_bytes()).unwrap();
        assert_eq!(seen.method, "INVITE");
        assert_eq!(seen.malformation, None);
        assert_eq!(seen.missing_header, None);
        assert_eq!(seen.dialed.as_deref(), Some("+421233000222"));
        assert_eq!(seen.caller, "+421900111222");
        assert_eq!(seen.caller_name.as_deref(), Some("Jane"));
        assert_eq!(seen.source, Some("198.51.100.7:5070".parse().unwrap()));
        assert_eq!(seen.via_transport, "TCP");
        assert_eq!(seen.max_forwards, Some(12));
        assert_eq!(
            seen.session_expires,
            Some(SessionExpires {
                seconds: 1800,
                refresher: Some(Refresher::Uas)
            })
        );
        assert_eq!(seen.min_se, 100);
        assert_eq!(seen.sdp.as_deref(), Some(sdp.as_bytes()));
    }

    #[test]
    fn inspect_refuses_what_is_not_a_request() {
        assert!(matches!(
            inspect(b"\x00\xff garbage\r\n\r\n"),
            Err(ParseError::Unparseable(_))
        ));
        let response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
        assert_eq!(inspect(response.as_bytes()), Err(ParseError::NotARequest));
    }

    #[test]
    fn inspect_arrived_sees_the_transport_stamp() {
        let text = raw(
            "OPTIONS sip:h SIP/2.0",
            "1 OPTIONS",
            "Content-Length: 0\r\n\r\n",
        );
        let peer: SocketAddr = "203.0.113.5:40000".parse().unwrap();
        let seen = inspect_arrived(text.as_bytes(), peer).unwrap();
        assert_eq!(seen.source, Some(peer), "received + rport win over sent-by");
        let no_via = "OPTIONS sip:h SIP/2.0\r\nCall-ID: x\r\n\r\n";
        assert!(matches!(
            inspect_arrived(no_via.as_bytes(), peer),
            Err(ParseError::NoVia(_))
        ));
    }
}
