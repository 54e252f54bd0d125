//! Form uploads go to disk as they arrive, never whole into memory.
//!
//! `s3s` 0.14.1 reads a form's entire file into memory before it checks the policy's
//! `content-length-range` (`aggregate_file_stream_limited`): four 90 MiB uploads peaked at 250–365 MB. It
//! cannot be told otherwise, so the front door gives it a *stand-in*: the form's (checked,
//! rewritten) fields, then as many bytes as the real file has — all zeros, borrowed from one
//! static buffer, so they cost no memory — then the closing boundary. `s3s` pulls the stand-in
//! only after it has verified the signature and the policy's expiry; as it does, the real file is
//! read from the connection and written to a spool file under `DATA_DIR/.incoming/`. `s3s` then
//! checks every condition against the true size and, on the way to `s3s-fs`, its access hook
//! ([`SpooledUploads`]) swaps the stand-in for a stream from the spool file. A refused or broken
//! upload leaves nothing: the spool file is removed when its request ends.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use http_body_util::StreamBody;
use hyper::body::Frame;
use s3s::access::S3Access;
use s3s::dto::{PostObjectInput, StreamingBlob};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result};
use tokio::io::AsyncWriteExt as _;

use super::file_end::FileEnd;

/// The zeros the stand-in is made of (never written, so never resident).
static ZEROS: [u8; 256 * 1024] = [0; 256 * 1024];
/// How much of a spool file is read at a time.
const READ_CHUNK: usize = 256 * 1024;
/// The spool folder, under the data directory (not a valid bucket name, so never listed).
const FOLDER: &str = ".incoming";

/// The folder where form uploads wait for `s3s`'s checks.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// Makes `DATA_DIR/.incoming`, emptied of files a stopped process left behind.
    pub fn prepare(data_dir: &Path) -> std::io::Result<Self> {
        let dir = data_dir.join(FOLDER);
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "part") {
                std::fs::remove_file(path)?;
            }
        }
        Ok(Spool { dir })
    }

    /// The body `s3s` reads for a form: `head` (the rewritten fields and file part headers),
    /// then a stand-in for the file, whose real bytes are `first` and then `rest` up to the
    /// client's `\r\n--boundary`, then the closing of `own_boundary`. The real bytes go to a
    /// spool file that the returned slot holds once the stand-in is complete.
    pub fn stand_in<S, E>(
        &self,
        head: Vec<u8>,
        first: Bytes,
        rest: S,
        boundary: &str,
        own_boundary: &str,
    ) -> (s3s::Body, SpoolSlot)
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let slot = SpoolSlot::default();
        let feed = Feed {
            head: Some(Bytes::from(head)),
            first: Some(first).filter(|b| !b.is_empty()),
            rest,
            end: FileEnd::new(boundary),
            dir: self.dir.clone(),
            writer: None,
            written: 0,
            zeros_owed: 0,
            closing: Some(Bytes::from(super::form::closing(own_boundary))),
            ended: false,
            slot: slot.clone(),
        };
        let stream = futures_util::stream::unfold(Some(feed), |feed| async move {
            let mut feed = feed?;
            match feed.next().await {
                Ok(Some(bytes)) => Some((Ok(Frame::data(bytes)), Some(feed))),
                Ok(None) => None,
                Err(error) => Some((Err(error), None)),
            }
        });
        (s3s::Body::http_body_unsync(StreamBody::new(stream)), slot)
    }
}

/// A spool file's path; the file is removed when this is dropped.
#[derive(Debug)]
struct SpoolPath(PathBuf);

impl Drop for SpoolPath {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.0)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::debug!(%error, path = %self.0.display(), "development store: spool file not removed");
        }
    }
}

/// A form's complete file, waiting on disk.
#[derive(Debug)]
struct SpooledFile {
    path: SpoolPath,
    len: u64,
}

/// Where a request's spooled file is, once the stand-in has been read to its end; travels with
/// the request (as an extension) from the front door to [`SpooledUploads`].
#[derive(Debug, Clone, Default)]
pub struct SpoolSlot(Arc<Mutex<Option<SpooledFile>>>);

impl SpoolSlot {
    fn put(&self, file: SpooledFile) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
    }

    fn take(&self) -> Option<SpooledFile> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The stand-in's state.
struct Feed<S> {
    head: Option<Bytes>,
    first: Option<Bytes>,
    rest: S,
    end: FileEnd,
    dir: PathBuf,
    writer: Option<(tokio::fs::File, SpoolPath)>,
    written: u64,
    zeros_owed: usize,
    closing: Option<Bytes>,
    ended: bool,
    slot: SpoolSlot,
}

impl<S, E> Feed<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    async fn next(&mut self) -> std::io::Result<Option<Bytes>> {
        if let Some(head) = self.head.take() {
            return Ok(Some(head));
        }
        loop {
            if self.zeros_owed > 0 {
                let n = self.zeros_owed.min(ZEROS.len());
                self.zeros_owed -= n;
                return Ok(Some(Bytes::from_static(&ZEROS[..n])));
            }
            if self.ended {
                return Ok(self.closing.take());
            }
            let chunk = match self.first.take() {
                Some(chunk) => chunk,
                None => match self.rest.next().await {
                    Some(Ok(chunk)) => chunk,
                    Some(Err(error)) => return Err(std::io::Error::other(error)),
                    None => {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "the form ended inside its file part",
                        ));
                    }
                },
            };
            let scanned = self.end.scan(chunk);
            self.write(&scanned.file).await?;
            self.zeros_owed = scanned.file.len();
            if scanned.ended {
                self.finish().await?;
            }
        }
    }

    async fn writer(&mut self) -> std::io::Result<&mut tokio::fs::File> {
        if self.writer.is_none() {
            let path = self
                .dir
                .join(format!("{:032x}.part", rand::random::<u128>()));
            let file = tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .await?;
            self.writer = Some((file, SpoolPath(path)));
        }
        Ok(&mut self.writer.as_mut().expect("just made").0)
    }

    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if !bytes.is_empty() {
            self.writer().await?.write_all(bytes).await?;
            self.written += bytes.len() as u64;
        }
        Ok(())
    }

    async fn finish(&mut self) -> std::io::Result<()> {
        self.writer().await?.flush().await?;
        if let Some((_, path)) = self.writer.take() {
            self.slot.put(SpooledFile {
                path,
                len: self.written,
            });
        }
        self.ended = true;
        Ok(())
    }
}

/// The `s3s` access hook that gives `s3s-fs` a form's spooled file in place of the stand-in,
/// and refuses a form upload that has none (one that did not come through the front door).
#[derive(Debug)]
pub struct SpooledUploads;

fn internal(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InternalError, message.to_owned())
}

#[async_trait::async_trait]
impl S3Access for SpooledUploads {
    async fn post_object(&self, req: &mut S3Request<PostObjectInput>) -> S3Result<()> {
        let spooled = req
            .extensions
            .get::<SpoolSlot>()
            .and_then(SpoolSlot::take)
            .ok_or_else(|| internal("the form's file was not spooled"))?;
        let expected = req.input.content_length.unwrap_or(0);
        if u64::try_from(expected).ok() != Some(spooled.len) {
            return Err(internal("the spooled file's size differs from the form's"));
        }
        let file = tokio::fs::File::open(&spooled.path.0)
            .await
            .map_err(|_| internal("the spooled file cannot be read"))?;
        // Unlinked now; the open file stays readable until s3s-fs has copied it.
        drop(spooled);
        req.input.body = Some(StreamingBlob::wrap(
            tokio_util::io::ReaderStream::with_capacity(file, READ_CHUNK),
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        parts: &[&[u8]],
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin + use<> {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::copy_from_slice(p)))
                .collect::<Vec<_>>(),
        )
    }

    async fn read_all(body: s3s::Body) -> Result<Vec<u8>, String> {
        http_body_util::BodyExt::collect(body)
            .await
            .map(|c| c.to_bytes().to_vec())
            .map_err(|e| e.to_string())
    }

    fn spool(name: &str) -> (Spool, PathBuf) {
        let dir = std::env::temp_dir().join(format!("spool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (Spool::prepare(&dir).unwrap(), dir.join(FOLDER))
    }

    #[tokio::test]
    async fn the_stand_in_has_the_file_size_and_the_file_goes_to_disk() {
        let (spool, dir) = spool("whole");
        let file: Vec<u8> = (0..600_000).map(|i| (i % 251) as u8).collect();
        let (middle, tail) = file.split_at(300_001);
        let (body, slot) = spool.stand_in(
            b"HEAD".to_vec(),
            Bytes::from_static(b""),
            chunks(&[middle, tail, b"\r\n--cli", b"ent--\r\nignored"]),
            "client",
            "own",
        );
        let read = read_all(body).await.unwrap();
        assert_eq!(&read[..4], b"HEAD");
        assert_eq!(read.len(), 4 + file.len() + b"\r\n--own--\r\n".len());
        assert!(read[4..4 + file.len()].iter().all(|&b| b == 0));
        assert!(read.ends_with(b"\r\n--own--\r\n"));
        let spooled = slot.take().unwrap();
        assert_eq!(spooled.len, file.len() as u64);
        assert_eq!(std::fs::read(&spooled.path.0).unwrap(), file);
        drop(spooled);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_body_cut_short_leaves_no_file() {
        let (spool, dir) = spool("cut");
        let (body, slot) = spool.stand_in(
            b"HEAD".to_vec(),
            Bytes::from_static(b"some bytes"),
            chunks(&[b"and more"]),
            "client",
            "own",
        );
        assert!(read_all(body).await.is_err());
        assert!(slot.take().is_none());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn an_empty_file_is_spooled_too() {
        let (spool, _) = spool("empty");
        let (body, slot) = spool.stand_in(
            Vec::new(),
            Bytes::from_static(b"\r\n--client--\r\n"),
            chunks(&[]),
            "client",
            "own",
        );
        assert_eq!(read_all(body).await.unwrap(), b"\r\n--own--\r\n");
        assert_eq!(slot.take().unwrap().len, 0);
    }
}
