//! Files as downloads: a body made a chunk at a time (the CSV exports of a segment and of
//! a view), and the headers every download carries.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use kartoteka_core::Error;
use kartoteka_core::segments::export::SegmentCsv;
use kartoteka_core::views::export::ViewExport;

/// A file made a chunk at a time; `None` at its end.
pub trait Chunks: Send + 'static {
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Vec<u8>>, Error>> + Send;
}

impl Chunks for SegmentCsv {
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Vec<u8>>, Error>> + Send {
        SegmentCsv::next_chunk(self)
    }
}

impl Chunks for ViewExport {
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Vec<u8>>, Error>> + Send {
        self.next_csv_chunk()
    }
}

/// The body of `source`: its first two chunks (the header and the first rows) are read
/// before answering, so that a failure there is an error status; the rest is streamed a
/// chunk at a time, and a failure then ends the download (and is logged).
pub async fn streamed(mut source: impl Chunks) -> Result<Body, Error> {
    let mut first = Vec::new();
    for _ in 0..2 {
        if let Some(chunk) = source.next_chunk().await? {
            first.extend(chunk);
        }
    }
    let rest = futures_util::stream::try_unfold(source, |mut source| async move {
        match source.next_chunk().await {
            Ok(chunk) => Ok(chunk.map(|c| (Bytes::from(c), source))),
            Err(e) => {
                tracing::error!(error = %e, "a download stopped");
                Err(e)
            }
        }
    });
    let head = futures_util::stream::once(async move { Ok(Bytes::from(first)) });
    Ok(Body::from_stream(head.chain(rest)))
}

/// `body` as a download of `file_name` (ASCII, from `kartoteka_core::sheet::file_slug`),
/// never cached.
pub fn attachment(body: Body, content_type: &'static str, file_name: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}
