//! The server's listener: TCP, with the client's address for the handlers, and hyper's
//! own error answers given the JSON error body.
//!
//! hyper answers some requests before any of our code sees them: a request line over
//! 64 KiB (`414 URI Too Long`: `http::Uri` holds at most 65,534 bytes), a head over its
//! buffer (`431`), a request line it can't parse (`400`). It writes a bare status line
//! with `content-length: 0`, and offers no hook to change that. So the connection's
//! writer, [`JsonErrors`], recognises exactly those answers (a head with one of these
//! statuses, `content-length: 0` and nothing after it; every answer of ours to these
//! statuses has a body) and writes the same status with
//! `{"error": {"code", "message"}}` instead. hyper closes the connection after such an
//! answer, so nothing follows it on the wire.
//!
//! Alternatives: a middleware limit below hyper's (it can't see what hyper refused
//! already), or a proxy in front (outside the binary).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections answer hyper's parse errors with the JSON body.
#[derive(Debug)]
pub struct JsonListener(pub TcpListener);

impl Listener for JsonListener {
    type Io = JsonErrors<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        (JsonErrors::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// The peer of a connection, as `ConnectInfo` gives it to handlers.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, JsonListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, JsonListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A connection whose bare parse-error answers are rewritten (see the module doc).
#[derive(Debug)]
pub struct JsonErrors<T> {
    inner: T,
    /// A replacement being written, how much of it is written, and the length of the
    /// buffer it replaces.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> JsonErrors<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        JsonErrors { inner, pending: None }
    }
}

/// The JSON answer for hyper's bare answer `head`, if it is one.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let (status, code, message) = [
        ("414", "uri_too_long", "the request line is too long (at most 64 KiB)"),
        ("431", "headers_too_large", "the request's headers are too large"),
        ("400", "invalid", "the request could not be parsed"),
    ]
    .into_iter()
    .find(|(status, _, _)| text.starts_with(&format!("HTTP/1.1 {status} ")))?;
    let lower = text.to_ascii_lowercase();
    if !lower.ends_with("\r\n\r\n") || !lower.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let reason = text.lines().next()?.splitn(3, ' ').nth(2)?;
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonErrors<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonErrors<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.pending.is_none() {
            match replacement(buf) {
                Some(bytes) => self.pending = Some((bytes, 0, buf.len())),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        let this = &mut *self;
        while let Some((bytes, written, replaces)) = &mut this.pending {
            let rest = bytes.get(*written..).unwrap_or_default();
            if rest.is_empty() {
                let replaces = *replaces;
                this.pending = None;
                return Poll::Ready(Ok(replaces));
            }
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn only_bare_parse_error_answers_are_replaced() {
        let bare = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Thu, 03 Dec 2026 10:00:00 GMT\r\n\r\n";
        let json = String::from_utf8(replacement(bare).unwrap()).unwrap();
        assert!(json.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{json}");
        assert!(json.ends_with(
            r#"{"error":{"code":"uri_too_long","message":"the request line is too long (at most 64 KiB)"}}"#
        ));
        let ours =
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"error\":{}}";
        assert!(replacement(ours).is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
