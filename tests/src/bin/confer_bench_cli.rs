//! The `confer` command line built inside this package, so that its benchmarks can run the
//! real CLI as a process (`CARGO_BIN_EXE_confer-bench-cli`; Cargo gives a benchmark the
//! path of its own package's binaries only). The same code as the `confer` binary:
//! `confer_node::cli::main`.

fn main() -> std::process::ExitCode {
    confer_node::cli::main()
}
