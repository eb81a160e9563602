//! Who may call the management API: the bearer token, or a management user by HTTP Basic authentication (the
//! reference product's clients send Basic). A failed Basic login is counted, and the next attempts from the same
//! address wait a bounded, growing delay ([`Users`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::error::ApiError;
use super::users::{constant_time_eq, Users};
use super::AppState;

/// What `Authorization` presents.
enum Presented {
    Bearer(String),
    Basic { username: String, password: String },
    Nothing,
    Unreadable,
}

/// Lets a request through with the bearer token or a management user's Basic credentials.
pub(super) async fn require_credentials(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match presented(&request) {
        Presented::Bearer(token) if constant_time_eq(token.as_bytes(), state.token.as_bytes()) => {
            next.run(request).await
        }
        Presented::Bearer(_) => refused("invalid bearer token"),
        Presented::Basic { username, password } => {
            let address = source(&request);
            if signs_in(&state.users, address, username, password).await {
                next.run(request).await
            } else {
                refused("invalid username or password")
            }
        }
        Presented::Unreadable => refused("the Authorization header is not a readable Bearer or Basic credential"),
        Presented::Nothing => refused("a bearer token or Basic credentials are required"),
    }
}

/// Checks a Basic login from `address` after the delay its recent failures earned, off the async workers.
async fn signs_in(users: &std::sync::Arc<Users>, address: IpAddr, username: String, password: String) -> bool {
    let delay = users.delay(address);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let checking = std::sync::Arc::clone(users);
    let verified = tokio::task::spawn_blocking(move || checking.verify(&username, &password)).await.unwrap_or(false);
    users.record(address, verified);
    if !verified {
        tracing::warn!(address = %address, "management login failed");
    }
    verified
}

fn presented(request: &Request) -> Presented {
    let Some(value) = request.headers().get(AUTHORIZATION) else {
        return Presented::Nothing;
    };
    let Ok(value) = value.to_str() else {
        return Presented::Unreadable;
    };
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Presented::Bearer(token.to_string());
    }
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return Presented::Unreadable;
    };
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok();
    let text = decoded.and_then(|bytes| String::from_utf8(bytes).ok());
    match text.as_deref().and_then(|text| text.split_once(':')) {
        Some((username, password)) => {
            Presented::Basic { username: username.to_string(), password: password.to_string() }
        }
        None => Presented::Unreadable,
    }
}

/// The caller's address (unspecified when the server was not told it).
fn source(request: &Request) -> IpAddr {
    let connected = request.extensions().get::<ConnectInfo<SocketAddr>>();
    connected.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(address)| address.ip())
}

/// A 401 that offers both schemes.
fn refused(why: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why).into_response();
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"gateway\", Bearer"));
    response
}
