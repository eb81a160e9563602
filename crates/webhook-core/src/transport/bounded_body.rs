//! Reading at most a bounded prefix of an answer's body: a callback or a token endpoint that streams gigabytes
//! costs the gateway no more than the limit. What is past the limit is never read; the connection is then dropped
//! rather than returned to the pool.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

/// The start of a body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyPrefix {
    /// At most the limit's worth of bytes.
    pub bytes: Bytes,
    /// Whether the body ended within the limit.
    pub complete: bool,
}

/// Reads `body` up to `limit` bytes. The body is dropped unread past that.
pub async fn read_prefix<B>(body: B, limit: usize) -> Result<BodyPrefix, B::Error>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    let mut body = body;
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        let room = limit - read.len();
        if data.len() > room {
            read.extend_from_slice(&data[..room]);
            return Ok(BodyPrefix { bytes: read.freeze(), complete: false });
        }
        read.extend_from_slice(&data);
    }
    Ok(BodyPrefix { bytes: read.freeze(), complete: true })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;
    use http_body_util::Full;
    use hyper::body::{Body, Frame};

    /// A body that never ends.
    struct Endless;

    impl Body for Endless {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 1000])))))
        }
    }

    #[tokio::test]
    async fn a_short_body_is_read_whole() {
        let prefix = read_prefix(Full::new(Bytes::from_static(b"ok")), 10).await.unwrap();
        assert_eq!(prefix, BodyPrefix { bytes: Bytes::from_static(b"ok"), complete: true });
    }

    #[tokio::test]
    async fn an_endless_body_is_cut_at_the_limit() {
        let prefix = read_prefix(Endless, 2500).await.unwrap();
        assert_eq!(prefix.bytes.len(), 2500);
        assert!(!prefix.complete);
    }
}
