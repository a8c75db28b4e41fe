//! The CPU path's window reuse (`src/infer/cpu/patterns.rs`): each SPADE's `gamma | beta`
//! convolution computed once per distinct 3x3 window of class ids gives the photo the
//! every-pixel convolution gives, where it is used and where it declines.

use burn::tensor::Device;
use gaugan::checkpoint::builtin::default_model;
use gaugan::cli::bench::synthetic_labels;
use gaugan::infer::cpu::lookup::IdGrid;
use gaugan::infer::cpu::patterns::Patterns;
use gaugan::infer::{SynthPath, Synthesizer};
use gaugan::labels::LabelMap;

fn photos(synth: &mut Synthesizer, labels: &LabelMap) -> (Vec<f32>, Vec<f32>) {
    let style = synth.random_style(3);
    let reuse = synth.synthesize(labels, None, style.as_ref()).unwrap().data;
    synth.cpu_generator_mut().unwrap().use_patterns = false;
    let every = synth.synthesize(labels, None, style.as_ref()).unwrap().data;
    synth.cpu_generator_mut().unwrap().use_patterns = true;
    (reuse, every)
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn window_reuse_gives_the_every_pixel_photo() {
    let (model, _) = default_model().unwrap();
    let mut synth = Synthesizer::new(&model, Device::flex()).unwrap();
    assert_eq!(synth.path, SynthPath::Kernels);
    let classes = model.generator.labels.classes();
    let busy = synthetic_labels(256, 256, classes);
    // Used here: few distinct windows at 256 and 128 px.
    let grid = IdGrid::resized(busy.data(), &[], 0, (256, 256), (256, 256), classes as u32);
    let p = Patterns::of(&grid).expect("a painted map has few windows");
    eprintln!("busy map: {} distinct windows of 65536 pixels", p.count());
    assert!(p.count() < 65536 / 8);
    let (reuse, every) = photos(&mut synth, &busy);
    let d = max_diff(&reuse, &every);
    eprintln!("busy map: max |diff| {d:.2e}");
    assert!(d < 1e-4, "window reuse vs every pixel: {d}");

    // Declined: a map of noise has nearly as many windows as pixels; the photo is the same.
    let mut state = 12345u32;
    let noise: Vec<u16> = (0..256 * 256)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((state >> 16) as usize % classes) as u16
        })
        .collect();
    let noise = LabelMap::from_vec(256, 256, noise).unwrap();
    let grid = IdGrid::resized(noise.data(), &[], 0, (256, 256), (256, 256), classes as u32);
    assert!(Patterns::of(&grid).is_none());
    let (reuse, every) = photos(&mut synth, &noise);
    assert!(max_diff(&reuse, &every) < 1e-4);
}
