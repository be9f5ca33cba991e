//! The HTTP agent for one URL: bounded waits (for a connection, for the response, and for each read of the
//! body, so that a stalled server ends the attempt), the proxy the environment names for the URL's scheme, and
//! the roots TLS certificates are checked against.

use std::time::Duration;

use ureq::Proxy;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

use super::DownloadError;

/// Seconds without a byte after which a download is given up as stalled (and resumed).
pub const IDLE_VARIABLE: &str = "NST_DOWNLOAD_IDLE_SECONDS";
/// A minute: a server that has sent nothing for that long is not slow, it is stuck.
const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// How long a download waits for the next byte: [`IDLE_VARIABLE`] seconds, else [`DEFAULT_IDLE`].
pub fn idle_timeout() -> Duration {
    seconds_from(IDLE_VARIABLE).unwrap_or(DEFAULT_IDLE)
}

/// A positive number of seconds (fractions allowed) from the environment variable `variable`.
pub fn seconds_from(variable: &str) -> Option<Duration> {
    let value = std::env::var(variable).ok()?;
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// The agent for requests to `url`. Statuses are not errors here: the caller reads `Retry-After` from a 429
/// or a 503 before deciding.
pub fn agent_for(url: &str) -> Result<ureq::Agent, DownloadError> {
    let environment = |name: &str| std::env::var(name).ok();
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(idle_timeout()))
        .proxy(proxy_for(url, environment)?)
        .tls_config(TlsConfig::builder().root_certs(trust_roots(environment)?).build())
        .user_agent(concat!("nst/", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(ureq::Agent::new_with_config(config))
}

/// The proxy variable that applies to `url` and its value: for https, `HTTPS_PROXY` before `ALL_PROXY` (as
/// curl reads them; ureq alone would take `ALL_PROXY` first), for http, `HTTP_PROXY` before `ALL_PROXY`.
fn proxy_setting(url: &str, environment: impl Fn(&str) -> Option<String>) -> Option<(&'static str, String)> {
    let https = url.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    let names: [&'static str; 4] = if https {
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    names.into_iter().find_map(|name| environment(name).filter(|v| !v.trim().is_empty()).map(|v| (name, v)))
}

/// The proxy for `url` with the hosts of `NO_PROXY` left out (ureq matches them), or none. A proxy URL ureq
/// cannot use is refused with the variable that holds it, not skipped.
fn proxy_for(url: &str, environment: impl Fn(&str) -> Option<String>) -> Result<Option<Proxy>, DownloadError> {
    let Some((variable, value)) = proxy_setting(url, &environment) else { return Ok(None) };
    let refused = |why: &str| DownloadError::Setting {
        setting: format!("{variable}={value}"),
        reason: format!("cannot be used as a proxy: {why}"),
    };
    let named = Proxy::new(value.trim()).map_err(|err| {
        refused(&format!("{err} (expected http://HOST:PORT, https://, socks4://, socks4a://, socks5:// or socks5h://)"))
    })?;
    let no_proxy = environment("NO_PROXY").or_else(|| environment("no_proxy")).unwrap_or_default();
    let mut builder =
        Proxy::builder(named.protocol()).host(named.host()).port(named.port()).resolve_target(named.resolve_target());
    if let Some(username) = named.username() {
        builder = builder.username(username);
    }
    if let Some(password) = named.password() {
        builder = builder.password(password);
    }
    for host in no_proxy.split(',') {
        builder = builder.no_proxy(host.trim());
    }
    builder.build().map(Some).map_err(|err| refused(&err.to_string()))
}

/// The certificates of `SSL_CERT_FILE` (a PEM bundle, as OpenSSL reads it: it replaces the default roots) when
/// set, else the web's roots bundled in the program. A TLS-inspecting proxy signs with an organisation's own CA,
/// which only that bundle holds.
fn trust_roots(environment: impl Fn(&str) -> Option<String>) -> Result<RootCerts, DownloadError> {
    let Some(path) = environment("SSL_CERT_FILE").filter(|p| !p.is_empty()) else { return Ok(RootCerts::WebPki) };
    let refused = |reason: String| DownloadError::Setting { setting: format!("SSL_CERT_FILE={path}"), reason };
    let pem = std::fs::read(&path).map_err(|err| refused(format!("cannot read it: {err}")))?;
    let certificates: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect();
    if certificates.is_empty() {
        return Err(refused("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
    }
    Ok(RootCerts::from(certificates))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn https_proxy_comes_before_all_proxy_for_https_and_http_proxy_for_http() {
        let env = environment(&[("ALL_PROXY", "http://all:1"), ("HTTPS_PROXY", "http://secure:2")]);
        assert_eq!(proxy_setting("https://huggingface.co/x", &env), Some(("HTTPS_PROXY", "http://secure:2".into())));
        assert_eq!(proxy_setting("http://mirror/x", &env), Some(("ALL_PROXY", "http://all:1".into())));
        let env = environment(&[("all_proxy", "socks5h://socks:1080"), ("http_proxy", "http://plain:3")]);
        assert_eq!(proxy_setting("HTTPS://hub/x", &env), Some(("all_proxy", "socks5h://socks:1080".into())));
        assert_eq!(proxy_setting("http://mirror/x", &env), Some(("http_proxy", "http://plain:3".into())));
        assert_eq!(proxy_setting("https://hub/x", environment(&[("HTTPS_PROXY", " ")])), None);
    }

    #[test]
    fn socks_proxies_are_used_and_no_proxy_hosts_bypass_them() {
        let env = environment(&[("ALL_PROXY", "socks5h://user:pw@socks.internal:1080"), ("NO_PROXY", "hub, .corp")]);
        let proxy = proxy_for("https://hub/x", &env).unwrap().unwrap();
        assert_eq!((proxy.host(), proxy.port(), proxy.username()), ("socks.internal", 1080, Some("user")));
        assert!(proxy.protocol() == ureq::ProxyProtocol::Socks5h && !proxy.resolve_target());
        assert!(proxy.is_no_proxy(&"https://hub/x".parse().unwrap()));
        assert!(proxy.is_no_proxy(&"https://a.corp/x".parse().unwrap()));
        assert!(!proxy.is_no_proxy(&"https://huggingface.co/x".parse().unwrap()));
    }

    #[test]
    fn a_proxy_that_cannot_be_used_is_refused_with_its_variable() {
        let env = environment(&[("HTTPS_PROXY", "ftp://proxy:21")]);
        let err = proxy_for("https://hub/x", &env).unwrap_err().to_string();
        assert!(err.contains("HTTPS_PROXY=ftp://proxy:21: cannot be used as a proxy"), "{err}");
    }

    #[test]
    fn ssl_cert_file_must_hold_certificates() {
        assert!(matches!(trust_roots(environment(&[])), Ok(RootCerts::WebPki)));
        let path = std::env::temp_dir().join(format!("nst-no-certificates-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = trust_roots(environment(&[("SSL_CERT_FILE", path.to_str().unwrap())])).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(err.contains("SSL_CERT_FILE=") && err.contains("no PEM certificate"), "{err}");
        let err = trust_roots(environment(&[("SSL_CERT_FILE", "/nonexistent/ca.pem")])).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem") && err.contains("cannot read it"), "{err}");
    }
}
