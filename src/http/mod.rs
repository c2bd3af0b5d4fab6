//! What every HTTP client of cioscope (Customer.io and the CRM connectors)
//! shares: one retry, limit and budget [`policy`] with its [`limit`]er,
//! reading `Retry-After`, backing off with jitter between retries, refusing
//! redirects, and reading a reply's body up to a cap.

pub mod limit;
pub mod policy;

use std::time::Duration;

use rand::Rng;

/// Longest `Retry-After` read at all (a day); each client bounds what it
/// honours further.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(86_400);

/// `Retry-After` as delta-seconds (`"2"`) or an HTTP-date; capped at a day,
/// and never zero (a zero wait would hit the limit again at once).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    let wait = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(secs) = v.parse::<f64>() {
        Duration::try_from_secs_f64(secs).ok()?
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
        let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
        Duration::from_millis(ms.max(0) as u64)
    };
    Some(wait.clamp(Duration::from_millis(100), RETRY_AFTER_CAP))
}

/// Exponential backoff with jitter: `base`, 2 × `base`, 4 × `base`… capped
/// at `cap`, each scaled by a random factor in [0.5, 1.0) so clients that
/// failed together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The wait before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        self.ceiling(retry)
            .mul_f64(rand::thread_rng().gen_range(0.5..1.0))
    }

    /// The longest wait before retry number `retry`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(16)));
        exp.min(self.cap)
    }
}

/// The message for a redirect cioscope did not follow: each hop would be a
/// request the operator did not configure (and could leak a credential to
/// another host), so a 3xx is an error naming where it pointed.
pub fn redirect_message(service: &str, status: u16, location: Option<&str>, fix: &str) -> String {
    let to = location
        .map(crate::sanitize::sanitize)
        .map(|l| format!(" to {l}"))
        .unwrap_or_default();
    format!("{service} answered {status} (redirect{to}); cioscope follows no redirects: {fix}")
}

/// One megabyte as `customerio.max_response_mb` counts it (1,048,576 bytes).
pub const MB: u64 = 1024 * 1024;

/// The default of `customerio.max_response_mb`: the most bytes of one reply
/// cioscope reads (64 MB).
pub const DEFAULT_MAX_RESPONSE: u64 = 64 * MB;

/// Why a reply's body was not read.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the cap: declared so by `Content-Length`, or found so
    /// while reading (no more than the cap and one chunk is ever held).
    TooLarge {
        limit: u64,
        /// The length the server declared, when it did.
        declared: Option<u64>,
    },
    /// The connection failed or timed out mid-body.
    Read(reqwest::Error),
}

impl BodyError {
    /// What an operator reads for a reply over the cap; `key` is the
    /// setting that raises it.
    pub fn too_large_message(limit: u64, declared: Option<u64>, key: &str) -> String {
        let declared = declared
            .map(|d| format!(" (it declared {})", megabytes(d)))
            .unwrap_or_default();
        format!(
            "the reply is larger than the {} limit on one reply{declared}, so cioscope did not read it (raise {key} if it is expected)",
            megabytes(limit)
        )
    }
}

/// `64 MB`, `0.5 MB`: a byte count in the unit the setting uses (in bytes
/// below a hundredth of one).
pub fn megabytes(bytes: u64) -> String {
    if bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes < MB / 100 {
        format!("{bytes} bytes")
    } else {
        let mb = format!("{:.2}", bytes as f64 / MB as f64);
        format!("{} MB", mb.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// The body of `resp`, read chunk by chunk and given up on as soon as it
/// passes `limit` bytes. A `Content-Length` over the limit fails before a
/// byte of the body is read, so a huge reply costs no memory at all.
pub async fn read_body(mut resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit, declared });
    }
    // Reserve what was declared (within the limit) but no more than a
    // megabyte up front: a declared length is a claim, not a promise.
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit).min(MB) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge { limit, declared });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::from_millis(100)));
        assert_eq!(parse_retry_after("9999"), Some(Duration::from_secs(9_999)));
        assert_eq!(parse_retry_after("999999999"), Some(RETRY_AFTER_CAP));
        assert_eq!(parse_retry_after("soon"), None);
        let in_3s = (chrono::Utc::now() + chrono::Duration::seconds(3))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let d = parse_retry_after(&in_3s).unwrap();
        assert!(
            d > Duration::from_millis(1500) && d <= Duration::from_secs(3),
            "{d:?}"
        );
        let past = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(parse_retry_after(past), Some(Duration::from_millis(100)));
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let b = Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        };
        let first = b.delay(1);
        assert!(first >= Duration::from_millis(100) && first < Duration::from_millis(200));
        let third = b.delay(3);
        assert!(third >= Duration::from_millis(400) && third < Duration::from_millis(800));
        assert!(b.delay(40) <= b.cap);
        assert_eq!(b.ceiling(40), b.cap);
    }

    #[test]
    fn a_redirect_names_where_it_pointed() {
        let m = redirect_message(
            "Zoho",
            302,
            Some("https://evil.example/\u{1b}[2J"),
            "check api_domain",
        );
        assert!(
            m.contains("302") && m.contains("to https://evil.example/"),
            "{m}"
        );
        assert!(!m.contains('\u{1b}'), "{m}");
    }

    /// A server on a local port that answers every request with `head`
    /// and then `chunks` (raw bytes, written one by one).
    async fn serve(head: &'static str, chunks: Vec<Vec<u8>>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let chunks = chunks.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf).await;
                    if conn.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    for c in chunks {
                        if conn.write_all(&c).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        format!("http://{addr}/")
    }

    fn chunked(pieces: usize, size: usize) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = (0..pieces)
            .map(|_| {
                let mut c = format!("{size:x}\r\n").into_bytes();
                c.extend(std::iter::repeat_n(b'x', size));
                c.extend_from_slice(b"\r\n");
                c
            })
            .collect();
        out.push(b"0\r\n\r\n".to_vec());
        out
    }

    #[tokio::test]
    async fn a_body_is_read_whole_up_to_the_limit_and_not_past_it() {
        let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
        // 16 chunks of 64 KiB: exactly 1 MB with no Content-Length.
        let url = serve(head, chunked(16, 64 * 1024)).await;
        let get = || async { reqwest::get(&url).await.unwrap() };
        assert_eq!(read_body(get().await, MB).await.unwrap().len() as u64, MB);
        match read_body(get().await, MB - 1).await {
            Err(BodyError::TooLarge { limit, declared }) => {
                assert_eq!((limit, declared), (MB - 1, None));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_fails_before_the_body_is_read() {
        // Declares 400 MB and never sends it: the answer comes at once.
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 419430400\r\n\r\n";
        let url = serve(head, vec![b"{}".to_vec()]).await;
        let resp = reqwest::get(&url).await.unwrap();
        let started = std::time::Instant::now();
        match read_body(resp, 64 * MB).await {
            Err(BodyError::TooLarge { limit, declared }) => {
                assert_eq!((limit, declared), (64 * MB, Some(400 * MB)));
                let m = BodyError::too_large_message(limit, declared, "customerio.max_response_mb");
                assert!(m.contains("64 MB") && m.contains("400 MB"), "{m}");
                assert!(m.contains("customerio.max_response_mb"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn megabytes_read_as_the_setting_is_written() {
        assert_eq!(megabytes(64 * MB), "64 MB");
        assert_eq!(megabytes(MB / 2), "0.5 MB");
        assert_eq!(megabytes(MB + MB / 4), "1.25 MB");
        assert_eq!(megabytes(1024), "1024 bytes");
    }
}
