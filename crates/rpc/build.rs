//! Generates the tonic service from `proto/praetor.proto` with the vendored protoc, so the
//! build needs no system protoc.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    config.bytes(["."]);
    tonic_prost_build::configure()
        .build_transport(false)
        .compile_with_config(config, &["proto/praetor.proto"], &["proto"])?;
    Ok(())
}
