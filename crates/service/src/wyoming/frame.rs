//! Wyoming framing: one event is a JSON header line, then optional `data` bytes, then optional
//! `payload` bytes.
//!
//! ```text
//! {"type": "audio-chunk", "version": "1.10.2", "data_length": 43, "payload_length": 2048}\n
//! {"rate": 16000, "width": 2, "channels": 1}<2048 bytes of PCM>
//! ```
//!
//! The header's own `data` object and the separate data bytes (a JSON object) are merged, the
//! bytes winning (as `wyoming.event.async_read_event` does). Source: the `wyoming` Python package
//! 1.10.2, `wyoming/event.py`. Every length is checked against [`FrameLimits`] before anything is
//! allocated, so a header announcing 2⁶³ bytes is an error, not an allocation.

use serde_json::{Map, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version written into headers (the `wyoming` package version it was tested with).
pub const VERSION: &str = "1.10.2";

/// One Wyoming event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Event type, e.g. `transcribe`, `audio-chunk`.
    pub kind: String,
    /// The event's data (a JSON object; empty when there is none).
    pub data: Map<String, Value>,
    /// Binary payload (PCM for `audio-chunk`), empty when there is none.
    pub payload: Vec<u8>,
}

impl Event {
    /// An event with no data and no payload.
    pub fn new(kind: &str) -> Event {
        Event {
            kind: kind.to_string(),
            data: Map::new(),
            payload: Vec::new(),
        }
    }

    /// An event with `data` (which must be a JSON object; anything else gives empty data).
    pub fn with_data(kind: &str, data: Value) -> Event {
        let data = match data {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Event {
            kind: kind.to_string(),
            data,
            payload: Vec::new(),
        }
    }

    /// Sets the payload.
    pub fn with_payload(mut self, payload: Vec<u8>) -> Event {
        self.payload = payload;
        self
    }

    /// The header line, data bytes and payload as written on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut header = Map::new();
        header.insert("type".into(), Value::String(self.kind.clone()));
        header.insert("version".into(), Value::String(VERSION.into()));
        let data = if self.data.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(&self.data).expect("a JSON map serialises")
        };
        if !data.is_empty() {
            header.insert("data_length".into(), data.len().into());
        }
        if !self.payload.is_empty() {
            header.insert("payload_length".into(), self.payload.len().into());
        }
        let mut out = serde_json::to_vec(&header).expect("a JSON map serialises");
        out.push(b'\n');
        out.extend_from_slice(&data);
        out.extend_from_slice(&self.payload);
        out
    }
}

/// Upper bounds on what one frame may announce, checked before reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Longest header line, bytes (default 64 KiB).
    pub max_header: usize,
    /// Largest `data_length`, bytes (default 1 MiB).
    pub max_data: usize,
    /// Largest `payload_length`, bytes (default 4 MiB: 2 min of 16 kHz 16-bit mono in one chunk).
    pub max_payload: usize,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits {
            max_header: 64 * 1024,
            max_data: 1024 * 1024,
            max_payload: 4 * 1024 * 1024,
        }
    }
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection in the middle of a frame.
    #[error("connection closed in the middle of a frame ({0})")]
    Truncated(&'static str),
    /// The header line is longer than [`FrameLimits::max_header`].
    #[error("header line longer than {0} bytes")]
    HeaderTooLong(usize),
    /// The header is not a JSON object with a string `type`.
    #[error("malformed header: {0}")]
    BadHeader(String),
    /// `data_length` or `payload_length` is over its limit.
    #[error("{field} of {len} bytes is over the limit of {limit}")]
    TooLarge {
        /// `data_length` or `payload_length`.
        field: &'static str,
        /// The announced length.
        len: u64,
        /// The limit.
        limit: usize,
    },
    /// The data bytes are not a JSON object.
    #[error("malformed data: {0}")]
    BadData(String),
    /// A socket error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A parsed header line: the event type, inline data and the two announced lengths.
#[derive(Debug)]
struct Header {
    kind: String,
    data: Map<String, Value>,
    data_length: usize,
    payload_length: usize,
}

fn length(
    header: &Map<String, Value>,
    field: &'static str,
    limit: usize,
) -> Result<usize, FrameError> {
    match header.get(field) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => {
            let len = n.as_u64().ok_or_else(|| {
                FrameError::BadHeader(format!("{field} is not a non-negative integer"))
            })?;
            if len > limit as u64 {
                return Err(FrameError::TooLarge { field, len, limit });
            }
            Ok(len as usize)
        }
        Some(_) => Err(FrameError::BadHeader(format!("{field} is not a number"))),
    }
}

impl Header {
    fn parse(line: &[u8], limits: &FrameLimits) -> Result<Header, FrameError> {
        let value: Value =
            serde_json::from_slice(line).map_err(|e| FrameError::BadHeader(e.to_string()))?;
        let Value::Object(mut map) = value else {
            return Err(FrameError::BadHeader("not a JSON object".into()));
        };
        let kind = match map.remove("type") {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => return Err(FrameError::BadHeader("no string \"type\"".into())),
        };
        let data = match map.remove("data") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(FrameError::BadHeader("\"data\" is not an object".into())),
        };
        Ok(Header {
            kind,
            data,
            data_length: length(&map, "data_length", limits.max_data)?,
            payload_length: length(&map, "payload_length", limits.max_payload)?,
        })
    }

    fn finish(mut self, data: &[u8], payload: Vec<u8>) -> Result<Event, FrameError> {
        if !data.is_empty() {
            match serde_json::from_slice(data) {
                Ok(Value::Object(m)) => self.data.extend(m),
                Ok(_) => return Err(FrameError::BadData("not a JSON object".into())),
                Err(e) => return Err(FrameError::BadData(e.to_string())),
            }
        }
        Ok(Event {
            kind: self.kind,
            data: self.data,
            payload,
        })
    }
}

/// Reads one line of at most `max` bytes (without the newline); `None` at a clean end of stream.
async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(FrameError::Truncated("header"))
            };
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > max + 1 {
            return Err(FrameError::HeaderTooLong(max));
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if done {
            line.pop();
            return Ok(Some(line));
        }
    }
}

async fn read_exact_vec<R: AsyncBufRead + Unpin>(
    r: &mut R,
    len: usize,
    what: &'static str,
) -> Result<Vec<u8>, FrameError> {
    // The length was checked against the limits; still grow as bytes arrive rather than trusting
    // the announced size up front.
    let mut out = Vec::with_capacity(len.min(64 * 1024));
    let got = r.take(len as u64).read_to_end(&mut out).await?;
    if got < len {
        return Err(FrameError::Truncated(what));
    }
    Ok(out)
}

/// Reads the next event; `Ok(None)` when the peer closed the connection between events.
/// Blank lines between events are skipped.
///
/// # Errors
/// [`FrameError`]: a truncated frame, a malformed header or data, a length over `limits`.
pub async fn read_event<R: AsyncBufRead + Unpin>(
    r: &mut R,
    limits: &FrameLimits,
) -> Result<Option<Event>, FrameError> {
    let line = loop {
        match read_line(r, limits.max_header).await? {
            None => return Ok(None),
            Some(l) if l.iter().all(u8::is_ascii_whitespace) => continue,
            Some(l) => break l,
        }
    };
    let header = Header::parse(&line, limits)?;
    let data = read_exact_vec(r, header.data_length, "data").await?;
    let payload = read_exact_vec(r, header.payload_length, "payload").await?;
    header.finish(&data, payload).map(Some)
}

/// Writes one event and flushes.
///
/// # Errors
/// Socket errors.
pub async fn write_event<W: AsyncWrite + Unpin>(w: &mut W, event: &Event) -> std::io::Result<()> {
    w.write_all(&event.to_bytes()).await?;
    w.flush().await
}

/// Parses every event in `bytes` (for fuzzing and tests): the events read before the first
/// error, and that error (`None` when the bytes ended cleanly between events).
pub fn parse_all(bytes: &[u8], limits: &FrameLimits) -> (Vec<Event>, Option<FrameError>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    rt.block_on(async {
        let mut r = bytes;
        let mut events = Vec::new();
        loop {
            match read_event(&mut r, limits).await {
                Ok(Some(e)) => events.push(e),
                Ok(None) => return (events, None),
                Err(e) => return (events, Some(e)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> FrameLimits {
        FrameLimits::default()
    }

    #[test]
    fn reads_what_python_wyoming_writes() {
        // Bytes as `wyoming.event.async_write_event` writes an audio chunk (1.10.2).
        let mut wire = br#"{"type": "audio-chunk", "version": "1.10.2", "data_length": 42, "payload_length": 4}"#.to_vec();
        wire.push(b'\n');
        wire.extend_from_slice(br#"{"rate": 16000, "width": 2, "channels": 1}"#);
        wire.extend_from_slice(&[1, 0, 255, 255]);
        let (events, err) = parse_all(&wire, &limits());
        assert!(err.is_none(), "{err:?}");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "audio-chunk");
        assert_eq!(events[0].data["rate"], 16000);
        assert_eq!(events[0].payload, vec![1, 0, 255, 255]);
    }

    #[test]
    fn inline_data_merges_with_data_bytes() {
        let mut wire =
            br#"{"type":"transcribe","data":{"name":"a","language":"en"},"data_length":13}"#
                .to_vec();
        wire.push(b'\n');
        wire.extend_from_slice(br#"{"name":"b"}"#);
        wire.push(b' ');
        let (events, err) = parse_all(&wire, &limits());
        assert!(err.is_none(), "{err:?}");
        assert_eq!(events[0].data["name"], "b");
        assert_eq!(events[0].data["language"], "en");
    }

    #[test]
    fn round_trip() {
        let e = Event::with_data("synthesize", json!({"text": "héllo\nworld"}))
            .with_payload(vec![0; 10]);
        let mut wire = e.to_bytes();
        wire.extend(Event::new("describe").to_bytes());
        let (events, err) = parse_all(&wire, &limits());
        assert!(err.is_none());
        assert_eq!(events, vec![e, Event::new("describe")]);
    }

    #[test]
    fn huge_lengths_are_refused_before_allocating() {
        let wire = b"{\"type\":\"audio-chunk\",\"payload_length\":18446744073709551615}\n";
        let (_, err) = parse_all(wire, &limits());
        assert!(matches!(
            err,
            Some(FrameError::TooLarge {
                field: "payload_length",
                ..
            })
        ));
        let wire = b"{\"type\":\"x\",\"data_length\":-1}\n";
        assert!(matches!(
            parse_all(wire, &limits()).1,
            Some(FrameError::BadHeader(_))
        ));
    }

    #[test]
    fn truncation_and_garbage_are_errors() {
        let full = Event::with_data("audio-chunk", json!({"rate": 16000}))
            .with_payload(vec![7; 100])
            .to_bytes();
        for cut in 1..full.len() {
            let (events, err) = parse_all(&full[..cut], &limits());
            assert!(events.is_empty(), "cut at {cut}");
            assert!(err.is_some(), "cut at {cut} must be an error");
        }
        for bad in [
            &b"not json\n"[..],
            b"[1,2]\n",
            b"{\"type\":5}\n",
            b"{\"data\":{}}\n",
        ] {
            assert!(matches!(
                parse_all(bad, &limits()).1,
                Some(FrameError::BadHeader(_))
            ));
        }
        let long = vec![b'a'; 70 * 1024];
        assert!(matches!(
            parse_all(&long, &limits()).1,
            Some(FrameError::HeaderTooLong(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_all(&bytes, &limits());
        }
    }
}
