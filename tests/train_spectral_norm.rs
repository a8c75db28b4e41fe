//! Spectral normalisation in training mode matches PyTorch's `torch.nn.utils.spectral_norm` on a
//! known matrix: one power iteration per forward, `u`, `v` updated, `sigma` and the effective
//! weight as PyTorch computes them, for two consecutive training steps; then eval mode with the
//! stored vectors (fixture: `tests/fixtures/spade-ref/spectral-norm/power_iteration.json`).

use burn::module::{Param, RunningState};
use burn::tensor::{Device, Tensor, TensorData};
use gaugan::model::spectral_norm::SpectralConv2d;
use serde_json::Value;

fn fixture() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spade-ref/spectral-norm/power_iteration.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn floats(v: &Value, key: &str) -> Vec<f32> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}"))
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn assert_close(what: &str, ours: &[f32], theirs: &[f32], tol: f32) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let max = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    eprintln!("{what}: max |diff| {max:.2e}");
    assert!(max <= tol, "{what}: max |diff| {max:e} > {tol:e}");
}

fn layer(f: &Value, u: Vec<f32>, v: Vec<f32>, device: &Device) -> SpectralConv2d {
    let w = floats(f, "weight");
    let bias = floats(f, "bias");
    let (nu, nv) = (u.len(), v.len());
    SpectralConv2d {
        weight_orig: Param::from_tensor(Tensor::from_data(
            TensorData::new(w, [8, 3, 3, 3]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [8]),
            device,
        ))),
        weight_u: RunningState::new(Tensor::from_data(TensorData::new(u, [nu]), device)),
        weight_v: RunningState::new(Tensor::from_data(TensorData::new(v, [nv]), device)),
        stride: 1,
        padding: 0,
        folded: false,
    }
}

#[test]
fn two_training_steps_match_pytorch() {
    let f = fixture();
    let device = Device::flex().autodiff();
    let conv = layer(&f, floats(&f, "u_init"), floats(&f, "v_init"), &device);
    let w_orig = floats(&f, "weight");

    // Step 1: one power iteration from (u0, v0).
    let w1 = host(conv.weight());
    assert_close(
        "u after step 1",
        &host(conv.weight_u.value()),
        &floats(&f, "u_after"),
        1e-5,
    );
    assert_close(
        "v after step 1",
        &host(conv.weight_v.value()),
        &floats(&f, "v_after"),
        1e-5,
    );
    assert_close(
        "weight after step 1",
        &w1,
        &floats(&f, "weight_effective"),
        1e-5,
    );
    let sigma1 = w_orig[0] / w1[0];
    let expected = f["sigma"].as_f64().unwrap() as f32;
    assert!(
        (sigma1 - expected).abs() < 1e-4 * expected,
        "sigma {sigma1} vs {expected}"
    );

    // The convolution in training mode uses that weight.
    let x = Tensor::<4>::from_data(
        TensorData::new(floats(&f, "conv_input"), [1, 3, 5, 5]),
        &device,
    );
    let conv2 = layer(&f, floats(&f, "u_init"), floats(&f, "v_init"), &device);
    assert_close(
        "conv output step 1",
        &host(conv2.forward(x.clone())),
        &floats(&f, "conv_output_step1"),
        1e-4,
    );

    // Step 2 continues from the updated vectors.
    let w2 = host(conv.weight());
    assert_close(
        "u after step 2",
        &host(conv.weight_u.value()),
        &floats(&f, "u_after2"),
        1e-5,
    );
    assert_close(
        "v after step 2",
        &host(conv.weight_v.value()),
        &floats(&f, "v_after2"),
        1e-5,
    );
    assert_close(
        "weight after step 2",
        &w2,
        &floats(&f, "weight_effective2"),
        1e-5,
    );
    let sigma2 = w_orig[0] / w2[0];
    let expected2 = f["sigma2"].as_f64().unwrap() as f32;
    assert!(
        (sigma2 - expected2).abs() < 1e-4 * expected2,
        "sigma2 {sigma2} vs {expected2}"
    );

    // Gradients flow to weight_orig through sigma (not through u, v).
    let loss = conv2.forward(x).sum();
    let grads = loss.backward();
    let g = conv2
        .weight_orig
        .val()
        .grad(&grads)
        .expect("weight_orig has a gradient");
    assert!(host(g).iter().all(|v| v.is_finite()));
}

#[test]
fn eval_mode_uses_the_stored_vectors() {
    let f = fixture();
    let device = Device::flex();
    // After two training steps PyTorch stores u_after2, v_after2; eval does no iteration.
    let conv = layer(&f, floats(&f, "u_after2"), floats(&f, "v_after2"), &device);
    let x = Tensor::<4>::from_data(
        TensorData::new(floats(&f, "conv_input"), [1, 3, 5, 5]),
        &device,
    );
    assert_close(
        "eval conv output after step 2",
        &host(conv.forward(x)),
        &floats(&f, "conv_output_eval_after_step2"),
        1e-4,
    );
    assert_close(
        "eval weight",
        &host(conv.weight()),
        &floats(&f, "weight_effective2"),
        1e-5,
    );
    // no update in eval mode
    assert_close(
        "u unchanged",
        &host(conv.weight_u.value()),
        &floats(&f, "u_after2"),
        0.0,
    );
}
