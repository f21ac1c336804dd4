//! Compiles `proto/` into Rust types (prost) plus canonical proto3 JSON serde
//! impls (pbjson). Uses the vendored `protoc`, so no system install is needed.

use std::env;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

/// Root of the `.proto` tree (import paths are relative to it).
const PROTO_ROOT: &str = "proto";
/// Protobuf packages: the event catalogue and the command catalogue.
const PACKAGES: [&str; 2] = [".casemgmt.events.v1", ".casemgmt.commands.v1"];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    println!("cargo:rerun-if-changed=build.rs");

    let protos = proto_files(Path::new(PROTO_ROOT))?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor_path = out_dir.join("casemgmt_descriptor.bin");

    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let wkt_include = protoc_bin_vendored::include_path()?;

    prost_build::Config::new()
        .protoc_executable(protoc)
        .file_descriptor_set_path(&descriptor_path)
        // google.protobuf.* comes from pbjson-types, whose Timestamp
        // serializes as an RFC 3339 string.
        .compile_well_known_types()
        .extern_path(".google.protobuf", "::pbjson_types")
        // Timestamps with the proto3 JSON mapping (`Z`, 0/3/6/9 digits).
        .extern_path(".google.protobuf.Timestamp", "crate::event::Timestamp")
        // BTreeMap keeps JSON output (and Debug) in a stable key order.
        .btree_map(["."])
        // Keeps the `Payload` enum small: CaseCreated would otherwise inline
        // a whole CaseSnapshot into every variant.
        .boxed(".casemgmt.events.v1.CaseCreated.snapshot")
        .compile_protos(&protos, &[PathBuf::from(PROTO_ROOT), wkt_include])?;

    let descriptors = fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors)?
        .btree_map(["."])
        .build(&PACKAGES)?;
    Ok(())
}

/// All `.proto` files under `dir`, sorted for a reproducible build.
fn proto_files(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(proto_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
