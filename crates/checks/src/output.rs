//! Check output capping, with Consul's notes on what was cut.

/// Consul's default `check_output_max_size`: 4 KiB.
pub const MAX_OUTPUT_SIZE: usize = 4096;

/// Keeps the last `capacity` bytes written to it (Consul keeps the tail of a script's output)
/// and counts everything written.
#[derive(Debug)]
pub(crate) struct OutputBuffer {
    capacity: usize,
    data: std::collections::VecDeque<u8>,
    total: u64,
}

impl OutputBuffer {
    pub(crate) fn new(capacity: usize) -> Self {
        OutputBuffer {
            capacity,
            data: std::collections::VecDeque::with_capacity(capacity.min(MAX_OUTPUT_SIZE)),
            total: 0,
        }
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let keep = &bytes[bytes.len().saturating_sub(self.capacity)..];
        let overflow = (self.data.len() + keep.len()).saturating_sub(self.capacity);
        self.data.drain(..overflow);
        self.data.extend(keep);
    }

    /// The kept bytes as text, prefixed by `Captured <kept> of <total> bytes` when some were
    /// dropped.
    pub(crate) fn into_output(self) -> String {
        let (front, back) = self.data.as_slices();
        let mut bytes = Vec::with_capacity(front.len() + back.len());
        bytes.extend_from_slice(front);
        bytes.extend_from_slice(back);
        let text = String::from_utf8_lossy(&bytes);
        if self.total > bytes.len() as u64 {
            format!(
                "Captured {} of {} bytes\n...\n{text}",
                bytes.len(),
                self.total
            )
        } else {
            text.into_owned()
        }
    }
}

/// Cuts `output` to at most `max` bytes (on a character boundary), noting how much was kept, as
/// Consul does for TTL check updates.
pub(crate) fn truncate_output(output: String, max: usize) -> String {
    if output.len() <= max {
        return output;
    }
    let mut cut = max;
    while !output.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{} ... (captured {cut} of {} bytes)",
        &output[..cut],
        output.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_below_capacity_keeps_everything() {
        let mut buf = OutputBuffer::new(8);
        buf.write(b"abc");
        buf.write(b"def");
        assert_eq!(buf.into_output(), "abcdef");
    }

    #[test]
    fn buffer_over_capacity_keeps_the_tail_with_a_note() {
        let mut buf = OutputBuffer::new(4);
        buf.write(b"abc");
        buf.write(b"defgh");
        buf.write(b"i");
        assert_eq!(buf.into_output(), "Captured 4 of 9 bytes\n...\nfghi");
    }

    #[test]
    fn buffer_single_write_larger_than_capacity() {
        let mut buf = OutputBuffer::new(3);
        buf.write(b"0123456789");
        assert_eq!(buf.into_output(), "Captured 3 of 10 bytes\n...\n789");
    }

    #[test]
    fn truncate_keeps_short_output() {
        assert_eq!(truncate_output("ok".into(), 4), "ok");
    }

    #[test]
    fn truncate_cuts_on_a_char_boundary() {
        // "é" is two bytes: cutting at 3 would split it.
        let out = truncate_output("abé12".into(), 3);
        assert_eq!(out, "ab ... (captured 2 of 6 bytes)");
    }
}
