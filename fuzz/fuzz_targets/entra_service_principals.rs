//! `entra-service-principals`: any bytes may be refused, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_domain::imports::{read_records, ImportFormat, ImportLimits, ImportRequest};

fuzz_target!(|data: &[u8]| {
    let request = ImportRequest::new(ImportFormat::EntraServicePrincipals, "fuzz");
    let _ = read_records(
        ImportFormat::EntraServicePrincipals,
        data,
        &request,
        ImportLimits::default(),
        |_| Ok(()),
    );
});
