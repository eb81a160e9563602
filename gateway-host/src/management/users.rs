//! Management users for HTTP Basic authentication, as the reference product's clients send it: the configured
//! `management.users` (Argon2 PHC hashes) and one user from the environment (`GATEWAY_MANAGEMENT_USERNAME` and
//! `GATEWAY_MANAGEMENT_PASSWORD`, set by a secret manager: never read from a file, never written or logged). Failed
//! logins are counted and slowed per source address, with a bounded delay: never a lockout.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::config::ManagementUser;

/// The environment variable naming the environment's user.
pub const USERNAME_VARIABLE: &str = "GATEWAY_MANAGEMENT_USERNAME";
/// The environment variable holding the environment user's password.
pub const PASSWORD_VARIABLE: &str = "GATEWAY_MANAGEMENT_PASSWORD";
/// The first delay after a failed login from an address; each further failure doubles it.
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest delay: an address is slowed, never locked out.
const MAX_DELAY: Duration = Duration::from_secs(5);
/// An address whose last failure is older than this starts again without delay.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at most (the oldest are forgotten first when more fail).
const MAX_ADDRESSES: usize = 10_000;

/// Who may sign in with Basic authentication.
pub struct Users {
    /// Username and PHC hash (checked at start) of each configured user.
    configured: Vec<(String, String)>,
    /// The environment's user and password.
    from_environment: Option<(String, String)>,
    /// Recent failures per source address: how many, and when the last was.
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    /// Failed logins since start.
    failed: AtomicU64,
}

impl Users {
    /// The configured users and, when both variables are set in `env`, the environment's user; an error when only
    /// one of the two is set, or a hash is not a PHC string.
    pub fn new(configured: &[ManagementUser], env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        for (index, user) in configured.iter().enumerate() {
            PasswordHash::new(&user.password_hash).map_err(|error| {
                format!("management.users[{index}].password_hash: not an Argon2 PHC string ({error})")
            })?;
            if user.username.trim().is_empty() {
                return Err(format!("management.users[{index}].username: must not be empty"));
            }
        }
        let from_environment = match (env(USERNAME_VARIABLE), env(PASSWORD_VARIABLE)) {
            (Some(username), Some(password)) if !username.is_empty() && !password.is_empty() => {
                Some((username, password))
            }
            (None, None) => None,
            _ => return Err(format!("{USERNAME_VARIABLE} and {PASSWORD_VARIABLE} are set together, neither empty")),
        };
        Ok(Self {
            configured: configured.iter().map(|user| (user.username.clone(), user.password_hash.clone())).collect(),
            from_environment,
            failures: Mutex::default(),
            failed: AtomicU64::new(0),
        })
    }

    /// Whether `username` signs in with `password`. Blocking: an Argon2 verification costs milliseconds of CPU.
    pub fn verify(&self, username: &str, password: &str) -> bool {
        if let Some((name, secret)) = &self.from_environment {
            if name == username {
                return constant_time_eq(secret.as_bytes(), password.as_bytes());
            }
        }
        let Some((_, hash)) = self.configured.iter().find(|(name, _)| name == username) else {
            return false;
        };
        let Ok(hash) = PasswordHash::new(hash) else {
            return false;
        };
        Argon2::default().verify_password(password.as_bytes(), &hash).is_ok()
    }

    /// How long a login attempt from `address` waits before it is checked (its recent failures).
    pub fn delay(&self, address: IpAddr) -> Duration {
        let failures = self.failures.lock().expect("failures lock");
        match failures.get(&address) {
            Some((count, last)) if last.elapsed() < FORGET_AFTER => {
                FIRST_DELAY.saturating_mul(1 << (*count - 1).min(10)).min(MAX_DELAY)
            }
            _ => Duration::ZERO,
        }
    }

    /// Notes the result of a login from `address`: a success forgets its failures.
    pub fn record(&self, address: IpAddr, succeeded: bool) {
        let mut failures = self.failures.lock().expect("failures lock");
        if succeeded {
            failures.remove(&address);
            return;
        }
        self.failed.fetch_add(1, Ordering::Relaxed);
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(&address) {
            failures.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
            if failures.len() >= MAX_ADDRESSES {
                let oldest = failures.iter().min_by_key(|(_, (_, last))| *last).map(|(address, _)| *address);
                oldest.map(|oldest| failures.remove(&oldest));
            }
        }
        let entry = failures.entry(address).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FORGET_AFTER {
            entry.0 = 0;
        }
        *entry = (entry.0.saturating_add(1), Instant::now());
    }

    /// Failed logins since start.
    pub fn failed_logins(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// An Argon2id PHC string of `password` with a fresh random salt (`gateway-host hash-password`).
pub fn hash_password(password: &str) -> Result<String, String> {
    // 16 bytes from the system's generator (a version 4 UUID's are).
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|error| format!("cannot make a salt: {error}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| format!("cannot hash the password: {error}"))
}

/// Compares without stopping at the first difference, so that timing does not reveal a secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(username: &str, password: &str) -> ManagementUser {
        ManagementUser { username: username.into(), password_hash: hash_password(password).unwrap() }
    }

    #[test]
    fn configured_and_environment_users_sign_in_with_their_password_only() {
        let env = |name: &str| match name {
            USERNAME_VARIABLE => Some("ci".to_string()),
            PASSWORD_VARIABLE => Some("from-vault".to_string()),
            _ => None,
        };
        let users = Users::new(&[user("admin", "correct horse")], env).unwrap();
        assert!(users.verify("admin", "correct horse"));
        assert!(!users.verify("admin", "wrong"));
        assert!(!users.verify("nobody", "correct horse"));
        assert!(users.verify("ci", "from-vault"));
        assert!(!users.verify("ci", "from-vaul"));
    }

    #[test]
    fn bad_hashes_and_half_an_environment_user_are_refused() {
        let bad = ManagementUser { username: "admin".into(), password_hash: "plain".into() };
        let refused = Users::new(&[bad], |_| None).err().expect("refused");
        assert!(refused.starts_with("management.users[0].password_hash"), "{refused}");
        let half = |name: &str| (name == USERNAME_VARIABLE).then(|| "ci".to_string());
        assert!(Users::new(&[], half).is_err());
    }

    #[test]
    fn failures_slow_an_address_within_a_bound_and_a_success_forgets_them() {
        let users = Users::new(&[], |_| None).unwrap();
        let address: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(users.delay(address), Duration::ZERO);
        users.record(address, false);
        assert_eq!(users.delay(address), FIRST_DELAY);
        for _ in 0..40 {
            users.record(address, false);
        }
        assert_eq!(users.delay(address), MAX_DELAY);
        assert_eq!(users.failed_logins(), 41);
        users.record(address, true);
        assert_eq!(users.delay(address), Duration::ZERO);
    }
}
