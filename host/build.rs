//! Rebuilds when a file under `assets/` is added or removed: the embedded
//! web files (`rust-embed`) track the files they saw, not new ones.
fn main() {
    println!("cargo:rerun-if-changed=assets");
}
