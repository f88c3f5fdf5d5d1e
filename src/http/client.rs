//! Which client sent a request, for rate limits: the peer address, or behind a proxy the address
//! that proxy reports in the header named by `CLIENT_IP_HEADER`.
use std::net::{IpAddr, Ipv4Addr};

use poem::Request;

pub fn client_ip(req: &Request, header: Option<&str>) -> IpAddr {
    if let Some(name) = header
        && let Some(ip) = req
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            // The proxy appends the address it saw: the last entry is the one it vouches for.
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return ip;
    }
    req.remote_addr().as_socket_addr().map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}
