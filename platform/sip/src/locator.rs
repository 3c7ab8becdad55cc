//! Where in-dialog requests to a phone really go. A phone behind NAT registers a Contact with
//! its private address; Hotline sends the INVITE to the address the REGISTER came from, and this
//! locator makes the ACK, BYE and re-INVITEs of that dialog follow, by mapping the Contact's
//! host:port to the observed address for as long as a leg to it is up (Asterisk calls this
//! `rewrite_contact`). Targets it does not know resolve as their URI says.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rsipstack::sip::{Transport, Uri};
use rsipstack::transaction::endpoint::TargetLocator;
use rsipstack::transport::SipAddr;

/// host:port of a URI, the port defaulted, as the map's key.
fn key_of(uri: &Uri) -> String {
    let host = uri.host_with_port.host.to_string();
    let port = uri
        .host_with_port
        .port
        .as_ref()
        .map(|port| port.value().to_owned())
        .unwrap_or(5060);
    format!("{}:{port}", host.to_ascii_lowercase())
}

/// Contact host:port → observed address, its transport, and how many legs pin it.
type Routes = Arc<Mutex<HashMap<String, (SocketAddr, Transport, usize)>>>;

#[derive(Clone, Default)]
pub(crate) struct NatLocator {
    routes: Routes,
}

impl NatLocator {
    /// Send what targets `uri` to `observed` while the returned guard lives.
    pub(crate) fn pin(&self, uri: &Uri, observed: SocketAddr, transport: Transport) -> NatPin {
        let key = key_of(uri);
        if let Ok(mut routes) = self.routes.lock() {
            let entry = routes
                .entry(key.clone())
                .or_insert((observed, transport, 0));
            *entry = (observed, transport, entry.2 + 1);
        }
        NatPin {
            routes: self.routes.clone(),
            key,
        }
    }

    fn lookup(&self, uri: &Uri) -> Option<SipAddr> {
        let routes = self.routes.lock().ok()?;
        let (addr, transport, _) = routes.get(&key_of(uri))?;
        Some(SipAddr {
            r#type: Some(*transport),
            addr: (*addr).into(),
        })
    }
}

/// Keeps one mapping alive; the last pin of a target removes it.
pub(crate) struct NatPin {
    routes: Routes,
    key: String,
}

impl Drop for NatPin {
    fn drop(&mut self) {
        if let Ok(mut routes) = self.routes.lock() {
            if let Some(entry) = routes.get_mut(&self.key) {
                entry.2 = entry.2.saturating_sub(1);
                if entry.2 == 0 {
                    routes.remove(&self.key);
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl TargetLocator for NatLocator {
    async fn locate(&self, uri: &Uri) -> rsipstack::Result<SipAddr> {
        match self.lookup(uri) {
            Some(addr) => Ok(addr),
            None => SipAddr::try_from(uri),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        Uri::try_from(text).expect("uri")
    }

    #[tokio::test]
    async fn pinned_contacts_resolve_to_the_observed_address_until_released() {
        let locator = NatLocator::default();
        let contact = uri("sip:1001@192.168.1.20:5062");
        let observed: SocketAddr = "203.0.113.7:40001".parse().unwrap();
        let first = locator.pin(&contact, observed, Transport::Udp);
        let second = locator.pin(&contact, observed, Transport::Udp);
        let located = locator
            .locate(&uri("sip:1001@192.168.1.20:5062;ob"))
            .await
            .unwrap();
        assert_eq!(located.get_socketaddr().unwrap(), observed);
        drop(first);
        assert!(
            locator.lookup(&contact).is_some(),
            "still pinned by the second leg"
        );
        drop(second);
        let unknown = locator.locate(&contact).await.unwrap();
        assert_eq!(
            unknown.get_socketaddr().unwrap(),
            "192.168.1.20:5062".parse().unwrap()
        );
    }

    #[test]
    fn a_missing_port_means_5060() {
        assert_eq!(key_of(&uri("sip:a@Example.com")), "example.com:5060");
    }
}
