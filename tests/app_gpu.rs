//! The app on a window device shared with the model (lavapipe in CI): the photo is computed on
//! the renderer's own wgpu device and drawn from GPU memory, never read back to be shown; the
//! frame the renderer draws shows it, and saving still gets the pixels.
#![cfg(feature = "app")]

mod app_common;
mod common;

use std::time::Duration;

use app_common::wait_for_photo;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::{Harness, wgpu::WgpuTestRenderer};
use gaugan::app::{AppOptions, GauganApp, ModelSource};
use gaugan::infer::BackendChoice;

/// A headless render state made like the app's window: the adapter's features and limits.
fn render_state() -> eframe::egui_wgpu::RenderState {
    let mut setup = eframe::egui_wgpu::WgpuSetupCreateNew::without_display_handle();
    setup.instance_descriptor.backends = eframe::wgpu::Backends::PRIMARY;
    setup.device_descriptor = std::sync::Arc::new(gaugan::infer::backend::device_descriptor);
    egui_kittest::wgpu::create_render_state(
        eframe::egui_wgpu::WgpuSetup::CreateNew(setup),
        eframe::egui_wgpu::RendererOptions::PREDICTABLE,
    )
}

#[test]
fn photo_is_drawn_from_the_shared_device_without_a_cpu_copy() {
    if !common::wgpu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The built-in facade model on its sample facade: a photo with real contrast to compare.
    let options = AppOptions {
        model: ModelSource::Default,
        backend: BackendChoice::Wgpu,
        data_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let rs = render_state();
    let mut h: Harness<'static, GauganApp> = Harness::builder()
        .with_size(egui::vec2(1200.0, 760.0))
        .renderer(WgpuTestRenderer::from_render_state(rs))
        .build_eframe(move |cc| GauganApp::from_creation_context(cc, options).expect("app"));
    wait_for_photo(&mut h, Duration::from_secs(600));

    let engine = h.state().paint_tab().engine();
    assert!(
        engine
            .backend()
            .description
            .contains("shared with the window"),
        "backend: {}",
        engine.backend().description
    );
    assert!(engine.display().is_some());
    assert!(
        engine.photo_stayed_on_gpu(),
        "the photo came through the CPU"
    );
    assert!(matches!(engine.texture(), Some(egui::TextureId::User(_))));

    // The frame drawn from GPU memory shows the same photo as the CPU path's frame (the photo
    // read back to the CPU and uploaded as an egui texture): same model, same labels, same
    // layout, so the photo's rectangle must match pixel for pixel, up to float rounding.
    let rect = h.get_by_role_and_label(Role::Image, "Photo").rect();
    let gpu_frame = h.render().expect("the wgpu renderer draws the frame");
    let mut cpu_options = AppOptions {
        model: ModelSource::Default,
        backend: BackendChoice::Cpu,
        data_dir: Some(dir.path().join("cpu")),
        ..Default::default()
    };
    cpu_options.worker.gpu_photos = false;
    let mut cpu: Harness<'static, GauganApp> = Harness::builder()
        .with_size(egui::vec2(1200.0, 760.0))
        .renderer(WgpuTestRenderer::from_render_state(render_state()))
        .build_eframe(move |cc| GauganApp::from_creation_context(cc, cpu_options).expect("app"));
    wait_for_photo(&mut cpu, Duration::from_secs(300));
    assert!(!cpu.state().paint_tab().engine().photo_stayed_on_gpu());
    assert_eq!(cpu.get_by_role_and_label(Role::Image, "Photo").rect(), rect);
    let cpu_frame = cpu.render().expect("frame");
    let (mut n, mut off, mut sum, mut spread) = (0u32, 0u32, 0f64, (255u8, 0u8));
    for y in rect.min.y.ceil() as u32..rect.max.y.floor() as u32 {
        for x in rect.min.x.ceil() as u32..rect.max.x.floor() as u32 {
            let (a, b) = (gpu_frame.get_pixel(x, y).0, cpu_frame.get_pixel(x, y).0);
            for c in 0..3 {
                let d = (a[c] as i32 - b[c] as i32).unsigned_abs();
                sum += d as f64;
                off += (d > 4) as u32;
                spread = (spread.0.min(a[c]), spread.1.max(a[c]));
            }
            n += 3;
        }
    }
    let mean = sum / n as f64;
    eprintln!(
        "photo rectangle, GPU-drawn vs CPU-uploaded: mean |diff| {mean:.3}, {off} of {n} values off by > 4, values {}..{}",
        spread.0, spread.1
    );
    assert!(spread.1 - spread.0 > 100, "the photo should show a facade");
    assert!(
        mean < 0.5 && off * 1000 < n,
        "the GPU-drawn photo differs from the CPU one"
    );
    // Saving still gets the pixels: the GPU photo read back equals the CPU path's photo.
    let gpu_image = h
        .state()
        .paint_tab()
        .engine()
        .image()
        .expect("read back on demand")
        .clone();
    let cpu_image = cpu.state().paint_tab().engine().image().unwrap().clone();
    let worst = gpu_image
        .pixels()
        .zip(cpu_image.pixels())
        .flat_map(|(a, b)| (0..3).map(move |c| (a.0[c] as i32 - b.0[c] as i32).abs()))
        .max()
        .unwrap();
    assert!(
        worst <= 1,
        "read-back photo differs from the CPU photo by {worst}"
    );
}
