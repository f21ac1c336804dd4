//! Where the webhook client may connect: the URL check ([`check_url`]:
//! scheme, credentials, allow-list, IP literals) and the resolver that keeps
//! only public addresses ([`is_public`]), so a name that resolves (or
//! rebinds) to an internal address is refused at connect.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

use super::{EndpointPolicy, ResolveRefused, UrlRefused};

/// Parses `url` and checks it against `policy` (see [`check_parsed`]).
pub fn check_url(policy: &EndpointPolicy, url: &str) -> Result<Url, UrlRefused> {
    let parsed = Url::parse(url).map_err(|e| UrlRefused::Unparseable {
        reason: e.to_string(),
    })?;
    check_parsed(policy, &parsed)?;
    Ok(parsed)
}

/// Checks a parsed URL: scheme, no credentials, host on the allow-list, an
/// IP-literal host public. A host name's addresses are checked at connect.
pub fn check_parsed(policy: &EndpointPolicy, url: &Url) -> Result<(), UrlRefused> {
    check_scheme(policy, url.scheme())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefused::Credentials {
            endpoint: origin(url),
        });
    }
    let host = url.host_str().ok_or(UrlRefused::NoHost)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if !host_allowed(&policy.allowed_hosts, host) {
        return Err(UrlRefused::NotAllowed { host: host.into() });
    }
    // The parser writes an IP-literal host canonically (`0x7f.1` is
    // `127.0.0.1`), so a host that parses as an address is one.
    match host.parse::<IpAddr>() {
        Ok(ip) if !policy.allow_private && !is_public(ip) => Err(UrlRefused::NotPublic { ip }),
        _ => Ok(()),
    }
}

fn check_scheme(policy: &EndpointPolicy, scheme: &str) -> Result<(), UrlRefused> {
    let allowed = match (scheme, policy.allow_http) {
        ("https", _) | ("http", true) => return Ok(()),
        (_, true) => "https or http",
        (_, false) => "https",
    };
    Err(UrlRefused::Scheme {
        scheme: scheme.into(),
        allowed,
    })
}

/// `scheme://host[:port]`: what of a URL may be printed.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// Whether `host` is on the allow-list (an empty list allows any host).
fn host_allowed(allowed: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    allowed.is_empty()
        || allowed.iter().any(|entry| {
            let entry = entry.trim().trim_end_matches('.').to_ascii_lowercase();
            match entry.strip_prefix("*.") {
                Some(parent) => host
                    .strip_suffix(parent)
                    .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
                None => host == entry,
            }
        })
}

/// IPv4 networks that are not public: this network, private, CGNAT,
/// loopback, link-local (cloud metadata), IETF protocol assignments,
/// documentation, 6to4 relay, benchmarking, multicast, reserved, broadcast.
#[rustfmt::skip]
const REFUSED_V4: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8), ([10, 0, 0, 0], 8), ([100, 64, 0, 0], 10),
    ([127, 0, 0, 0], 8), ([169, 254, 0, 0], 16), ([172, 16, 0, 0], 12),
    ([192, 0, 0, 0], 24), ([192, 0, 2, 0], 24), ([192, 88, 99, 0], 24),
    ([192, 168, 0, 0], 16), ([198, 18, 0, 0], 15), ([198, 51, 100, 0], 24),
    ([203, 0, 113, 0], 24), ([224, 0, 0, 0], 4), ([240, 0, 0, 0], 4),
];

/// IPv6 networks inside global unicast (2000::/3) that are not public: IETF
/// protocol assignments (Teredo, benchmarking, ORCHID), documentation.
const REFUSED_V6: &[(u128, u32)] = &[
    (0x2001_0000 << 96, 23),
    (0x2001_0db8 << 96, 32),
    (0x3fff_0000 << 96, 20),
];

/// Whether an address is public: reachable on the internet, not an
/// internal, special-purpose or reserved one. An IPv6 address embedding an
/// IPv4 one (mapped, compatible, NAT64, 6to4) is as public as that one;
/// other IPv6 must be global unicast (2000::/3).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !REFUSED_V4
        .iter()
        .any(|&(net, prefix)| (bits ^ u32::from(Ipv4Addr::from(net))) >> (32 - prefix) == 0)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let bits = u128::from(ip);
    let global_unicast = bits >> 125 == 0b001;
    global_unicast
        && !REFUSED_V6
            .iter()
            .any(|&(net, prefix)| (bits ^ net) >> (128 - prefix) == 0)
}

/// The IPv4 address an IPv6 one stands for: mapped (`::ffff:a.b.c.d`),
/// compatible (`::a.b.c.d`, so `::` and `::1` too), NAT64
/// (`64:ff9b::a.b.c.d`), 6to4 (`2002:aabb:ccdd::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        _ => None,
    }
}

/// Resolves with the system resolver and keeps only the addresses the
/// policy allows, so the client connects only to checked addresses.
#[derive(Debug, Clone, Copy)]
pub(super) struct GuardedResolver {
    pub(super) allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if kept.is_empty() && !found.is_empty() {
                return Err(Box::new(ResolveRefused { host }) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}
