//! Parity with the official NVlabs/SPADE code: the shared `ade20k-small` fixture and our own
//! reference fixtures (VAE + encoder, instance edges, 2:1 aspect, more/most upsampling, other
//! label counts), on the CPU backend; the tiny and the VAE + edges fixtures also on wgpu, through
//! the WGSL lookup kernel.

mod common;

use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use common::*;
use gaugan::checkpoint::convert::load_generator;
use gaugan::checkpoint::{Dataset, ImportOptions, import_official};
use gaugan::infer::{Photo, Precision, Style, SynthPath, Synthesizer};
use gaugan::labels::png_io::{read_instance_png, read_label_png};
use gaugan::model::{SegMaps, Upsampling};

/// Every path the CPU backend has (the CPU kernels, Burn with lookup SPADE, Burn dense), each
/// held to the parity bound.
fn on_every_cpu_path(
    what: &str,
    synth: &mut Synthesizer,
    expected: &[f32],
    run: impl Fn(&Synthesizer) -> Photo,
) {
    for path in [SynthPath::Kernels, SynthPath::Lookup, SynthPath::Dense] {
        synth.path = path;
        let photo = run(synth);
        assert_parity(&format!("{what} ({path:?})"), &photo.data, expected);
    }
    synth.path = SynthPath::Kernels;
}

fn ade20k_opts() -> ImportOptions {
    ImportOptions {
        dataset: Some(Dataset::Ade20k),
        ..Default::default()
    }
}

fn check_ade20k_small(file: &str) {
    let Some(dir) = shared_fixture() else { return };
    let model = import_official(&dir.join(file), None, &ade20k_opts()).unwrap();
    assert_eq!(model.generator_parameters(), 13_963_251);
    let mut synth = Synthesizer::new(&model, Device::flex()).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 151, None).unwrap();
    let photo = synth.synthesize(&labels, None, None).unwrap();
    assert_eq!((photo.width, photo.height), (256, 256));
    on_every_cpu_path(file, &mut synth, &npy(dir.join("expected.npy")), |s| {
        s.synthesize(&labels, None, None).unwrap()
    });
}

#[test]
fn ade20k_small_zip_matches_official_on_cpu() {
    check_ade20k_small("netG.pth");
}

#[test]
fn ade20k_small_legacy_matches_official_on_cpu() {
    check_ade20k_small("netG_legacy.pth");
}

#[test]
fn ade20k_small_intermediates() {
    // Where a port drifts: the head and the first blocks against the official activations.
    let Some(dir) = shared_fixture() else { return };
    let model = import_official(&dir.join("netG.pth"), None, &ade20k_opts()).unwrap();
    let device = Device::flex();
    let g = load_generator(&model.generator, model.generator_weights.clone(), &device).unwrap();
    let synth = Synthesizer::new(&model, device).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 151, None).unwrap();
    let seg = SegMaps::new(synth.semantics_tensor(&labels, None).unwrap());
    let vec = |t: Tensor<4>| {
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let x = g.latent_input(&seg, None);
    assert_parity(
        "fc",
        &vec(x.clone()),
        &npy(dir.join("intermediates/fc.npy")),
    );
    let (gamma, beta) = g.head_0.norm_0.gamma_beta(x.dims(), &seg);
    assert_parity(
        "head_0.norm_0.gamma",
        &vec(gamma),
        &npy(dir.join("intermediates/head_0.norm_0.gamma.npy")),
    );
    assert_parity(
        "head_0.norm_0.beta",
        &vec(beta),
        &npy(dir.join("intermediates/head_0.norm_0.beta.npy")),
    );
    let x = g.head_0.forward(x, &seg);
    assert_parity(
        "head_0",
        &vec(x.clone()),
        &npy(dir.join("intermediates/head_0.npy")),
    );
}

/// The VAE + encoder fixture with an instance-edge channel at 2:1: its model, label and
/// instance maps, the official `mu` as the style, and the folder (for the expected arrays).
struct VaeFixture {
    dir: std::path::PathBuf,
    model: gaugan::checkpoint::ModelFile,
    labels: gaugan::labels::LabelMap,
    inst: gaugan::labels::InstanceMap,
    z: Style,
}

fn vae_fixture() -> VaeFixture {
    let dir = ref_fixture("vae-inst-2to1");
    let opts = ImportOptions {
        dataset: Some(Dataset::Custom),
        label_nc: Some(12),
        instance: Some(true),
        aspect_ratio: Some(2.0),
        ..Default::default()
    };
    let model = import_official(&dir.join("netG.pth"), Some(&dir.join("netE.pth")), &opts).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 12, None).unwrap();
    let inst = read_instance_png(&dir.join("instance.png")).unwrap();
    let z = Style {
        z: npy(dir.join("mu.npy")),
    };
    VaeFixture {
        dir,
        model,
        labels,
        inst,
        z,
    }
}

#[test]
fn vae_encoder_instance_and_2to1_aspect_match_official() {
    let VaeFixture {
        dir,
        model,
        labels,
        inst,
        z,
    } = vae_fixture();
    assert_eq!(model.generator.output_size(), [128, 256]);
    assert_eq!(model.generator.z_dim, Some(256));
    assert_eq!(model.generator_parameters(), 2_636_751);
    assert_eq!(model.encoder_parameters(), 287_244);
    let mut synth = Synthesizer::new(&model, Device::flex()).unwrap();

    // The semantic input, edges included, is bit-exact.
    let sem = synth.semantics_tensor(&labels, Some(&inst)).unwrap();
    let sem = sem
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    assert_eq!(sem, npy(dir.join("semantics.npy")));

    // Encoder: style.npy -> mu, logvar.
    let style = npy(dir.join("style.npy"));
    let (mu, logvar) = synth.encode_tensor(style, 128, 256).unwrap();
    assert_parity("mu", &mu.z, &npy(dir.join("mu.npy")));
    assert_parity("logvar", &logvar, &npy(dir.join("logvar.npy")));

    // Generator with z = mu (the official mu, to test G alone).
    let photo = synth.synthesize(&labels, Some(&inst), Some(&z)).unwrap();
    assert_eq!((photo.width, photo.height), (256, 128));
    on_every_cpu_path(
        "vae G(z=mu)",
        &mut synth,
        &npy(dir.join("expected.npy")),
        |s| s.synthesize(&labels, Some(&inst), Some(&z)).unwrap(),
    );
}

#[test]
fn more_upsampling_with_dontcare_matches_official() {
    let dir = ref_fixture("more-up");
    let opts = ImportOptions {
        dataset: Some(Dataset::Custom),
        label_nc: Some(7),
        dontcare: Some(true),
        upsampling: Some(Upsampling::More),
        crop_size: Some(128),
        ..Default::default()
    };
    let model = import_official(&dir.join("netG.pth"), None, &opts).unwrap();
    assert_eq!(model.generator.latent_size(), [2, 2]);
    let mut synth = Synthesizer::new(&model, Device::flex()).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 8, None).unwrap();
    on_every_cpu_path("more-up", &mut synth, &npy(dir.join("expected.npy")), |s| {
        s.synthesize(&labels, None, None).unwrap()
    });
}

#[test]
fn most_upsampling_legacy_checkpoint_matches_official() {
    let dir = ref_fixture("most-up");
    let opts = ImportOptions {
        dataset: Some(Dataset::Custom),
        crop_size: Some(128),
        ..Default::default()
    };
    // label_nc (20) and `most` (up_4 present) are inferred from the shapes.
    let model = import_official(&dir.join("netG_legacy.pth"), None, &opts).unwrap();
    assert_eq!(model.generator.upsampling, Upsampling::Most);
    assert_eq!(model.generator.labels.label_nc, 20);
    let mut synth = Synthesizer::new(&model, Device::flex()).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 20, None).unwrap();
    on_every_cpu_path("most-up", &mut synth, &npy(dir.join("expected.npy")), |s| {
        s.synthesize(&labels, None, None).unwrap()
    });
}

fn tiny_model() -> gaugan::checkpoint::ModelFile {
    let dir = ref_fixture("tiny");
    let opts = ImportOptions {
        dataset: Some(Dataset::Custom),
        crop_size: Some(32),
        ..Default::default()
    };
    import_official(&dir.join("netG.pth"), None, &opts).unwrap()
}

#[test]
fn tiny_matches_official_on_cpu() {
    let dir = ref_fixture("tiny");
    let mut synth = Synthesizer::new(&tiny_model(), Device::flex()).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 5, None).unwrap();
    on_every_cpu_path(
        "tiny (cpu)",
        &mut synth,
        &npy(dir.join("expected.npy")),
        |s| s.synthesize(&labels, None, None).unwrap(),
    );
}

#[test]
fn tiny_matches_official_on_wgpu() {
    let Some(be) = wgpu_backend() else { return };
    let dir = ref_fixture("tiny");
    let mut synth = Synthesizer::new(&tiny_model(), be.device).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 5, None).unwrap();
    let expected = npy(dir.join("expected.npy"));
    // The folded generator with the WGSL lookup kernel (the default), unfolded, with Burn's
    // gather, and the dense one-hot path.
    for (path, kernel, fold) in [
        (SynthPath::Lookup, true, true),
        (SynthPath::Lookup, true, false),
        (SynthPath::Lookup, false, true),
        (SynthPath::Dense, true, true),
    ] {
        synth.path = path;
        synth.wgsl_kernels = kernel;
        synth.fold = fold;
        let photo = synth.synthesize(&labels, None, None).unwrap();
        assert_parity(
            &format!("tiny (wgpu, {path:?}, kernel {kernel}, folded {fold})"),
            &photo.data,
            &expected,
        );
    }
}

#[test]
fn vae_with_instance_edges_matches_official_on_wgpu() {
    // The lookup kernel beside a dense edge channel, at 2:1, with a style vector.
    let Some(be) = wgpu_backend() else { return };
    let f = vae_fixture();
    let synth = Synthesizer::new(&f.model, be.device).unwrap();
    assert_eq!((synth.path, synth.wgsl_kernels), (SynthPath::Lookup, true));
    let photo = synth
        .synthesize(&f.labels, Some(&f.inst), Some(&f.z))
        .unwrap();
    assert_parity(
        "vae G(z=mu) (wgpu)",
        &photo.data,
        &npy(f.dir.join("expected.npy")),
    );
}

/// The f16 bound of [`Precision::Half`], against the official f32 output.
fn assert_half_parity(what: &str, ours: &[f32], expected: &[f32]) {
    let (max, mean) = diff(ours, expected);
    eprintln!("{what}: max |diff| {max:.3e}, mean {mean:.3e} (f16 bound: 5e-2, 5e-3)");
    assert!(
        max <= 5e-2 && mean <= 5e-3,
        "{what}: max |diff| {max:e} (bound 5e-2), mean {mean:e} (bound 5e-3)"
    );
}

#[test]
fn half_precision_on_wgpu_stays_within_its_bound() {
    let Some(be) = wgpu_backend() else { return };
    if !be.device.supports_dtype(FloatDType::F16) {
        // lavapipe computes in f16; a user's adapter may not.
        assert!(
            std::env::var("CI").is_err(),
            "CI: the wgpu adapter ({}) should support f16",
            be.description
        );
        eprintln!("SKIPPED: {} has no f16", be.description);
        return;
    }
    assert!(matches!(
        Synthesizer::with_precision(&tiny_model(), Device::flex(), Precision::Half),
        Err(gaugan::infer::EngineError::NoHalf)
    ));
    let dir = ref_fixture("tiny");
    let synth =
        Synthesizer::with_precision(&tiny_model(), be.device.clone(), Precision::Half).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 5, None).unwrap();
    let photo = synth.synthesize(&labels, None, None).unwrap();
    assert_half_parity(
        "tiny (wgpu, f16)",
        &photo.data,
        &npy(dir.join("expected.npy")),
    );

    let f = vae_fixture();
    let synth = Synthesizer::with_precision(&f.model, be.device, Precision::Half).unwrap();
    let photo = synth
        .synthesize(&f.labels, Some(&f.inst), Some(&f.z))
        .unwrap();
    assert_half_parity(
        "vae G(z=mu) (wgpu, f16)",
        &photo.data,
        &npy(f.dir.join("expected.npy")),
    );
}

#[test]
fn shared_fixture_on_a_real_gpu() {
    // Only where a hardware GPU exists (the lavapipe software adapter would take minutes).
    let Some(dir) = shared_fixture() else { return };
    let Some(gpu) = gaugan::infer::backend::adapters()
        .into_iter()
        .find(|a| a.is_gpu)
    else {
        eprintln!("SKIPPED: no hardware GPU");
        return;
    };
    eprintln!("GPU: {}", gpu.name);
    let be = gaugan::infer::backend::select(gaugan::infer::BackendChoice::Auto).unwrap();
    let model = import_official(&dir.join("netG.pth"), None, &ade20k_opts()).unwrap();
    let synth = Synthesizer::new(&model, be.device.clone()).unwrap();
    let labels = read_label_png(&dir.join("label.png"), 151, None).unwrap();
    let photo = synth.synthesize(&labels, None, None).unwrap();
    assert_parity(
        "ade20k-small (gpu)",
        &photo.data,
        &npy(dir.join("expected.npy")),
    );
    if be.device.supports_dtype(FloatDType::F16) {
        let synth = Synthesizer::with_precision(&model, be.device, Precision::Half).unwrap();
        let photo = synth.synthesize(&labels, None, None).unwrap();
        assert_half_parity(
            "ade20k-small (gpu, f16)",
            &photo.data,
            &npy(dir.join("expected.npy")),
        );
    }
}

#[test]
fn nearest_resize_on_device_takes_the_top_left_pixel() {
    // PyTorch's nearest: output i reads input floor(i * in / out).
    let device = Device::flex();
    let x = Tensor::<4>::from_data(
        TensorData::new((0..36).map(|v| v as f32).collect::<Vec<_>>(), [1, 1, 6, 6]),
        &device,
    );
    let y = gaugan::model::spade::nearest_resize(x, [3, 2]);
    let y = y
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    // rows floor(i*6/3) = 0,2,4; cols floor(j*6/2) = 0,3
    assert_eq!(y, vec![0., 3., 12., 15., 24., 27.]);
}
