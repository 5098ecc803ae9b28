//! `github-installations`: any bytes may be refused, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_domain::imports::{read_records, ImportFormat, ImportLimits, ImportRequest};

fuzz_target!(|data: &[u8]| {
    let request = ImportRequest::new(ImportFormat::GithubInstallations, "fuzz");
    let _ = read_records(
        ImportFormat::GithubInstallations,
        data,
        &request,
        ImportLimits::default(),
        |_| Ok(()),
    );
});
