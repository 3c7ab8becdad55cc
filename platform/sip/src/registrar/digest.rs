//! Server-side HTTP digest for SIP (RFC 3261 §22, RFC 7616 semantics, RFC 8760 algorithms):
//! reading an `Authorization` header, computing the response a client must have sent from the
//! stored HA1, and writing `WWW-Authenticate` challenges.
//!
//! Pure functions only: no clock, no randomness, no lookups. The caller decides which HA1
//! applies (by realm and username) and whether the nonce is still good (`nonce.rs`).
//!
//! Accepted: `algorithm` MD5 (also when absent) and SHA-256; `qop=auth` with `nc` and `cnonce`,
//! or no qop at all (RFC 2069 style, which old phones still send). Refused as unsupported: the
//! `-sess` variants and `auth-int`, which Hotline never offers. The expected response is
//! compared in constant time; this module must never log or return the HA1.

use md5::Md5;
use sha2::{Digest as _, Sha256};
use thiserror::Error;

/// Longest `Authorization` value read; real ones are a few hundred bytes.
const MAX_HEADER_LEN: usize = 4096;

/// The digest algorithms Hotline verifies, by the name RFC 8760 gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Md5,
    Sha256,
}

impl DigestAlgorithm {
    /// The `algorithm=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }

    /// Parse an `algorithm=` token (case-insensitive).
    pub fn parse(token: &str) -> Option<Self> {
        if token.eq_ignore_ascii_case("MD5") {
            Some(DigestAlgorithm::Md5)
        } else if token.eq_ignore_ascii_case("SHA-256") {
            Some(DigestAlgorithm::Sha256)
        } else {
            None
        }
    }

    /// Lowercase hex of the hash of `data`.
    pub fn hex(self, data: &[u8]) -> String {
        match self {
            DigestAlgorithm::Md5 => hex::encode(Md5::digest(data)),
            DigestAlgorithm::Sha256 => hex::encode(Sha256::digest(data)),
        }
    }
}

/// `H(username:realm:password)`, as the agents table stores it.
pub fn ha1(algorithm: DigestAlgorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hex(format!("{username}:{realm}:{password}").as_bytes())
}

/// The quality of protection a response was computed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protection {
    /// RFC 2069: `H(HA1:nonce:HA2)`, no replay counter.
    None,
    /// `qop=auth`: `H(HA1:nonce:nc:cnonce:auth:HA2)`.
    Auth {
        /// The nonce count as sent (8 hex digits), hashed verbatim.
        nc_text: String,
        nc: u32,
        cnonce: String,
    },
}

/// The fields of a digest `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestCredentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    /// The `uri` parameter as sent; it enters HA2 verbatim.
    pub uri: String,
    pub response: String,
    pub algorithm: DigestAlgorithm,
    pub protection: Protection,
    pub opaque: Option<String>,
}

impl DigestCredentials {
    /// The nonce count, when the client sent one.
    pub fn nonce_count(&self) -> Option<u32> {
        match &self.protection {
            Protection::None => None,
            Protection::Auth { nc, .. } => Some(*nc),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DigestError {
    #[error("the authorization scheme is not Digest")]
    NotDigest,
    #[error("the Authorization header is malformed: {0}")]
    Malformed(&'static str),
    #[error("parameter {0} is missing")]
    Missing(&'static str),
    #[error("parameter {0} appears twice")]
    Duplicate(String),
    #[error("algorithm {0:?} is not supported")]
    UnsupportedAlgorithm(String),
    #[error("qop {0:?} is not supported")]
    UnsupportedQop(String),
    #[error("nc {0:?} is not eight hex digits")]
    BadNonceCount(String),
}

/// Read a `Digest ...` header value.
pub fn parse_authorization(value: &str) -> Result<DigestCredentials, DigestError> {
    if value.len() > MAX_HEADER_LEN {
        return Err(DigestError::Malformed("too long"));
    }
    let value = value.trim();
    let (scheme, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .ok_or(DigestError::NotDigest)?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(DigestError::NotDigest);
    }
    let params = parse_params(rest)?;
    let find = |name: &'static str| -> Option<&str> {
        params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let required = |name: &'static str| -> Result<String, DigestError> {
        find(name)
            .map(str::to_string)
            .ok_or(DigestError::Missing(name))
    };
    let algorithm = match find("algorithm") {
        None => DigestAlgorithm::Md5,
        Some(token) => DigestAlgorithm::parse(token)
            .ok_or_else(|| DigestError::UnsupportedAlgorithm(token.to_string()))?,
    };
    let protection = match find("qop") {
        None => Protection::None,
        Some(qop) if qop.eq_ignore_ascii_case("auth") => {
            let nc_text = required("nc")?;
            let nc = parse_nonce_count(&nc_text)?;
            Protection::Auth {
                nc_text,
                nc,
                cnonce: required("cnonce")?,
            }
        }
        Some(other) => return Err(DigestError::UnsupportedQop(other.to_string())),
    };
    Ok(DigestCredentials {
        username: required("username")?,
        realm: required("realm")?,
        nonce: required("nonce")?,
        uri: required("uri")?,
        response: required("response")?,
        algorithm,
        protection,
        opaque: find("opaque").map(str::to_string),
    })
}

/// `nc` is exactly eight hex digits (RFC 7616 §3.4); zero is never a valid count.
fn parse_nonce_count(text: &str) -> Result<u32, DigestError> {
    let bad = || DigestError::BadNonceCount(text.to_string());
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    match u32::from_str_radix(text, 16) {
        Ok(0) | Err(_) => Err(bad()),
        Ok(n) => Ok(n),
    }
}

/// `name=token` or `name="quoted string"`, separated by commas.
pub(super) fn parse_params(input: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut params: Vec<(String, String)> = Vec::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let name_start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b',' {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            return Err(DigestError::Malformed("a parameter without a value"));
        }
        let name = input[name_start..i].trim();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(DigestError::Malformed(
                "a parameter name that is not a token",
            ));
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = if i < bytes.len() && bytes[i] == b'"' {
            i += 1;
            let mut value = Vec::new();
            loop {
                match bytes.get(i) {
                    None => return Err(DigestError::Malformed("an unterminated quoted string")),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let escaped = bytes
                            .get(i + 1)
                            .ok_or(DigestError::Malformed("an unterminated quoted string"))?;
                        value.push(*escaped);
                        i += 2;
                    }
                    Some(byte) => {
                        value.push(*byte);
                        i += 1;
                    }
                }
            }
            String::from_utf8(value)
                .map_err(|_| DigestError::Malformed("a value that is not UTF-8"))?
        } else {
            let start = i;
            while i < bytes.len() && bytes[i] != b',' && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            input[start..i].to_string()
        };
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] != b',' {
            return Err(DigestError::Malformed("text after a parameter value"));
        }
        if params.iter().any(|(key, _)| key.eq_ignore_ascii_case(name)) {
            return Err(DigestError::Duplicate(name.to_string()));
        }
        params.push((name.to_string(), value));
    }
    Ok(params)
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&byte)
}

/// The response a client holding the password behind `ha1` must have sent for `method`.
pub fn expected_response(ha1: &str, method: &str, credentials: &DigestCredentials) -> String {
    let algorithm = credentials.algorithm;
    let ha2 = algorithm.hex(format!("{method}:{}", credentials.uri).as_bytes());
    let material = match &credentials.protection {
        Protection::None => format!("{ha1}:{}:{ha2}", credentials.nonce),
        Protection::Auth {
            nc_text, cnonce, ..
        } => format!("{ha1}:{}:{nc_text}:{cnonce}:auth:{ha2}", credentials.nonce),
    };
    algorithm.hex(material.as_bytes())
}

/// Did the client prove knowledge of the password behind `ha1`? Constant time in the response.
pub fn verify(ha1: &str, method: &str, credentials: &DigestCredentials) -> bool {
    let expected = expected_response(ha1, method, credentials);
    let given = credentials.response.to_ascii_lowercase();
    constant_time_eq(expected.as_bytes(), given.as_bytes())
}

/// Equal bytes, compared without an early exit (the length is not secret: it follows from
/// the algorithm).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One `WWW-Authenticate` value: `Digest realm=..., nonce=..., algorithm=..., qop="auth"`,
/// with `stale=true` when the client's credentials were right but its nonce had expired.
pub fn challenge(realm: &str, nonce: &str, algorithm: DigestAlgorithm, stale: bool) -> String {
    let mut value = format!(
        "Digest realm=\"{}\", nonce=\"{}\", algorithm={}, qop=\"auth\"",
        quote_escape(realm),
        quote_escape(nonce),
        algorithm.as_str()
    );
    if stale {
        value.push_str(", stale=true");
    }
    value
}

fn quote_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(header: &str) -> DigestCredentials {
        parse_authorization(header).unwrap()
    }

    /// RFC 2617 §3.5: the classic MD5 qop=auth example.
    #[test]
    fn rfc_2617_md5_vector() {
        let c = credentials(
            r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        );
        let ha1 = ha1(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
        );
        assert_eq!(
            expected_response(&ha1, "GET", &c),
            "6629fae49393a05397450978507c4ef1"
        );
        assert!(verify(&ha1, "GET", &c));
        assert_eq!(c.nonce_count(), Some(1));
        assert_eq!(
            c.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
    }

    /// RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
    #[test]
    fn rfc_7616_md5_and_sha256_vectors() {
        let common = r#"username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let md5 = credentials(&format!(
            "Digest {common}, algorithm=MD5, response=\"8ca523f5e9506fed4657c9700eebdbec\""
        ));
        let sha = credentials(&format!(
            "Digest {common}, algorithm=SHA-256, response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
        ));
        assert_eq!(sha.algorithm, DigestAlgorithm::Sha256);
        let realm = "http-auth@example.org";
        let md5_ha1 = ha1(DigestAlgorithm::Md5, "Mufasa", realm, "Circle of Life");
        let sha_ha1 = ha1(DigestAlgorithm::Sha256, "Mufasa", realm, "Circle of Life");
        assert!(verify(&md5_ha1, "GET", &md5));
        assert!(verify(&sha_ha1, "GET", &sha));
        // Each HA1 answers only its own algorithm.
        assert!(!verify(&md5_ha1, "GET", &sha));
        assert!(!verify(&sha_ha1, "GET", &md5));
        // And only for the method it was computed for.
        assert!(!verify(&sha_ha1, "REGISTER", &sha));
    }

    /// RFC 2069 style (no qop), as old phones send it. The reference response was computed
    /// with Python's hashlib, independently of this module.
    #[test]
    fn no_qop_response() {
        let c = credentials(
            r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="1949323746fe6a43ef61f9606e7febea""#,
        );
        assert_eq!(c.protection, Protection::None);
        assert_eq!(c.algorithm, DigestAlgorithm::Md5, "absent means MD5");
        let ha1 = ha1(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "CircleOfLife",
        );
        assert!(verify(&ha1, "GET", &c));
        let wrong = ha1_wrong_password();
        assert!(!verify(&wrong, "GET", &c));
    }

    fn ha1_wrong_password() -> String {
        ha1(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "CircleOfLies",
        )
    }

    #[test]
    fn the_response_compares_case_insensitively_as_hex() {
        let c = credentials(
            r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629FAE49393A05397450978507C4EF1""#,
        );
        let ha1 = ha1(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
        );
        assert!(verify(&ha1, "GET", &c));
    }

    #[test]
    fn parses_what_phones_send() {
        // Unquoted qop and algorithm, no spaces after commas, escaped quote in a value.
        let c = credentials(
            r#"digest username="al\"ice",realm="acme.sip.example",cnonce="6b8b4567",nc=0000000a,qop=auth,uri="sip:acme.sip.example",nonce="abc",response="00",algorithm=sha-256"#,
        );
        assert_eq!(c.username, "al\"ice");
        assert_eq!(c.algorithm, DigestAlgorithm::Sha256);
        assert_eq!(c.nonce_count(), Some(10));
        assert_eq!(c.uri, "sip:acme.sip.example");
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        let base = r#"username="a", realm="r", nonce="n", uri="sip:r", response="00""#;
        let cases: Vec<(String, DigestError)> = vec![
            (format!("Basic {base}"), DigestError::NotDigest),
            (
                format!("Digest {base}, algorithm=MD5-sess"),
                DigestError::UnsupportedAlgorithm("MD5-sess".into()),
            ),
            (
                format!("Digest {base}, algorithm=SHA-512-256"),
                DigestError::UnsupportedAlgorithm("SHA-512-256".into()),
            ),
            (
                format!("Digest {base}, qop=auth-int, nc=00000001, cnonce=\"c\""),
                DigestError::UnsupportedQop("auth-int".into()),
            ),
            (
                format!("Digest {base}, qop=auth, cnonce=\"c\""),
                DigestError::Missing("nc"),
            ),
            (
                format!("Digest {base}, qop=auth, nc=00000001"),
                DigestError::Missing("cnonce"),
            ),
            (
                format!("Digest {base}, qop=auth, nc=1, cnonce=\"c\""),
                DigestError::BadNonceCount("1".into()),
            ),
            (
                format!("Digest {base}, qop=auth, nc=00000000, cnonce=\"c\""),
                DigestError::BadNonceCount("00000000".into()),
            ),
            (
                format!("Digest {base}, qop=auth, nc=0000000g, cnonce=\"c\""),
                DigestError::BadNonceCount("0000000g".into()),
            ),
            (
                r#"Digest realm="r", nonce="n", uri="sip:r", response="00""#.into(),
                DigestError::Missing("username"),
            ),
            (
                format!("Digest {base}, realm=\"again\""),
                DigestError::Duplicate("realm".into()),
            ),
            (
                r#"Digest username="a, realm="r""#.into(),
                DigestError::Malformed("text after a parameter value"),
            ),
            (
                r#"Digest username="unterminated"#.into(),
                DigestError::Malformed("an unterminated quoted string"),
            ),
            (
                r#"Digest username"#.into(),
                DigestError::Malformed("a parameter without a value"),
            ),
            ("Digest".into(), DigestError::NotDigest),
            (
                "Digest username".to_string() + &" ".repeat(5000),
                DigestError::Malformed("too long"),
            ),
        ];
        for (header, want) in cases {
            assert_eq!(parse_authorization(&header), Err(want), "{header}");
        }
    }

    #[test]
    fn challenge_names_realm_nonce_algorithm_and_staleness() {
        assert_eq!(
            challenge("acme.sip.example", "n0nce", DigestAlgorithm::Sha256, false),
            r#"Digest realm="acme.sip.example", nonce="n0nce", algorithm=SHA-256, qop="auth""#
        );
        assert_eq!(
            challenge("acme.sip.example", "n0nce", DigestAlgorithm::Md5, true),
            r#"Digest realm="acme.sip.example", nonce="n0nce", algorithm=MD5, qop="auth", stale=true"#
        );
    }

    #[test]
    fn constant_time_eq_is_plain_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
