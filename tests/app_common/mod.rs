//! Helpers of the app tests: a tiny model built in the test, and an app harness on the CPU backend.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use gaugan::app::{AppOptions, GauganApp, ModelSource, WorkerOptions};
use gaugan::checkpoint::untrained_model;
use gaugan::checkpoint::{ModelFile, StateDict, StateTensor};
use gaugan::infer::BackendChoice;
use gaugan::labels::Palette;
use gaugan::model::{EncoderConfig, GeneratorConfig, LabelChannels};

/// The class names of the test palette.
pub const CLASSES: [&str; 4] = ["sky", "wall", "window", "door"];

/// A tiny VAE model: 4 classes, 64x64, ngf 2, z of 8, with an encoder (or without).
pub fn tiny_model(with_encoder: bool) -> ModelFile {
    let mut palette = Palette::generic(CLASSES.len(), false);
    for (c, n) in palette.classes.iter_mut().zip(CLASSES) {
        c.name = n.into();
    }
    palette.name = "test".into();
    let g = GeneratorConfig::new(LabelChannels::new(CLASSES.len()))
        .with_ngf(2)
        .with_spade_hidden(8)
        .with_crop_size(64)
        .with_z_dim(Some(8));
    let e = EncoderConfig::new()
        .with_ndf(2)
        .with_layers(4)
        .with_input_size(64)
        .with_z_dim(8);
    let mut m = untrained_model(g, with_encoder.then_some(e), palette, "test model");
    // Freshly initialised weights (gain 0.02) make an almost flat photo: scale the plain weights
    // up so that the photo visibly depends on the labels.
    m.generator_weights = scaled(&m.generator_weights, 12.0);
    m
}

fn scaled(sd: &StateDict, k: f32) -> StateDict {
    let mut out = StateDict::default();
    for (key, t) in sd.iter() {
        let scale = key.ends_with(".weight") || key.ends_with(".bias");
        let data = if scale {
            t.data.iter().map(|v| v * k).collect()
        } else {
            t.data.clone()
        };
        let mut nt = StateTensor::new(t.shape.clone(), data);
        nt.is_float = t.is_float;
        out.insert(key, nt);
    }
    out
}

/// Options for an app on the CPU backend with `model`, autosaving into `dir`.
pub fn options(model: ModelFile, dir: &Path, delay: Duration) -> AppOptions {
    AppOptions {
        model: ModelSource::Loaded(Arc::new(model), "tiny test model".into()),
        backend: BackendChoice::Cpu,
        data_dir: Some(dir.to_path_buf()),
        worker: WorkerOptions {
            extra_delay: delay,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A harness running the app.
pub fn harness(options: AppOptions) -> Harness<'static, GauganApp> {
    Harness::builder()
        .with_size(egui::vec2(1200.0, 760.0))
        .build_eframe(move |cc| GauganApp::new(&cc.egui_ctx, options, None).expect("app"))
}

/// Steps frames until the shown photo is that of the newest request.
pub fn wait_for_photo(h: &mut Harness<'static, GauganApp>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        h.step();
        let e = h.state().paint_tab().engine();
        if e.shown_id() > 0 && e.is_current() && !e.is_busy() {
            h.step();
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no photo within {timeout:?}; messages: {:?}",
            h.state().messages()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Screen position of label pixel `(x, y)`'s centre.
pub fn screen(h: &Harness<'static, GauganApp>, x: f32, y: f32) -> egui::Pos2 {
    let p = h.state().paint_tab();
    p.canvas().screen_pos(p.labels(), x + 0.5, y + 0.5)
}

/// Drags the primary button through label points, one frame per event.
pub fn drag(h: &mut Harness<'static, GauganApp>, points: &[(f32, f32)]) {
    let ps: Vec<egui::Pos2> = points.iter().map(|&(x, y)| screen(h, x, y)).collect();
    h.hover_at(ps[0]);
    h.drag_at(ps[0]);
    h.step();
    for p in &ps[1..] {
        h.hover_at(*p);
        h.step();
    }
    h.drop_at(*ps.last().unwrap());
    h.step();
}

/// The label of a class's palette entry.
pub fn class_label(id: usize) -> String {
    format!("{:>3}  {}", id, CLASSES[id])
}
