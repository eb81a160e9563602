//! What a delivery's last attempt means for the message (SPEC §5, outcome table).

use crate::transport::attempt::AttemptResult;

/// The meaning of a delivery's last attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx: the message is settled.
    Delivered,
    /// 3xx or 4xx: the callback refused this message; retrying will not help.
    Refused {
        /// Why, for the failure cause.
        reason: String,
    },
    /// 5xx, or no answer: the callback is unavailable.
    Unavailable {
        /// Why, for the failure cause.
        reason: String,
        /// Whether the configuration says to stop the subscription on this.
        interrupt: bool,
    },
}

/// The interrupt flags of the entrypoint configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InterruptFlags {
    /// `interruptConsumptionOnServerError`.
    pub(crate) on_server_error: bool,
    /// `interruptConsumptionOnException`.
    pub(crate) on_exception: bool,
    /// Retries are configured: a 429 (slow down) that outlives them counts as a 5xx, not as a refusal.
    pub(crate) slow_down_is_unavailable: bool,
}

impl InterruptFlags {
    /// Classifies the last attempt of a delivery.
    pub(crate) fn judge(self, result: &AttemptResult) -> Outcome {
        match result {
            AttemptResult::Answered(status) if status.is_success() => Outcome::Delivered,
            AttemptResult::Answered(status)
                if status.is_server_error()
                    || (self.slow_down_is_unavailable && *status == http::StatusCode::TOO_MANY_REQUESTS) =>
            {
                Outcome::Unavailable { reason: format!("callback answered {status}"), interrupt: self.on_server_error }
            }
            AttemptResult::Answered(status) => Outcome::Refused { reason: format!("callback answered {status}") },
            AttemptResult::Failed(error) => {
                Outcome::Unavailable { reason: format!("callback call failed: {error}"), interrupt: self.on_exception }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::attempt::{CallbackError, CallbackErrorKind};
    use http::StatusCode;

    const STOP_ON_BOTH: InterruptFlags =
        InterruptFlags { on_server_error: true, on_exception: true, slow_down_is_unavailable: false };
    const STOP_ON_NEITHER: InterruptFlags =
        InterruptFlags { on_server_error: false, on_exception: false, slow_down_is_unavailable: false };

    fn answered(code: u16) -> AttemptResult {
        AttemptResult::Answered(StatusCode::from_u16(code).unwrap())
    }

    #[test]
    fn success_settles_and_client_errors_refuse() {
        assert_eq!(STOP_ON_NEITHER.judge(&answered(204)), Outcome::Delivered);
        assert_eq!(
            STOP_ON_NEITHER.judge(&answered(302)),
            Outcome::Refused { reason: "callback answered 302 Found".into() }
        );
        assert!(matches!(STOP_ON_NEITHER.judge(&answered(404)), Outcome::Refused { .. }));
    }

    #[test]
    fn server_errors_and_exceptions_follow_their_flags() {
        assert!(matches!(STOP_ON_BOTH.judge(&answered(503)), Outcome::Unavailable { interrupt: true, .. }));
        assert!(matches!(STOP_ON_NEITHER.judge(&answered(503)), Outcome::Unavailable { interrupt: false, .. }));
        let refused = AttemptResult::Failed(CallbackError {
            kind: CallbackErrorKind::ConnectionRefused,
            detail: "Connection refused".into(),
        });
        let flags = InterruptFlags { on_server_error: false, on_exception: true, slow_down_is_unavailable: false };
        assert_eq!(
            flags.judge(&refused),
            Outcome::Unavailable {
                reason: "callback call failed: Connection refused (CONNECTION_REFUSED)".into(),
                interrupt: true
            }
        );
    }

    #[test]
    fn a_429_is_a_refusal_unless_retries_are_configured() {
        assert!(matches!(STOP_ON_BOTH.judge(&answered(429)), Outcome::Refused { .. }));
        let retrying = InterruptFlags { slow_down_is_unavailable: true, ..STOP_ON_NEITHER };
        assert!(matches!(retrying.judge(&answered(429)), Outcome::Unavailable { interrupt: false, .. }));
        assert!(matches!(retrying.judge(&answered(404)), Outcome::Refused { .. }));
    }
}
