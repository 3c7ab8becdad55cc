//! Reading a REGISTER into the registrar's own terms: the domain it registers in, the user,
//! Call-ID and CSeq, the Contact headers (kept verbatim, with their parameters), Expires,
//! User-Agent and the raw Authorization values. Pure; rsipstack types stay in this module and
//! `handle.rs`.
//!
//! The domain is the Request-URI's host; a phone that puts the server's IP address there (some
//! do, with the domain only in To) registers in the To header's domain. Either way the To
//! header's domain must be that domain: an AOR can never name another realm than the one the
//! request is authenticated in.

use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::uri::Host;
use rsipstack::sip::{Header, Request, Scheme, Uri};
use thiserror::Error;

use super::bindings::{ContactsRequest, RequestedContact};

/// Longest User-Agent kept (it is shown in the API, never interpreted).
const MAX_USER_AGENT: usize = 200;

/// A REGISTER, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterRequest {
    /// The realm: the registration domain, lowercased.
    pub domain: String,
    /// The To header's user: whose bindings change.
    pub username: String,
    pub call_id: String,
    pub cseq: u32,
    pub contacts: ContactsRequest,
    pub expires_header: Option<u32>,
    pub user_agent: Option<String>,
    /// Every Authorization header value, in order.
    pub authorizations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RequestError {
    #[error("missing or unreadable {0} header")]
    Header(&'static str),
    #[error("the To URI is not a sip: or sips: URI with a user part")]
    NotAnAor,
    #[error("the To domain {to:?} is not the registration domain {domain:?}")]
    DomainMismatch { domain: String, to: String },
    #[error("bad Contact: {0}")]
    Contact(String),
    #[error("bad Expires header")]
    Expires,
}

pub fn read_register(request: &Request) -> Result<RegisterRequest, RequestError> {
    let to_uri = request
        .to_header()
        .ok()
        .and_then(|to| to.uri().ok())
        .ok_or(RequestError::Header("To"))?;
    if !matches!(to_uri.scheme, Some(Scheme::Sip) | Some(Scheme::Sips)) {
        return Err(RequestError::NotAnAor);
    }
    let username = to_uri
        .auth
        .as_ref()
        .map(|auth| auth.user.clone())
        .filter(|user| !user.is_empty())
        .ok_or(RequestError::NotAnAor)?;
    let to_domain = host_text(&to_uri.host_with_port.host);
    let domain = match &request.uri.host_with_port.host {
        Host::Domain(domain) => domain.to_string().to_ascii_lowercase(),
        Host::IpAddr(_) => to_domain.clone(),
    };
    if to_domain != domain {
        return Err(RequestError::DomainMismatch {
            domain,
            to: to_domain,
        });
    }
    let call_id = request
        .call_id_header()
        .map(|c| c.value().trim().to_string())
        .ok()
        .filter(|c| !c.is_empty())
        .ok_or(RequestError::Header("Call-ID"))?;
    let cseq = request
        .cseq_header()
        .ok()
        .and_then(|c| c.seq().ok())
        .ok_or(RequestError::Header("CSeq"))?;
    let expires_header = match request.expires_header() {
        None => None,
        Some(value) => Some(parse_delta_seconds(value.value()).ok_or(RequestError::Expires)?),
    };
    let user_agent = request.user_agent_header().map(|ua| {
        ua.value()
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_USER_AGENT)
            .collect::<String>()
            .trim()
            .to_string()
    });
    let authorizations = request
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::Authorization(a) => Some(a.value().to_string()),
            _ => None,
        })
        .collect();
    Ok(RegisterRequest {
        domain,
        username,
        call_id,
        cseq,
        contacts: read_contacts(request)?,
        expires_header,
        user_agent: user_agent.filter(|ua| !ua.is_empty()),
        authorizations,
    })
}

/// `delta-seconds`; values beyond 32 bits mean "as long as possible" (RFC 3261 §20.19).
fn parse_delta_seconds(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        text.parse::<u64>()
            .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX)),
    )
}

fn host_text(host: &Host) -> String {
    host.to_string().to_ascii_lowercase()
}

fn read_contacts(request: &Request) -> Result<ContactsRequest, RequestError> {
    let mut contacts = Vec::new();
    let mut wildcard = false;
    for header in request.contact_headers() {
        for value in split_values(header.value()) {
            if value == "*" {
                wildcard = true;
            } else {
                contacts.push(parse_contact(value)?);
            }
        }
    }
    match (wildcard, contacts.is_empty()) {
        (false, true) => Ok(ContactsRequest::Query),
        (false, false) => Ok(ContactsRequest::Bind(contacts)),
        (true, true) => Ok(ContactsRequest::Wildcard),
        (true, false) => Err(RequestError::Contact("`*` must be the only contact".into())),
    }
}

/// Split a header value at commas outside quotes and angle brackets.
fn split_values(line: &str) -> Vec<&str> {
    let mut values = Vec::new();
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    let mut start = 0;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                values.push(line[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    values.push(line[start..].trim());
    values.retain(|v| !v.is_empty());
    values
}

/// One contact value: `"Name" <uri>;params` or `uri;params`.
fn parse_contact(value: &str) -> Result<RequestedContact, RequestError> {
    let bad = |why: &str| RequestError::Contact(format!("{why}: {value:?}"));
    let (uri_text, params_text) = match find_unquoted(value, '<') {
        Some(open) => {
            let close = value[open..]
                .find('>')
                .map(|i| open + i)
                .ok_or_else(|| bad("no closing >"))?;
            (&value[open + 1..close], &value[close + 1..])
        }
        None => match value.find(';') {
            Some(i) => (&value[..i], &value[i..]),
            None => (value, ""),
        },
    };
    let uri_text = uri_text.trim();
    let uri = rsipstack::sip::parse_uri(uri_text).map_err(|_| bad("not a URI"))?;
    if !matches!(uri.scheme, Some(Scheme::Sip) | Some(Scheme::Sips)) {
        return Err(bad("not a sip: or sips: URI"));
    }
    let mut expires = None;
    let mut instance = None;
    let mut reg_id = None;
    for param in split_params(params_text) {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (param.trim(), None),
        };
        if name.eq_ignore_ascii_case("expires") {
            expires = Some(
                value
                    .and_then(parse_delta_seconds)
                    .ok_or_else(|| bad("bad expires parameter"))?,
            );
        } else if name.eq_ignore_ascii_case("+sip.instance") {
            instance = value.map(|v| v.trim_matches('"').to_string());
        } else if name.eq_ignore_ascii_case("reg-id") {
            reg_id = value.map(str::to_string);
        }
    }
    let key = match &instance {
        Some(instance) => format!(
            "instance:{instance};reg-id={}",
            reg_id.as_deref().unwrap_or("")
        ),
        None => format!("uri:{}", canonical_uri(&uri)),
    };
    Ok(RequestedContact {
        uri: uri_text.to_string(),
        key,
        instance_id: instance,
        expires,
    })
}

fn find_unquoted(text: &str, wanted: char) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quoted {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == wanted && !quoted {
            return Some(i);
        }
    }
    None
}

/// `;a=1;b="x;y"` into `a=1`, `b="x;y"`.
fn split_params(text: &str) -> Vec<&str> {
    let mut params = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                params.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    params.push(&text[start..]);
    params.retain(|p| !p.trim().is_empty());
    params
}

/// Scheme, user, lowercased host, port, and the URI parameters lowercased and sorted.
fn canonical_uri(uri: &Uri) -> String {
    let scheme = match uri.scheme {
        Some(Scheme::Sips) => "sips",
        _ => "sip",
    };
    let user = uri
        .auth
        .as_ref()
        .map(|a| format!("{}@", a.user))
        .unwrap_or_default();
    let host = host_text(&uri.host_with_port.host);
    let port = uri
        .host_with_port
        .port
        .as_ref()
        .map(|p| format!(":{}", p.value()))
        .unwrap_or_default();
    let mut params: Vec<String> = uri
        .params
        .iter()
        .map(|p| p.to_string().to_ascii_lowercase())
        .collect();
    params.sort();
    format!("{scheme}:{user}{host}{port}{}", params.concat())
}

/// Does the digest `uri` parameter name the Request-URI? Scheme, user and port must agree and
/// the host too, case aside; parameters are not compared (proxies add and drop them).
pub fn digest_uri_matches(digest_uri: &str, request_uri: &Uri) -> bool {
    let Ok(given) = rsipstack::sip::parse_uri(digest_uri) else {
        return false;
    };
    let scheme = |u: &Uri| matches!(u.scheme, Some(Scheme::Sips));
    let user = |u: &Uri| u.auth.as_ref().map(|a| a.user.clone());
    let port = |u: &Uri| u.host_with_port.port.as_ref().map(|p| p.value());
    scheme(&given) == scheme(request_uri)
        && user(&given) == user(request_uri)
        && host_text(&given.host_with_port.host) == host_text(&request_uri.host_with_port.host)
        && port(&given) == port(request_uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(extra: &str) -> Request {
        let text = format!(
            "REGISTER sip:acme.sip.example SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK776asdhds;rport\r\n\
             Max-Forwards: 70\r\n\
             To: <sip:alice@acme.sip.example>\r\n\
             From: <sip:alice@acme.sip.example>;tag=456248\r\n\
             Call-ID: 843817637684230@998sdasdh09\r\n\
             CSeq: 1826 REGISTER\r\n\
             {extra}\
             Content-Length: 0\r\n\r\n"
        );
        Request::try_from(text.as_str()).unwrap()
    }

    #[test]
    fn reads_a_typical_register() {
        let read = read_register(&request(
            "Contact: \"Alice\" <sip:alice@192.168.1.20:5060;transport=udp;line=x7>;expires=120;q=0.7\r\n\
             Expires: 3600\r\n\
             User-Agent: Yealink SIP-T46S 66.86.0.15\r\n\
             Authorization: Digest username=\"alice\", realm=\"acme.sip.example\", nonce=\"n\", uri=\"sip:acme.sip.example\", response=\"r\"\r\n",
        ))
        .unwrap();
        assert_eq!(read.domain, "acme.sip.example");
        assert_eq!(read.username, "alice");
        assert_eq!(read.call_id, "843817637684230@998sdasdh09");
        assert_eq!(read.cseq, 1826);
        assert_eq!(read.expires_header, Some(3600));
        assert_eq!(
            read.user_agent.as_deref(),
            Some("Yealink SIP-T46S 66.86.0.15")
        );
        assert_eq!(read.authorizations.len(), 1);
        let ContactsRequest::Bind(contacts) = read.contacts else {
            panic!("contacts expected");
        };
        assert_eq!(contacts.len(), 1);
        assert_eq!(
            contacts[0].uri, "sip:alice@192.168.1.20:5060;transport=udp;line=x7",
            "verbatim"
        );
        assert_eq!(contacts[0].expires, Some(120));
        assert_eq!(
            contacts[0].key,
            "uri:sip:alice@192.168.1.20:5060;line=x7;transport=udp"
        );
    }

    #[test]
    fn several_contacts_in_one_header_and_in_several() {
        let read = read_register(&request(
            "Contact: <sip:a@10.0.0.1>;expires=0, sip:b@10.0.0.2:5070;expires=60\r\n\
             m: <sip:c@[2001:db8::5]:5062;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1\r\n",
        ))
        .unwrap();
        let ContactsRequest::Bind(contacts) = read.contacts else {
            panic!("contacts expected");
        };
        let uris: Vec<&str> = contacts.iter().map(|c| c.uri.as_str()).collect();
        assert_eq!(
            uris,
            vec![
                "sip:a@10.0.0.1",
                "sip:b@10.0.0.2:5070",
                "sip:c@[2001:db8::5]:5062;transport=tcp"
            ]
        );
        assert_eq!(contacts[0].expires, Some(0));
        assert_eq!(
            contacts[1].expires,
            Some(60),
            "a header param of a bare URI"
        );
        assert_eq!(
            contacts[2].instance_id.as_deref(),
            Some("<urn:uuid:00000000-0000-1000-8000-000A95A0E128>")
        );
        assert_eq!(
            contacts[2].key,
            "instance:<urn:uuid:00000000-0000-1000-8000-000A95A0E128>;reg-id=1"
        );
    }

    #[test]
    fn contact_keys_ignore_host_case_and_param_order() {
        let one = parse_contact("<sip:alice@PHONE.example:5060;Transport=TCP;a=1>").unwrap();
        let two = parse_contact("<sip:alice@phone.example:5060;a=1;transport=tcp>").unwrap();
        assert_eq!(one.key, two.key);
        let other_port = parse_contact("<sip:alice@phone.example:5061;a=1;transport=tcp>").unwrap();
        assert_ne!(one.key, other_port.key);
        let other_user = parse_contact("<sip:Alice@phone.example:5060;a=1;transport=tcp>").unwrap();
        assert_ne!(one.key, other_user.key, "the user part is case-sensitive");
    }

    #[test]
    fn query_wildcard_and_their_misuse() {
        assert_eq!(
            read_register(&request("")).unwrap().contacts,
            ContactsRequest::Query
        );
        assert_eq!(
            read_register(&request("Contact: *\r\nExpires: 0\r\n"))
                .unwrap()
                .contacts,
            ContactsRequest::Wildcard
        );
        assert!(matches!(
            read_register(&request("Contact: *, <sip:a@10.0.0.1>\r\n")),
            Err(RequestError::Contact(_))
        ));
    }

    #[test]
    fn refuses_what_cannot_be_a_registration() {
        for (extra, label) in [
            ("Contact: <tel:+421900123456>\r\n", "tel contact"),
            ("Contact: <sip:a@10.0.0.1\r\n", "unclosed"),
            (
                "Contact: <sip:a@10.0.0.1>;expires=soon\r\n",
                "bad expires param",
            ),
            ("Expires: -1\r\n", "negative Expires"),
        ] {
            assert!(read_register(&request(extra)).is_err(), "{label}");
        }
        let huge = read_register(&request("Expires: 99999999999\r\n")).unwrap();
        assert_eq!(
            huge.expires_header,
            Some(u32::MAX),
            "clamped, then bounded by max"
        );
    }

    #[test]
    fn the_to_domain_must_be_the_registration_domain() {
        let text = "REGISTER sip:acme.sip.example SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK776asdhds\r\n\
             To: <sip:alice@globex.sip.example>\r\n\
             From: <sip:alice@globex.sip.example>;tag=1\r\n\
             Call-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            read_register(&Request::try_from(text).unwrap()),
            Err(RequestError::DomainMismatch {
                domain: "acme.sip.example".into(),
                to: "globex.sip.example".into()
            })
        );
        // A phone that sends the server's address as Request-URI registers in To's domain.
        let by_ip = text
            .replace(
                "REGISTER sip:acme.sip.example",
                "REGISTER sip:192.0.2.10:5060",
            )
            .replace("globex", "Globex");
        let read = read_register(&Request::try_from(by_ip.as_str()).unwrap()).unwrap();
        assert_eq!(read.domain, "globex.sip.example");

        let no_user = text.replace(
            "To: <sip:alice@globex.sip.example>",
            "To: <sip:acme.sip.example>",
        );
        assert_eq!(
            read_register(&Request::try_from(no_user.as_str()).unwrap()),
            Err(RequestError::NotAnAor)
        );
    }

    #[test]
    fn digest_uri_must_name_the_request_uri() {
        let r = request("");
        assert!(digest_uri_matches("sip:acme.sip.example", &r.uri));
        assert!(digest_uri_matches(
            "sip:ACME.sip.example;transport=udp",
            &r.uri
        ));
        assert!(!digest_uri_matches("sip:globex.sip.example", &r.uri));
        assert!(!digest_uri_matches("sip:acme.sip.example:5070", &r.uri));
        assert!(!digest_uri_matches("sips:acme.sip.example", &r.uri));
        assert!(!digest_uri_matches("sip:bob@acme.sip.example", &r.uri));
        assert!(!digest_uri_matches("", &r.uri));
    }

    #[test]
    fn user_agent_is_cleaned_and_bounded() {
        let long = "x".repeat(500);
        let read = read_register(&request(&format!("User-Agent: {long}\r\n"))).unwrap();
        assert_eq!(read.user_agent.map(|u| u.len()), Some(MAX_USER_AGENT));
    }
}
