//! Sessions, CSRF tokens and login rate limits, all in memory (a restart logs everyone out).
//!
//! A session is a random 256-bit token in the cookie `confer_session` (HttpOnly,
//! SameSite=Strict, Secure under HTTPS, path `/`); it carries its own CSRF token, which
//! every form holds in the hidden field `_csrf` and every POST must send back, compared in
//! constant time. The login form, before any session exists, uses a double-submit token:
//! the cookie `confer_login` and the form field must match. Login failures are counted per
//! account and per client address in a sliding window; past the limit further attempts are
//! refused without checking the password.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use rand::RngExt;

pub const SESSION_COOKIE: &str = "confer_session";
pub const LOGIN_COOKIE: &str = "confer_login";
pub const LANG_COOKIE: &str = "confer_lang";
/// A session unused this long ends.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// Failed logins allowed per account, and per client address, within [`WINDOW`].
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Sessions kept at most (the oldest go first).
const MAX_SESSIONS: usize = 10_000;

/// 32 random bytes, hex.
pub fn random_token() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// Constant-time equality of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// One logged-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: String,
    pub csrf: String,
    /// The previous visit (unix ms): "new since my last visit" counts from here.
    pub since_ms: i64,
    /// The salt of the password hash the session was opened with: once the account's
    /// password changes anywhere (another session, `confer account reset`), the session ends.
    pub password_salt: String,
    last_used: Instant,
}

#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session; answers its token.
    pub fn open(&self, account: &str, since_ms: i64, password_salt: &str) -> String {
        let token = random_token();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.last_used.elapsed() < IDLE);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            token.clone(),
            Session {
                account: account.to_owned(),
                csrf: random_token(),
                since_ms,
                password_salt: password_salt.to_owned(),
                last_used: Instant::now(),
            },
        );
        token
    }

    /// The live session of `token`, touched.
    pub fn get(&self, token: &str) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let session = map.get_mut(token)?;
        if session.last_used.elapsed() >= IDLE {
            map.remove(token);
            return None;
        }
        session.last_used = Instant::now();
        Some(session.clone())
    }

    /// The session's account changed its password here: the session stays.
    pub fn set_password_salt(&self, token: &str, salt: &str) {
        if let Some(s) = self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(token)
        {
            s.password_salt = salt.to_owned();
        }
    }

    pub fn close(&self, token: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(token);
    }

    /// Ends every session of an account (its password changed, or it was removed),
    /// except `keep`.
    pub fn close_account(&self, account: &str, keep: Option<&str>) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|token, s| s.account != account || Some(token.as_str()) == keep);
    }
}

/// Failed logins per account and per address.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    fn keys(account: &str, ip: IpAddr) -> [String; 2] {
        [format!("account:{account}"), format!("ip:{ip}")]
    }

    /// Whether another attempt may be checked now.
    pub fn allowed(&self, account: &str, ip: IpAddr) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let [by_account, by_ip] = Self::keys(account, ip);
        let mut recent = |key: &str| {
            map.get_mut(key).map_or(0, |times| {
                times.retain(|t| t.elapsed() < WINDOW);
                times.len()
            })
        };
        recent(&by_account) < MAX_FAILURES_PER_ACCOUNT && recent(&by_ip) < MAX_FAILURES_PER_ADDRESS
    }

    pub fn failed(&self, account: &str, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, times| times.iter().any(|t| t.elapsed() < WINDOW));
        }
        for key in Self::keys(account, ip) {
            map.entry(key).or_default().push(Instant::now());
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn succeeded(&self, account: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&format!("account:{account}"));
    }
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure under HTTPS;
/// `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut out = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        out.push_str("; Secure");
    }
    if let Some(age) = max_age {
        out.push_str(&format!("; Max-Age={age}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_stops_an_account_after_five_failures_and_an_address_after_twenty() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            assert!(limiter.allowed("a", ip));
            limiter.failed("a", ip);
        }
        assert!(!limiter.allowed("a", ip));
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(
            !limiter.allowed("a", other),
            "per account, from any address"
        );
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            limiter.failed(&format!("x{i}"), other);
        }
        assert!(
            !limiter.allowed("fresh", other),
            "per address, for any account"
        );
        assert!(limiter.allowed("fresh", ip));
    }

    #[test]
    fn tokens_compare_exactly() {
        let t = random_token();
        assert!(same_token(&t, &t.clone()));
        assert!(!same_token(&t, &t[1..]));
        assert!(!same_token(&t, &random_token()));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "a=1; confer_session=abc; b=2".parse().expect("header"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
        assert!(set_cookie("x", "y", true, None).contains("Secure"));
        assert!(!set_cookie("x", "y", false, None).contains("Secure"));
    }
}
