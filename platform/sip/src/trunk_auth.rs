//! Carriers that authenticate by digest instead of by address: an INVITE from an address no
//! trunk lists is challenged (407, in the trunks' realm) when some trunk has inbound
//! credentials, and admitted when its `Proxy-Authorization` answers for such a trunk. Pure
//! apart from the nonce key; the stack calls [`TrunkAuth::check`] and sends what it says.

use std::net::SocketAddr;

use rsipstack::sip::Request;

use crate::message::header_value;
use crate::registrar::digest::{self, DigestAlgorithm};
use crate::registrar::nonce::{NonceIssuer, NonceState};
use crate::stack::{Admission, InboundGate};

/// What to do with an INVITE from an unlisted address.
pub(crate) enum TrunkAuthOutcome {
    Admitted(Admission),
    /// Send 407 with these `Proxy-Authenticate` values.
    Challenge(Vec<String>),
    /// 403: no trunk authenticates by digest, or the credentials are wrong.
    Refused,
}

pub(crate) struct TrunkAuth {
    nonces: NonceIssuer,
}

impl TrunkAuth {
    pub(crate) fn new(key: [u8; 32], nonce_ttl: std::time::Duration) -> Self {
        Self {
            nonces: NonceIssuer::new(key, nonce_ttl),
        }
    }

    pub(crate) fn check(
        &self,
        gate: &dyn InboundGate,
        request: &Request,
        _source: SocketAddr,
        now_ms: i64,
        salt: [u8; 8],
    ) -> TrunkAuthOutcome {
        let Some(realm) = gate.digest_realm() else {
            return TrunkAuthOutcome::Refused;
        };
        let challenge = |stale: bool| {
            let nonce = self.nonces.issue(&realm, now_ms, salt);
            TrunkAuthOutcome::Challenge(
                [DigestAlgorithm::Sha256, DigestAlgorithm::Md5]
                    .into_iter()
                    .map(|algorithm| digest::challenge(&realm, &nonce, algorithm, stale))
                    .collect(),
            )
        };
        let Some(header) = header_value(request, "Proxy-Authorization") else {
            return challenge(false);
        };
        let Ok(credentials) = digest::parse_authorization(header) else {
            return TrunkAuthOutcome::Refused;
        };
        let Some(trunk) = gate.digest_trunk(&credentials.username) else {
            return TrunkAuthOutcome::Refused;
        };
        if credentials.realm != trunk.realm {
            return TrunkAuthOutcome::Refused;
        }
        let ha1 = match credentials.algorithm {
            DigestAlgorithm::Md5 => &trunk.ha1_md5,
            DigestAlgorithm::Sha256 => &trunk.ha1_sha256,
        };
        if !digest::verify(ha1, "INVITE", &credentials) {
            return TrunkAuthOutcome::Refused;
        }
        match self.nonces.check(&credentials.nonce, &realm, now_ms) {
            NonceState::Fresh { .. } => TrunkAuthOutcome::Admitted(gate.acquire(trunk.trunk_id)),
            NonceState::Expired => challenge(true),
            NonceState::Invalid => challenge(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hotline_core::ids::TrunkId;
    use rsipstack::sip::SipMessage;

    use super::*;
    use crate::registrar::digest::{expected_response, DigestCredentials, Protection};
    use crate::stack::DigestTrunk;

    const REALM: &str = "sip.hotline.local";

    struct Carrier {
        trunk_id: TrunkId,
    }

    impl InboundGate for Carrier {
        fn admit(&self, _source: SocketAddr) -> Admission {
            Admission::NotATrunk
        }
        fn digest_realm(&self) -> Option<String> {
            Some(REALM.into())
        }
        fn digest_trunk(&self, username: &str) -> Option<DigestTrunk> {
            (username == "carrier-in").then(|| DigestTrunk {
                trunk_id: self.trunk_id,
                realm: REALM.into(),
                ha1_md5: digest::ha1(DigestAlgorithm::Md5, "carrier-in", REALM, "s3cret-pass"),
                ha1_sha256: digest::ha1(
                    DigestAlgorithm::Sha256,
                    "carrier-in",
                    REALM,
                    "s3cret-pass",
                ),
            })
        }
        fn acquire(&self, trunk_id: TrunkId) -> Admission {
            Admission::Trunk {
                trunk_id,
                slot: Box::new(()),
            }
        }
    }

    fn invite(authorization: Option<&str>) -> Request {
        let auth = authorization
            .map(|value| format!("Proxy-Authorization: {value}\r\n"))
            .unwrap_or_default();
        let text = format!(
            "INVITE sip:+421233000111@hotline SIP/2.0\r\n\
             Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\r\n\
             From: <sip:+421900111222@carrier>;tag=a\r\n\
             To: <sip:+421233000111@hotline>\r\n\
             Call-ID: c1\r\nCSeq: 2 INVITE\r\n{auth}Content-Length: 0\r\n\r\n"
        );
        match SipMessage::try_from(text.as_str()) {
            Ok(SipMessage::Request(request)) => request,
            other => panic!("{other:?}"),
        }
    }

    fn nonce_of(challenge: &str) -> String {
        challenge
            .split("nonce=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string()
    }

    fn answer(nonce: &str, password: &str) -> String {
        let mut credentials = DigestCredentials {
            username: "carrier-in".into(),
            realm: REALM.into(),
            nonce: nonce.into(),
            uri: "sip:+421233000111@hotline".into(),
            response: String::new(),
            algorithm: DigestAlgorithm::Md5,
            protection: Protection::Auth {
                nc_text: "00000001".into(),
                nc: 1,
                cnonce: "abc".into(),
            },
            opaque: None,
        };
        let ha1 = digest::ha1(DigestAlgorithm::Md5, "carrier-in", REALM, password);
        credentials.response = expected_response(&ha1, "INVITE", &credentials);
        format!(
            "Digest username=\"carrier-in\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"sip:+421233000111@hotline\", response=\"{}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"abc\"",
            credentials.response
        )
    }

    fn challenged(outcome: TrunkAuthOutcome) -> Vec<String> {
        match outcome {
            TrunkAuthOutcome::Challenge(values) => values,
            TrunkAuthOutcome::Admitted(_) => panic!("admitted"),
            TrunkAuthOutcome::Refused => panic!("refused"),
        }
    }

    #[test]
    fn unlisted_carrier_is_challenged_then_admitted_with_the_right_password() {
        let auth = TrunkAuth::new([7; 32], Duration::from_secs(300));
        let gate = Carrier {
            trunk_id: TrunkId::new(),
        };
        let source = "198.51.100.7:5060".parse().unwrap();
        let challenges = challenged(auth.check(&gate, &invite(None), source, 1_000, [1; 8]));
        assert_eq!(challenges.len(), 2);
        assert!(challenges[0].contains("SHA-256") && challenges[1].contains("MD5"));
        let nonce = nonce_of(&challenges[1]);

        let good = invite(Some(&answer(&nonce, "s3cret-pass")));
        match auth.check(&gate, &good, source, 2_000, [2; 8]) {
            TrunkAuthOutcome::Admitted(Admission::Trunk { trunk_id, .. }) => {
                assert_eq!(trunk_id, gate.trunk_id)
            }
            _ => panic!("the right password must admit"),
        }
        let wrong = invite(Some(&answer(&nonce, "guess")));
        assert!(matches!(
            auth.check(&gate, &wrong, source, 2_000, [3; 8]),
            TrunkAuthOutcome::Refused
        ));
        // The right answer on an expired nonce gets a fresh challenge marked stale.
        let late = auth.check(&gate, &good, source, 1_000 + 301_000, [4; 8]);
        assert!(challenged(late)[0].contains("stale=true"));
    }

    #[test]
    fn without_digest_trunks_unlisted_sources_are_refused_outright() {
        struct AllowlistOnly;
        impl InboundGate for AllowlistOnly {
            fn admit(&self, _source: SocketAddr) -> Admission {
                Admission::NotATrunk
            }
        }
        let auth = TrunkAuth::new([7; 32], Duration::from_secs(300));
        let outcome = auth.check(
            &AllowlistOnly,
            &invite(None),
            "192.0.2.1:5060".parse().unwrap(),
            0,
            [0; 8],
        );
        assert!(matches!(outcome, TrunkAuthOutcome::Refused));
    }
}
