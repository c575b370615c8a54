//! Any bytes as a DNS request: the server's parse, Consul's name grammar, reply
//! building, trimming and encoding must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = praetor_dns::fuzzing::answer_packet(data);
});
