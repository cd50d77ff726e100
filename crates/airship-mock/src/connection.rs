//! A TCP listener whose connections a handler can drop mid-request, for the drop-connection
//! fault.
//!
//! Each accepted stream shares a flag with a [`ConnectionHandle`] that reaches the handlers
//! through axum's `ConnectInfo`. Once the flag is set, every read ends the stream and every write
//! fails, so hyper closes the connection without writing the response.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Listener that hands out [`DroppableStream`]s.
#[derive(Debug)]
pub(crate) struct DroppableListener {
    inner: TcpListener,
}

impl DroppableListener {
    pub(crate) fn new(inner: TcpListener) -> DroppableListener {
        DroppableListener { inner }
    }
}

impl Listener for DroppableListener {
    type Io = DroppableStream;
    type Addr = ConnectionHandle;

    async fn accept(&mut self) -> (DroppableStream, ConnectionHandle) {
        // axum's own TcpListener impl retries and logs accept errors.
        let (stream, _remote_addr) = Listener::accept(&mut self.inner).await;
        let dropped = Arc::new(AtomicBool::new(false));
        let handle = ConnectionHandle {
            dropped: dropped.clone(),
        };
        (
            DroppableStream {
                inner: stream,
                dropped,
            },
            handle,
        )
    }

    /// Returns a handle that no connection shares, after checking the socket is still bound.
    fn local_addr(&self) -> io::Result<ConnectionHandle> {
        self.inner.local_addr()?;
        Ok(ConnectionHandle {
            dropped: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// The handlers' side of one connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionHandle {
    dropped: Arc<AtomicBool>,
}

impl ConnectionHandle {
    /// Makes the connection fail before the response is written.
    pub(crate) fn drop_connection(&self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, DroppableListener>> for ConnectionHandle {
    fn connect_info(stream: IncomingStream<'_, DroppableListener>) -> ConnectionHandle {
        stream.remote_addr().clone()
    }
}

/// A TCP stream that reads as closed and fails every write once its connection is dropped.
#[derive(Debug)]
pub(crate) struct DroppableStream {
    inner: TcpStream,
    dropped: Arc<AtomicBool>,
}

impl DroppableStream {
    fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
}

fn dropped_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by an injected fault",
    )
}

impl AsyncRead for DroppableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.is_dropped() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for DroppableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.is_dropped() {
            return Poll::Ready(Err(dropped_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.is_dropped() {
            return Poll::Ready(Err(dropped_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.is_dropped() {
            return Poll::Ready(Err(dropped_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
