//! `gcp-keys`: any bytes may be refused, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_domain::imports::{read_records, ImportFormat, ImportLimits, ImportRequest};

fuzz_target!(|data: &[u8]| {
    let request = ImportRequest::new(ImportFormat::GcpKeys, "fuzz");
    let _ = read_records(
        ImportFormat::GcpKeys,
        data,
        &request,
        ImportLimits::default(),
        |_| Ok(()),
    );
});
