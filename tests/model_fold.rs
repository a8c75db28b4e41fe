//! Folding for inference (spectral norm and eval batch norm into the weights, `mlp_gamma` and
//! `mlp_beta` fused): the same outputs as the layers as loaded, with non-trivial statistics.

use burn::module::{Param, RunningState};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use gaugan::checkpoint::convert::load_generator;
use gaugan::checkpoint::{Dataset, ImportOptions, import_official};
use gaugan::labels::png_io::read_label_png;
use gaugan::model::SegMaps;
use gaugan::model::spade::SpadeConfig;

fn vec4(t: Tensor<4>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn random(shape: [usize; 1], lo: f64, hi: f64, device: &Device) -> Tensor<1> {
    Tensor::random(shape, Distribution::Uniform(lo, hi), device)
}

fn one_hot(classes: usize, h: usize, w: usize) -> (Vec<f32>, Vec<u16>) {
    let ids: Vec<u16> = (0..h * w)
        .map(|i| ((i / 3 + i / w) % classes) as u16)
        .collect();
    one_hot_of(&ids, classes, h, w)
}

fn one_hot_of(ids: &[u16], classes: usize, h: usize, w: usize) -> (Vec<f32>, Vec<u16>) {
    let ids = ids.to_vec();
    let mut sem = vec![0.0; classes * h * w];
    for (p, &id) in ids.iter().enumerate() {
        sem[id as usize * h * w + p] = 1.0;
    }
    (sem, ids)
}

#[test]
fn a_folded_spade_equals_the_layer_as_loaded() {
    let device = Device::flex();
    let (c, classes, h, w) = (6, 4, 9, 11);
    let mut spade = SpadeConfig::new(c, classes).with_hidden(8).init(&device);
    // Statistics far from (0, 1) and weights of unit scale, so that a wrong fold shows.
    spade.param_free_norm.running_mean = RunningState::new(random([c], -2.0, 2.0, &device));
    spade.param_free_norm.running_var = RunningState::new(random([c], 0.05, 4.0, &device));
    for conv in [&mut spade.mlp_gamma, &mut spade.mlp_beta] {
        conv.weight = Param::from_tensor(conv.weight.val().mul_scalar(30.0));
        conv.bias = Some(Param::from_tensor(random([c], -0.5, 0.5, &device)));
    }
    let (sem, ids) = one_hot(classes, h, w);
    let seg = SegMaps::new(Tensor::from_data(
        TensorData::new(sem, [1, classes, h, w]),
        &device,
    ))
    .with_ids(ids, classes);
    let x = Tensor::<4>::random([1, c, h, w], Distribution::Normal(0.5, 2.0), &device);
    let loaded = vec4(spade.forward(x.clone(), &seg));
    let mut folded = spade.clone();
    folded.fold();
    assert!(folded.folded.is_some());
    let out = vec4(folded.forward(x, &seg));
    let d = max_diff(&loaded, &out);
    let scale = loaded.iter().fold(0f32, |m, v| m.max(v.abs()));
    eprintln!("folded SPADE: max |diff| {d:.2e} (outputs up to {scale:.1})");
    assert!(d < 1e-4 * scale.max(1.0), "folded vs loaded: {d}");
}

#[test]
fn a_folded_generator_gives_the_same_picture() {
    // Real weights and statistics: the official code's tiny reference model.
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spade-ref/tiny");
    let opts = ImportOptions {
        dataset: Some(Dataset::Custom),
        crop_size: Some(32),
        ..Default::default()
    };
    let model = import_official(&dir.join("netG.pth"), None, &opts).unwrap();
    let device = Device::flex();
    let g = load_generator(&model.generator, model.generator_weights.clone(), &device).unwrap();
    let classes = model.generator.labels.classes();
    let labels = read_label_png(&dir.join("label.png"), classes, None).unwrap();
    let [h, w] = model.generator.output_size();
    let (sem, ids) = one_hot_of(labels.data(), classes, h, w);
    let seg = SegMaps::new(Tensor::from_data(
        TensorData::new(sem, [1, classes, h, w]),
        &device,
    ))
    .with_ids(ids, classes);
    // The body's output (before conv_img and tanh, which could hide a difference).
    let body = |g: &gaugan::model::Generator| vec4(g.body(g.latent_input(&seg, None), &seg));
    let loaded = body(&g);
    let out = body(&g.folded());
    let d = max_diff(&loaded, &out);
    let spread = loaded.iter().fold(0f32, |m, v| m.max(v.abs()));
    eprintln!("folded generator body: max |diff| {d:.2e} (values up to {spread:.2})");
    assert!(spread > 0.3, "the test features should not be flat");
    assert!(d < 1e-4 * spread, "folded vs loaded: {d}");
    // The original is untouched by folding its copy.
    assert_eq!(body(&g), loaded);
}
