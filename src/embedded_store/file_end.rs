//! Where a form's file part ends, found in a stream of chunks — pure.
//!
//! The file's bytes run up to the first `\r\n--BOUNDARY` (as in S3 and `s3s`); the delimiter
//! may be split across chunks, so up to its length less one byte is held back between them.

use bytes::{Bytes, BytesMut};

/// Splits the chunks of a body, starting at the file's first byte, into the file's bytes.
#[derive(Debug)]
pub struct FileEnd {
    delimiter: Vec<u8>,
    held: Bytes,
}

/// What one chunk held.
#[derive(Debug, PartialEq, Eq)]
pub struct Scanned {
    /// Bytes that are certainly the file's, in order.
    pub file: Bytes,
    /// Whether the delimiter was found: the file is complete.
    pub ended: bool,
}

impl FileEnd {
    /// Looks for the end of a file part delimited by `boundary`.
    pub fn new(boundary: &str) -> Self {
        FileEnd {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            held: Bytes::new(),
        }
    }

    /// Takes the next chunk of the body.
    pub fn scan(&mut self, chunk: Bytes) -> Scanned {
        let data = if self.held.is_empty() {
            chunk
        } else {
            let mut joined = BytesMut::with_capacity(self.held.len() + chunk.len());
            joined.extend_from_slice(&self.held);
            joined.extend_from_slice(&chunk);
            joined.freeze()
        };
        if let Some(at) = memchr::memmem::find(&data, &self.delimiter) {
            self.held = Bytes::new();
            return Scanned {
                file: data.slice(..at),
                ended: true,
            };
        }
        let keep = data.len().min(self.delimiter.len() - 1);
        let certain = data.len() - keep;
        self.held = data.slice(certain..);
        Scanned {
            file: data.slice(..certain),
            ended: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_everywhere(body: &[u8], boundary: &str) -> Vec<Option<Vec<u8>>> {
        (1..=body.len())
            .map(|size| {
                let mut end = FileEnd::new(boundary);
                let mut file = Vec::new();
                for chunk in body.chunks(size) {
                    let scanned = end.scan(Bytes::copy_from_slice(chunk));
                    file.extend_from_slice(&scanned.file);
                    if scanned.ended {
                        return Some(file);
                    }
                }
                None
            })
            .collect()
    }

    #[test]
    fn the_file_ends_at_the_delimiter_however_the_body_is_cut() {
        let body = b"a\r\nb\r\n-\r\n--Xy\r\n--XyZ--\r\n";
        for found in split_everywhere(body, "XyZ") {
            assert_eq!(found.as_deref(), Some(&b"a\r\nb\r\n-\r\n--Xy"[..]));
        }
        let early = b"a\r\n--XyZ-is-already-the-end\r\n--XyZ--\r\n";
        for found in split_everywhere(early, "XyZ") {
            assert_eq!(found.as_deref(), Some(&b"a"[..]), "as in S3 and s3s");
        }
    }

    #[test]
    fn a_body_without_the_delimiter_never_ends() {
        for found in split_everywhere(b"abc\r\n--XyZ", "XyZW") {
            assert_eq!(found, None);
        }
    }

    #[test]
    fn an_empty_file() {
        let mut end = FileEnd::new("b");
        assert_eq!(
            end.scan(Bytes::from_static(b"\r\n--b--\r\n")),
            Scanned {
                file: Bytes::new(),
                ended: true
            }
        );
    }
}
