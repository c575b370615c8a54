//! Frames on the wire: msgpack payloads, split into chunks of at most [`CHUNK_SIZE`].

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt as _};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::Status;

use crate::proto::Frame;

/// The largest payload of one gRPC message; bigger messages are streamed in chunks.
pub const CHUNK_SIZE: usize = 1 << 20;

/// The most a peer may send in one message, however chunked (bounds memory per call).
pub(crate) const MAX_MESSAGE_SIZE: usize = 4 << 30;

/// The decoding limit of one frame: a chunk plus protobuf overhead.
pub(crate) const MAX_FRAME_SIZE: usize = CHUNK_SIZE + 64 * 1024;

/// msgpack with field names: the types carry `skip_serializing_if`, which only a
/// self-describing format can skip.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Bytes, String> {
    rmp_serde::to_vec_named(value)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    rmp_serde::from_slice(bytes).map_err(|e| e.to_string())
}

/// `payload` as frames of at most [`CHUNK_SIZE`] bytes; `target` rides on the first.
/// An empty payload is one empty frame.
pub(crate) fn chunks(payload: Bytes, target: u64) -> Vec<Frame> {
    if payload.is_empty() {
        return vec![Frame { payload, target }];
    }
    (0..payload.len())
        .step_by(CHUNK_SIZE)
        .enumerate()
        .map(|(i, start)| Frame {
            payload: payload.slice(start..payload.len().min(start + CHUNK_SIZE)),
            target: if i == 0 { target } else { 0 },
        })
        .collect()
}

/// Joins a stream of frames back into one payload; returns the first frame's `target`.
pub(crate) async fn collect<S>(mut frames: S) -> Result<(u64, Bytes), Status>
where
    S: Stream<Item = Result<Frame, Status>> + Unpin,
{
    let Some(first) = frames.next().await.transpose()? else {
        return Err(Status::invalid_argument("empty rpc stream"));
    };
    let target = first.target;
    let Some(second) = frames.next().await.transpose()? else {
        return Ok((target, first.payload));
    };
    let mut buf = BytesMut::from(first.payload);
    buf.extend_from_slice(&second.payload);
    while let Some(frame) = frames.next().await.transpose()? {
        if buf.len() + frame.payload.len() > MAX_MESSAGE_SIZE {
            return Err(Status::resource_exhausted("rpc message too large"));
        }
        buf.extend_from_slice(&frame.payload);
    }
    Ok((target, buf.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_join_back_to_the_payload() {
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE + 7,
        ] {
            let payload: Bytes = (0..len).map(|i| (i % 251) as u8).collect::<Vec<_>>().into();
            let frames = chunks(payload.clone(), 7);
            assert_eq!(frames.len(), len.div_ceil(CHUNK_SIZE).max(1), "len {len}");
            assert!(frames.iter().all(|f| f.payload.len() <= CHUNK_SIZE));
            let (target, joined) = collect(futures::stream::iter(frames.into_iter().map(Ok)))
                .await
                .expect("collect");
            assert_eq!(target, 7);
            assert_eq!(joined, payload, "len {len}");
        }
    }

    #[tokio::test]
    async fn an_empty_stream_is_an_error() {
        let empty = futures::stream::iter(Vec::<Result<Frame, Status>>::new());
        assert!(collect(empty).await.is_err());
    }
}
