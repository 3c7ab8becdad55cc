//! A trunk's configuration in the SIP side's own terms, built by whoever loads trunks (the
//! binary, from the tenant store). Plain data; secrets never show in `Debug`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use hotline_core::ids::TrunkId;
use ipnet::{IpNet, Ipv4Net};

/// One allowlist entry: an IPv4 or IPv6 network. An IPv4-mapped IPv6 network (`::ffff:a.b.c.d/n`,
/// n ≥ 96) is kept as the IPv4 network it is, so it matches v4 and v4-mapped sources alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceNet(IpNet);

impl SourceNet {
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// Does `addr` (v4, v6 or v4-mapped v6) fall inside?
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.contains(&canonical(addr))
    }
}

/// An address as the allowlist compares it: a v4-mapped v6 address is its v4 address (a dual-stack
/// socket reports IPv4 peers that way).
pub(crate) fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

impl From<IpAddr> for SourceNet {
    fn from(addr: IpAddr) -> Self {
        SourceNet(IpNet::from(canonical(addr)))
    }
}

impl FromStr for SourceNet {
    type Err = String;

    /// `192.0.2.1`, `198.51.100.0/24`, `2001:db8::/32`, `::ffff:192.0.2.0/120`; host bits are
    /// cleared.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let net = match text.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => text
                .parse::<IpAddr>()
                .map(IpNet::from)
                .map_err(|_| format!("{text:?} is not an IP address or network"))?,
        };
        let net = match net {
            IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
                Some(v4) => {
                    IpNet::V4(Ipv4Net::new(v4, v6.prefix_len() - 96).map_err(|e| e.to_string())?)
                }
                None => net,
            },
            other => other,
        };
        Ok(SourceNet(net.trunc()))
    }
}

impl fmt::Display for SourceNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TrunkTransport {
    #[default]
    Udp,
    Tcp,
}

/// The caller number we present to the provider on calls out through the trunk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum CallerIdPolicy {
    /// The caller's own number, as it reached us.
    #[default]
    PassThrough,
    /// Always this number (E.164).
    Fixed(String),
    /// The tenant number the caller dialed.
    DialedNumber,
}

/// A digest username and password we answer a provider's challenges with.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// What a carrier's inbound digest is checked against: HA1s in `realm`, never a password.
#[derive(Clone, PartialEq, Eq)]
pub struct InboundDigest {
    pub username: String,
    pub realm: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

impl fmt::Debug for InboundDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundDigest")
            .field("username", &self.username)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

/// Where and how calls leave through a trunk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutboundConfig {
    /// The provider's proxy: a DNS name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    pub transport: TrunkTransport,
    pub credentials: Option<Credentials>,
    /// `Some(expires)`: keep a registration with the provider, asking for this many seconds.
    pub register_expires_s: Option<u32>,
    pub caller_id: CallerIdPolicy,
}

impl OutboundConfig {
    /// `host:port` as a SIP URI writes it (IPv6 in brackets).
    pub fn host_port(&self) -> String {
        match self.host.parse::<Ipv6Addr>() {
            Ok(v6) => format!("[{v6}]:{}", self.port),
            Err(_) => format!("{}:{}", self.host, self.port),
        }
    }

    /// The URI of the provider itself (what we REGISTER with).
    pub fn server_uri(&self) -> String {
        format!("sip:{}{}", self.host_port(), self.transport_param())
    }

    /// The Request-URI that dials `number` at the provider.
    pub fn request_uri(&self, number: &str) -> String {
        format!(
            "sip:{number}@{}{}",
            self.host_port(),
            self.transport_param()
        )
    }

    fn transport_param(&self) -> &'static str {
        match self.transport {
            TrunkTransport::Udp => "",
            TrunkTransport::Tcp => ";transport=tcp",
        }
    }
}

/// One carrier trunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrunkConfig {
    pub id: TrunkId,
    pub name: String,
    pub enabled: bool,
    /// Sources whose INVITEs are this carrier's.
    pub inbound_sources: Vec<SourceNet>,
    /// Credentials the carrier authenticates with instead of (or beside) its address.
    pub inbound_digest: Option<InboundDigest>,
    /// `None`: inbound only.
    pub outbound: Option<OutboundConfig>,
    /// Calls through the trunk at once, both directions together.
    pub max_concurrent_calls: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_and_normalize() {
        let cases = [
            ("192.0.2.10", "192.0.2.10/32"),
            ("198.51.100.77/24", "198.51.100.0/24"),
            ("2001:db8::1/32", "2001:db8::/32"),
            ("::ffff:192.0.2.0/120", "192.0.2.0/24"),
            ("::ffff:192.0.2.9", "192.0.2.9/32"),
        ];
        for (input, want) in cases {
            let net: SourceNet = input.parse().expect(input);
            assert_eq!(net.to_string(), want);
        }
        assert!("carrier.example".parse::<SourceNet>().is_err());
        assert!("10.0.0.0/40".parse::<SourceNet>().is_err());
    }

    #[test]
    fn v4_mapped_sources_match_v4_networks() {
        let net: SourceNet = "192.0.2.0/24".parse().expect("net");
        let mapped: IpAddr = "::ffff:192.0.2.77".parse().expect("addr");
        assert!(net.contains(mapped));
        assert!(net.contains("192.0.2.1".parse().expect("addr")));
        assert!(!net.contains("192.0.3.1".parse().expect("addr")));
        assert!(!net.contains("2001:db8::1".parse().expect("addr")));
        assert!(!net.contains("0.0.0.0".parse().expect("addr")));
    }

    #[test]
    fn uris_for_names_and_ipv6() {
        let mut outbound = OutboundConfig {
            host: "sip.carrier.example".into(),
            port: 5060,
            transport: TrunkTransport::Udp,
            credentials: Some(Credentials {
                username: "hotline".into(),
                password: "provider-secret".into(),
            }),
            register_expires_s: None,
            caller_id: CallerIdPolicy::PassThrough,
        };
        assert_eq!(
            outbound.request_uri("+421255550100"),
            "sip:+421255550100@sip.carrier.example:5060"
        );
        outbound.host = "2001:db8::7".into();
        outbound.port = 5080;
        outbound.transport = TrunkTransport::Tcp;
        assert_eq!(
            outbound.server_uri(),
            "sip:[2001:db8::7]:5080;transport=tcp"
        );
        assert!(!format!("{outbound:?}").contains("provider-secret"));
    }
}
