//! Zeroconf: advertise the Wyoming ports as `_wyoming._tcp.local.` (what Home Assistant's
//! Wyoming integration discovers), through the `mdns-sd` crate. Only used when a Wyoming port is
//! bound to a LAN address; nothing is advertised for loopback.

use std::net::SocketAddr;

use mdns_sd::{ServiceDaemon, ServiceInfo};

/// The service type Home Assistant browses for.
pub const SERVICE_TYPE: &str = "_wyoming._tcp.local.";

/// Keeps the advertisement alive; dropping it withdraws it.
pub struct Advertiser {
    daemon: ServiceDaemon,
    names: Vec<String>,
}

/// Advertises each `(address, instance name)`.
///
/// # Errors
/// When the mDNS daemon cannot start or a record is invalid.
pub fn advertise(services: &[(SocketAddr, String)]) -> Result<Advertiser, mdns_sd::Error> {
    let daemon = ServiceDaemon::new()?;
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "ownvoice".into());
    let mut names = Vec::new();
    for (addr, name) in services {
        let ip = if addr.ip().is_unspecified() {
            String::new()
        } else {
            addr.ip().to_string()
        };
        let mut info = ServiceInfo::new(
            SERVICE_TYPE,
            name,
            &format!("{host}.local."),
            ip.as_str(),
            addr.port(),
            None::<std::collections::HashMap<String, String>>,
        )?;
        if addr.ip().is_unspecified() {
            info = info.enable_addr_auto();
        }
        names.push(info.get_fullname().to_string());
        daemon.register(info)?;
    }
    Ok(Advertiser { daemon, names })
}

impl Drop for Advertiser {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = self.daemon.unregister(n);
        }
        let _ = self.daemon.shutdown();
    }
}
