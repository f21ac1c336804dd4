//! File and stdin sources: NDJSON (canonical proto JSON, one event per line) or
//! length-delimited protobuf. Records get partition 0 and their ordinal as
//! offset; nothing is committed. Used for backfills, demos and tests.

use std::path::PathBuf;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

use super::{SourceControl, SourceMsg, SourceTx};
use crate::source::record::{Record, Tp};
use crate::source::record::{CONTENT_TYPE, JSON};

/// Where a file source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileInput {
    /// A file path; `.ndjson`/`.jsonl`/`.json` is NDJSON, anything else length-delimited protobuf.
    Path(PathBuf),
    /// Standard input, NDJSON.
    Stdin,
}

impl FileInput {
    /// Parses `file:PATH` or `stdin`.
    pub fn parse(spec: &str) -> Option<Self> {
        match spec {
            "stdin" => Some(FileInput::Stdin),
            _ => spec
                .strip_prefix("file:")
                .map(|p| FileInput::Path(p.into())),
        }
    }

    fn topic(&self) -> String {
        match self {
            FileInput::Path(p) => format!("file:{}", p.display()),
            FileInput::Stdin => "stdin".into(),
        }
    }

    fn is_ndjson(&self) -> bool {
        match self {
            FileInput::Stdin => true,
            FileInput::Path(p) => matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("ndjson" | "jsonl" | "json")
            ),
        }
    }
}

/// A file source has no offsets to commit and no partitions to pause.
#[derive(Default)]
pub struct FileControl {
    stored: Mutex<Option<i64>>,
}

impl FileControl {
    /// The last watermark stored: every record below it is complete.
    pub fn stored(&self) -> Option<i64> {
        self.stored.lock().ok().and_then(|s| *s)
    }
}

impl SourceControl for FileControl {
    fn store(&self, marks: &[(Tp, i64)]) {
        if let (Ok(mut s), Some((_, next))) = (self.stored.lock(), marks.last()) {
            *s = Some(*next);
        }
    }
    fn pause(&self, _: &[Tp]) {}
    fn resume(&self, _: &[Tp]) {}
    fn assigned(&self) -> Vec<Tp> {
        Vec::new()
    }
    fn close(&self) {}
}

/// Reads the input to the end, then sends [`SourceMsg::End`].
pub async fn run(input: FileInput, tx: SourceTx) {
    let topic = input.topic();
    let result = match &input {
        FileInput::Stdin => read_ndjson(tokio::io::stdin(), &topic, &tx).await,
        FileInput::Path(path) => match tokio::fs::File::open(path).await {
            Ok(f) if input.is_ndjson() => read_ndjson(f, &topic, &tx).await,
            Ok(f) => read_delimited(f, &topic, &tx).await,
            Err(e) => Err(format!("opening {}: {e}", path.display())),
        },
    };
    let last = match result {
        Ok(()) => SourceMsg::End,
        Err(why) => SourceMsg::Failed(why),
    };
    let _ = tx.send(last);
}

async fn read_ndjson<R: AsyncRead + Unpin>(r: R, topic: &str, tx: &SourceTx) -> Result<(), String> {
    let mut lines = BufReader::new(r).lines();
    let mut offset = 0;
    while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
        if line.trim().is_empty() {
            continue;
        }
        // The line goes through as it is; the runtime decodes it by its
        // content type, so a bad line is dead-lettered with its parse error.
        let payload = Bytes::from(line.into_bytes());
        send(tx, topic, offset, Some(JSON), payload).await?;
        offset += 1;
    }
    Ok(())
}
async fn read_delimited<R: AsyncRead + Unpin>(
    r: R,
    topic: &str,
    tx: &SourceTx,
) -> Result<(), String> {
    let mut r = BufReader::new(r);
    let mut offset = 0;
    loop {
        let Some(len) = read_varint(&mut r).await? else {
            return Ok(());
        };
        let mut buf = vec![0; len];
        r.read_exact(&mut buf)
            .await
            .map_err(|e| format!("record {offset}: {e}"))?;
        send(tx, topic, offset, None, Bytes::from(buf)).await?;
        offset += 1;
    }
}

async fn read_varint<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<usize>, String> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = match r.read_u8().await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && shift == 0 => {
                return Ok(None)
            }
            Err(e) => return Err(format!("length prefix: {e}")),
        };
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(Some(value as usize));
        }
    }
    Err("length prefix longer than 10 bytes".into())
}

async fn send(
    tx: &SourceTx,
    topic: &str,
    offset: i64,
    content_type: Option<&str>,
    payload: Bytes,
) -> Result<(), String> {
    let headers = content_type
        .map(|ct| vec![(CONTENT_TYPE.to_string(), Bytes::from(ct.to_string()))])
        .unwrap_or_default();
    let record = Record {
        tp: Tp::new(topic, 0),
        offset,
        key: None,
        payload,
        headers,
        timestamp_ms: None,
    };
    tx.credit.wait_room().await;
    tx.send_records(vec![record]).map_err(|e| e.to_string())
}

/// Dead letters of a file run: NDJSON lines next to the input, each with the
/// original record's coordinates, the reason and the payload (base64), so a
/// run without Kafka still loses nothing.
pub struct FileDeadLetters {
    path: PathBuf,
    lock: tokio::sync::Mutex<()>,
}

impl FileDeadLetters {
    /// Dead letters of `input` for `flavor` go to `<input>.dlq.<flavor>.ndjson`
    /// (`stdin.dlq.<flavor>.ndjson` in the working directory for stdin).
    pub fn for_input(input: &FileInput, flavor: &str) -> Self {
        let base = match input {
            FileInput::Path(p) => p.display().to_string(),
            FileInput::Stdin => "stdin".into(),
        };
        Self {
            path: PathBuf::from(format!("{base}.dlq.{flavor}.ndjson")),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Where the dead letters go.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

#[async_trait::async_trait]
impl crate::runtime::dlq::DeadLetterSink for FileDeadLetters {
    async fn send(
        &self,
        record: &Record,
        entry: &crate::runtime::dlq::DlqEntry,
    ) -> Result<(), String> {
        use base64::Engine as _;
        use tokio::io::AsyncWriteExt as _;
        let line = serde_json::json!({
            "topic": record.tp.topic.as_ref(),
            "offset": record.offset,
            "flavor": entry.flavor,
            "reason": entry.reason.as_str(),
            "error": entry.error,
            "attempts": entry.attempts,
            "payload_base64": base64::engine::general_purpose::STANDARD.encode(&record.payload),
        });
        let _guard = self.lock.lock().await;
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        f.write_all(format!("{line}\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        f.sync_data().await.map_err(|e| e.to_string())
    }
}
