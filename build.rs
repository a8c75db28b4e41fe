//! Embeds the default model when `assets/models/default.gaugan` exists: sets the cfg
//! `gaugan_default_model`, under which the app uses `include_bytes!` on it. Without the file (a
//! model still in training), the app starts on an untrained model it builds itself.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(gaugan_default_model)");
    println!("cargo::rerun-if-changed=assets/models/default.gaugan");
    println!("cargo::rerun-if-changed=assets/models");
    if std::path::Path::new("assets/models/default.gaugan").exists() {
        println!("cargo::rustc-cfg=gaugan_default_model");
    }
}
