//! The Workbench's files are embedded (src/workbench.rs): rebuild when
//! any of them changes, or one is added or removed.
fn main() {
    println!("cargo:rerun-if-changed=../workbench/dist");
}
