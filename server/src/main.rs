// The allocator of the `steward` binary (tests and the library keep the system's):
// see the note at the dependency in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    steward_server::cli::main()
}
