//! The UDP socket the SIP transport reads and writes: the kernel socket with buffers sized for
//! call bursts, and a reader that tells the overload meter whether datagrams were already
//! waiting each time it read (see `overload.rs`). It must stay a thin pass-through: no parsing,
//! no copying, nothing per datagram beyond one non-blocking read attempt and a clock read.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::warn;

use crate::overload::{BacklogChange, BacklogMeter, Overload};

pub(crate) struct MeteredUdp {
    socket: tokio::net::UdpSocket,
    meter: Mutex<BacklogMeter>,
    overload: Arc<Overload>,
}

impl MeteredUdp {
    /// Bind `addr` with kernel buffers of `buffer_bytes` (as far as `net.core.rmem_max` and
    /// `wmem_max` allow; 0 keeps the system default). The stack reads datagrams on one task:
    /// when that task waits its turn behind thousands of call tasks, the default 208 KiB
    /// receive buffer holds about 20 ms of INVITE traffic at 3,000 calls/s, and what overflows
    /// is lost and retransmitted, adding load exactly when there is the least room for it.
    pub(crate) fn bind(
        addr: SocketAddr,
        buffer_bytes: usize,
        behind_after: Option<Duration>,
        overload: Arc<Overload>,
    ) -> io::Result<Self> {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        if buffer_bytes > 0 {
            socket.set_recv_buffer_size(buffer_bytes)?;
            socket.set_send_buffer_size(buffer_bytes)?;
            // Linux reports twice what it grants (its bookkeeping share); less than asked means
            // the system limit capped it.
            let granted = socket.recv_buffer_size()? / 2;
            if granted < buffer_bytes {
                warn!(
                    %addr,
                    asked = buffer_bytes,
                    granted,
                    "the UDP receive buffer is smaller than asked; raise net.core.rmem_max"
                );
            }
        }
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        Ok(Self {
            socket: tokio::net::UdpSocket::from_std(socket.into())?,
            meter: Mutex::new(BacklogMeter::new(behind_after)),
            overload,
        })
    }

    fn note(&self, waiting: bool) {
        let change = match self.meter.lock() {
            Ok(mut meter) => meter.on_read(waiting, Instant::now()),
            Err(_) => return,
        };
        match change {
            BacklogChange::None => {}
            BacklogChange::FellBehind => {
                metrics::counter!("hotline_sip_reader_behind_total").increment(1);
                self.overload.reader_fell_behind();
            }
            BacklogChange::CaughtUp => self.overload.reader_caught_up(),
        }
    }
}

#[async_trait::async_trait]
impl rsipstack::platform::net::UdpSocket for MeteredUdp {
    async fn recv_from(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        match self.socket.try_recv_from(buf) {
            Ok(got) => {
                self.note(true);
                return Ok(got);
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => self.note(false),
            Err(error) => return Err(error.into()),
        }
        Ok(self.socket.recv_from(buf).await?)
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}
