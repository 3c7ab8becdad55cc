//! The hosts a tenant's plugins may reach over `hotline:plugin/http`: exact names
//! (`crm.example.com`), subdomain wildcards (`*.example.com`, which does not match the bare
//! domain), and public IPv4 addresses, each with an optional port (`host:8443`; without one only
//! the scheme's default port matches).
//!
//! [`Allowlist::parse`] is the strict reading of what a tenant admin stores (every entry checked,
//! every fault named); [`Allowlist::new`] is the lenient one for the simulator's scenario files.
//! An allowlist must never widen what it names: no bare `*`, no top-level wildcards, no loopback,
//! private or link-local addresses (the installation's own network is not the tenant's to reach).

use std::net::Ipv4Addr;

/// Entries a tenant may store.
pub const MAX_ENTRIES: usize = 100;

/// The hosts a tenant's plugins may reach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowlist {
    entries: Vec<String>,
}

/// What is wrong with one entry of a submitted allowlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryError {
    /// Position in the submitted list.
    pub index: usize,
    pub message: String,
}

/// Why a submitted allowlist was refused: every faulty entry, or the list's own size.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllowlistError {
    #[error("at most {MAX_ENTRIES} entries are allowed, not {0}")]
    TooMany(usize),
    #[error("{} entr{} of the allowlist cannot be used", .0.len(), if .0.len() == 1 { "y" } else { "ies" })]
    Entries(Vec<EntryError>),
}

impl Allowlist {
    /// The entries as given, trimmed and lower-cased, blanks dropped (no checks: for scenario
    /// files, whose hosts are simulated).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(entries: I) -> Self {
        Self {
            entries: entries
                .into_iter()
                .map(|e| e.as_ref().trim().to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
        }
    }

    /// A tenant's allowlist as submitted: each entry checked, duplicates folded (the first kept).
    pub fn parse<I: IntoIterator<Item = S>, S: AsRef<str>>(
        entries: I,
    ) -> Result<Self, AllowlistError> {
        let given: Vec<String> = entries
            .into_iter()
            .map(|e| e.as_ref().trim().to_ascii_lowercase())
            .collect();
        if given.len() > MAX_ENTRIES {
            return Err(AllowlistError::TooMany(given.len()));
        }
        let mut errors = Vec::new();
        let mut kept: Vec<String> = Vec::new();
        for (index, entry) in given.into_iter().enumerate() {
            match check_entry(&entry) {
                Ok(()) if kept.contains(&entry) => {}
                Ok(()) => kept.push(entry),
                Err(message) => errors.push(EntryError { index, message }),
            }
        }
        if errors.is_empty() {
            Ok(Self { entries: kept })
        } else {
            Err(AllowlistError::Entries(errors))
        }
    }

    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Is `host` (with `port` when it is not the scheme's default) allowed?
    pub fn allows(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        self.entries.iter().any(|entry| {
            let (pattern, entry_port) = split_port(entry);
            if entry_port.ok().flatten() != port {
                return false;
            }
            match pattern.strip_prefix("*.") {
                Some(domain) => host.ends_with(&format!(".{domain}")),
                None => host == pattern,
            }
        })
    }
}

/// `host:port` into the host and the port (`Ok(None)` without one, `Err` for a port that is not
/// a number from 1 to 65535).
fn split_port(entry: &str) -> (&str, Result<Option<u16>, ()>) {
    match entry.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(p) if p > 0 => (host, Ok(Some(p))),
            _ => (host, Err(())),
        },
        None => (entry, Ok(None)),
    }
}

fn check_entry(entry: &str) -> Result<(), String> {
    if entry.is_empty() {
        return Err("an entry is empty".into());
    }
    if entry.contains("://") || entry.contains('/') {
        return Err(format!(
            "{entry:?}: name the host only (crm.example.com), without scheme or path"
        ));
    }
    if entry.starts_with('[') || entry.matches(':').count() > 1 {
        return Err(format!(
            "{entry:?}: IPv6 addresses are not supported; name the host"
        ));
    }
    let (host, port) = split_port(entry);
    if port.is_err() {
        return Err(format!(
            "{entry:?}: the port must be a number from 1 to 65535"
        ));
    }
    if host.contains('*')
        && host
            .strip_prefix("*.")
            .is_none_or(|rest| rest.contains('*'))
    {
        return Err(format!(
            "{entry:?}: a wildcard stands only for subdomains, as the first label: *.example.com"
        ));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        if !is_public(ip) {
            return Err(format!(
                "{entry:?}: loopback, private, link-local and other non-public addresses cannot be allowed"
            ));
        }
        return Ok(());
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    let labels: Vec<&str> = name.split('.').collect();
    if name.len() > 253 || labels.iter().any(|l| !valid_label(l)) {
        return Err(format!(
            "{entry:?}: not a host name (labels of a-z, 0-9 and -, separated by dots)"
        ));
    }
    if host.starts_with("*.") && labels.len() < 2 {
        return Err(format!(
            "{entry:?}: a wildcard needs a domain of at least two labels (*.example.com), not a top-level domain"
        ));
    }
    if labels.len() < 2 || name == "localhost" || name.ends_with(".localhost") {
        return Err(format!(
            "{entry:?}: name a fully qualified host (crm.example.com); single-label and localhost names are the installation's own"
        ));
    }
    if labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("{entry:?}: not an IPv4 address nor a host name"));
    }
    Ok(())
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Is `ip` an address on the public internet (not this host, a private network, link-local,
/// shared carrier space, documentation, benchmarking, multicast or reserved)?
pub fn is_public(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19)))
}

/// Is `ip` on the public internet? IPv6: not loopback, unspecified, unique-local, link-local or
/// multicast, and an IPv4-mapped address only when its IPv4 address is public.
pub fn is_public_ip(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => is_public(v4),
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_entries_are_kept_normalised_and_once() {
        let list = Allowlist::parse([
            " CRM.Example.com ",
            "*.tickets.example",
            "api.example.org:8443",
            "crm.example.com",
            "8.8.8.8",
        ])
        .expect("a good list");
        assert_eq!(
            list.entries(),
            [
                "crm.example.com",
                "*.tickets.example",
                "api.example.org:8443",
                "8.8.8.8"
            ]
        );
        assert!(list.allows("crm.example.com", None));
        assert!(list.allows("eu.tickets.example", None));
        assert!(!list.allows("tickets.example", None));
        assert!(list.allows("api.example.org", Some(8443)));
        assert!(!list.allows("api.example.org", None));
    }

    #[test]
    fn every_bad_entry_is_named_with_its_position() {
        let bad = [
            "",
            ":80",
            "*",
            "*.com",
            "https://crm.example.com",
            "crm.example.com/path",
            "crm.example.com:0",
            "crm.example.com:99999",
            "crm.example.com:http",
            "localhost",
            "db.localhost",
            "intranet",
            "127.0.0.1",
            "10.1.2.3:8080",
            "169.254.169.254",
            "192.168.0.10",
            "100.64.0.1",
            "[::1]",
            "::1",
            "crm.*.example.com",
            "-crm.example.com",
            "crm_x.example.com",
            "999.1.1.1",
        ];
        match Allowlist::parse(bad) {
            Err(AllowlistError::Entries(errors)) => {
                let indexes: Vec<usize> = errors.iter().map(|e| e.index).collect();
                assert_eq!(indexes, (0..bad.len()).collect::<Vec<_>>(), "{errors:#?}");
                for e in &errors {
                    assert!(!e.message.is_empty());
                }
            }
            other => panic!("{other:?}"),
        }
        let many: Vec<String> = (0..=MAX_ENTRIES)
            .map(|i| format!("h{i}.example.com"))
            .collect();
        assert_eq!(
            Allowlist::parse(&many),
            Err(AllowlistError::TooMany(MAX_ENTRIES + 1))
        );
    }

    #[test]
    fn only_public_addresses_count_as_public() {
        for ip in ["8.8.8.8", "1.1.1.1", "93.184.216.34"] {
            assert!(is_public_ip(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.5",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.100.100.100",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public_ip(ip.parse().expect("ip")), "{ip}");
        }
    }
}
