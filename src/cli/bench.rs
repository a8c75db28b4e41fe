//! `gaugan bench`: forward latency of the generator, the naive dense path beside the optimised
//! (lookup) path in the same process, their ratio, peak memory, and the stroke-to-photo time
//! through the app's real worker.
//!
//! Without `--model` it covers the built-in model and a full-size ADE20K-shaped generator
//! (ngf 64, 151 label channels, random weights made here) at 256 and 512 px. With `--model` it
//! measures that model, and its last line is `median_ms=<number>` (optimised path, first
//! backend) for scripts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;

use super::{ImportFlags, load_model};
use crate::checkpoint::{ModelFile, untrained_model};
use crate::infer::backend::{self, Backend};
use crate::infer::cpu::Kernel;
use crate::infer::worker::{Reply, SynthRequest, Worker, WorkerOptions};
use crate::infer::{BackendChoice, Precision, SynthPath, Synthesizer};
use crate::labels::png_io::read_label_png;
use crate::labels::{LabelMap, Palette};
use crate::model::{GeneratorConfig, LabelChannels};

/// Arguments of `gaugan bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Measure this model (a gaugan model file or an official .pth with the import flags).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Label map to synthesise (default: a generated one with every class).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Timed runs after one warm-up run.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Backends: auto (the CPU backend, and a hardware GPU when there is one), wgpu or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: BackendChoice,
    /// Skip the naive dense path (only the optimised one).
    #[arg(long)]
    pub no_baseline: bool,
    /// Skip the full-size ADE20K-shaped generators (minutes a forward on a software adapter).
    #[arg(long)]
    pub skip_ade: bool,
    /// Import choices for an official .pth.
    #[command(flatten)]
    pub flags: ImportFlags,
}

/// Latency statistics of one path, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// Fastest.
    pub min: f64,
    /// Slowest.
    pub max: f64,
}

impl Stats {
    fn of(mut ms: Vec<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        let n = ms.len();
        let median = if n % 2 == 1 {
            ms[n / 2]
        } else {
            (ms[n / 2 - 1] + ms[n / 2]) / 2.0
        };
        Stats {
            median,
            min: ms[0],
            max: ms[n - 1],
        }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "median {:9.1} ms  (min {:.1}, max {:.1})",
            self.median, self.min, self.max
        )
    }
}

/// Times `runs` forwards of `synth` on `labels` after one warm-up.
pub fn time_forward(synth: &Synthesizer, labels: &LabelMap, runs: usize) -> anyhow::Result<Stats> {
    let style = synth.random_style(0);
    synth.synthesize(labels, None, style.as_ref())?;
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        synth.synthesize(labels, None, style.as_ref())?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Stats::of(ms))
}

/// A label map with bands and blocks of every class (a busy, painted-looking map).
pub fn synthetic_labels(width: usize, height: usize, classes: usize) -> LabelMap {
    let mut data = vec![0u16; width * height];
    for y in 0..height {
        for x in 0..width {
            let band = y * 8 / height.max(1);
            let block = (x / 16 + (y / 16) * 3) % classes.max(1);
            data[y * width + x] = if (x / 16 + y / 16) % 3 == 0 {
                block as u16
            } else {
                (band * classes / 8).min(classes - 1) as u16
            };
        }
    }
    LabelMap::from_vec(width, height, data).expect("w*h ids")
}

/// A full-size ADE20K-shaped generator (official options: ngf 64, 150 classes + dontcare,
/// SPADE hidden 128, no VAE) at `size`, with random weights.
pub fn ade20k_shaped(size: usize) -> ModelFile {
    let palette = Palette::builtin("ade20k").unwrap_or_else(|| Palette::generic(150, true));
    let cfg = GeneratorConfig::new(LabelChannels::new(150).with_dontcare(true))
        .with_ngf(64)
        .with_crop_size(size);
    untrained_model(cfg, None, palette, "bench: ADE20K-shaped, random weights")
}

fn peak_mib() -> String {
    super::train::peak_memory_mib()
        .map(|m| format!("{m:.0} MiB"))
        .unwrap_or_else(|| "n/a".into())
}

fn backends(choice: BackendChoice) -> anyhow::Result<Vec<Backend>> {
    Ok(match choice {
        BackendChoice::Auto => {
            let mut v = vec![backend::cpu()];
            if let Ok(b) = backend::select(BackendChoice::Auto)
                && b.is_gpu
            {
                v.insert(0, b);
            }
            v
        }
        c => vec![backend::select(c).map_err(anyhow::Error::msg)?],
    })
}

/// Benchmarks one model on one backend; returns the optimised median.
fn bench_model(
    name: &str,
    model: &ModelFile,
    labels: Option<&LabelMap>,
    be: &Backend,
    runs: usize,
    baseline: bool,
) -> anyhow::Result<f64> {
    let [h, w] = model.generator.output_size();
    let owned;
    let labels = match labels {
        Some(l) => l,
        None => {
            owned = synthetic_labels(w, h, model.generator.labels.classes());
            &owned
        }
    };
    let t = Instant::now();
    let mut synth = Synthesizer::new(model, be.device.clone()).context("loading the model")?;
    let load = t.elapsed();
    println!(
        "{name} ({w}x{h}, {:.2} M parameters) on {}: loaded in {:.0} ms",
        model.generator_parameters() as f64 / 1e6,
        be.description,
        load.as_secs_f64() * 1e3
    );
    let best = synth.path;
    let fast = time_forward(&synth, labels, runs)?;
    println!("  optimised ({}): {fast}", path_name(best));
    if baseline {
        if best == SynthPath::Kernels {
            // The same kernels, every SPADE's gamma | beta convolution computed at every pixel.
            if let Some(cpu) = synth.cpu_generator_mut() {
                cpu.use_patterns = false;
            }
            let every_pixel = time_forward(&synth, labels, runs)?;
            if let Some(cpu) = synth.cpu_generator_mut() {
                cpu.use_patterns = true;
            }
            println!(
                "  without window reuse (gamma | beta convolved at every pixel): {every_pixel}"
            );
            println!(
                "  window reuse speed-up: {:.2}x (every-pixel median / optimised median)",
                every_pixel.median / fast.median
            );
            synth.path = SynthPath::Lookup;
            let lookup = time_forward(&synth, labels, runs)?;
            println!("  {}: {lookup}", path_name(SynthPath::Lookup));
        } else if cfg!(feature = "gpu") {
            // The generator as loaded: spectral norm and batch norm computed in every forward,
            // mlp_gamma and mlp_beta apart.
            synth.fold = false;
            let unfolded = time_forward(&synth, labels, runs)?;
            synth.fold = true;
            println!("  without folding (spectral + batch norm, gamma and beta apart): {unfolded}");
            println!(
                "  folding speed-up: {:.2}x (unfolded median / folded median)",
                unfolded.median / fast.median
            );
            // The same layers in Burn's ops (gather + add, four passes): what the WGSL kernels
            // replace.
            synth.wgsl_kernels = false;
            let gather = time_forward(&synth, labels, runs)?;
            synth.wgsl_kernels = true;
            println!(
                "  SPADE in Burn's ops (lookup as gather + add, modulation in 4 passes): {gather}"
            );
            println!(
                "  WGSL kernels speed-up: {:.2}x (Burn-ops median / kernels median)",
                gather.median / fast.median
            );
        }
        synth.path = SynthPath::Dense;
        let dense = time_forward(&synth, labels, runs)?;
        println!("  naive ({}): {dense}", path_name(SynthPath::Dense));
        println!(
            "  speed-up: {:.2}x (naive median / optimised median)",
            dense.median / fast.median
        );
        synth.path = best;
    }
    if best != SynthPath::Kernels && be.device.supports_dtype(burn::tensor::FloatDType::F16) {
        let half = Synthesizer::with_precision(model, be.device.clone(), Precision::Half)
            .context("loading the model in f16")?;
        let h16 = time_forward(&half, labels, runs)?;
        println!("  f16 (Burn, not folded, lookup SPADE as above): {h16}");
        println!(
            "  f16 speed-up: {:.2}x (f32 median / f16 median)",
            fast.median / h16.median
        );
    }
    println!("  peak memory so far: {}", peak_mib());
    Ok(fast.median)
}

/// The SPADE lookup alone on a wgpu device, ADE20K-sized (151 label channels, hidden 128,
/// 256 x 256, the first SPADE of a full-size generator's last block): the WGSL kernel against the
/// same lookup in Burn's ops (gather + add), and the dense convolution over the one-hot map.
/// Each run encodes the ids afresh (as a stroke does) and waits for the result.
fn lookup_alone(be: &Backend, runs: usize) -> anyhow::Result<()> {
    use crate::model::SegMaps;
    use crate::model::spade::{lookup_conv, same_conv};
    let (classes, hidden, size) = (151, 128, 256);
    let device = &be.device;
    let conv = same_conv(classes, hidden, 3, device);
    let labels = synthetic_labels(size, size, classes);
    let ids = labels.data().to_vec();
    let onehot = crate::labels::encode::semantics(&labels, classes, None);
    let sem = burn::tensor::Tensor::<4>::from_data(
        burn::tensor::TensorData::new(onehot, [1, classes, size, size]),
        device,
    );
    let time = |f: &dyn Fn() -> burn::tensor::Tensor<4>| -> Stats {
        let _: f32 = f().sum().into_scalar(); // warm-up (pipeline compilation)
        Stats::of(
            (0..runs.max(1))
                .map(|_| {
                    let t = Instant::now();
                    let _: f32 = f().sum().into_scalar();
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect(),
        )
    };
    let kernel = time(&|| {
        let seg = SegMaps::new(sem.clone()).with_ids(ids.clone(), classes);
        lookup_conv(&conv, &seg, [size, size]).expect("ids given")
    });
    let gather = time(&|| {
        let seg = SegMaps::new(sem.clone()).with_ids_gather(ids.clone(), classes);
        lookup_conv(&conv, &seg, [size, size]).expect("ids given")
    });
    let dense = time(&|| conv.forward(sem.clone()));
    println!(
        "SPADE mlp_shared alone (151 -> 128 channels, 3x3, 256 x 256) on {}:",
        be.description
    );
    println!("  WGSL lookup kernel: {kernel}");
    println!(
        "  Burn gather + add:  {gather}  ({:.2}x the kernel's time)",
        gather.median / kernel.median
    );
    println!(
        "  dense convolution:  {dense}  ({:.2}x the kernel's time)",
        dense.median / kernel.median
    );
    Ok(())
}

/// How a path is called in the report.
fn path_name(path: SynthPath) -> String {
    match path {
        SynthPath::Kernels => format!("folded generator, CPU kernels {}", Kernel::detect().name()),
        SynthPath::Lookup if cfg!(feature = "gpu") => {
            "Burn, lookup SPADE (on wgpu: folded, WGSL kernels)".into()
        }
        SynthPath::Lookup => "Burn, lookup SPADE".into(),
        SynthPath::Dense => "Burn, dense one-hot".into(),
    }
}

/// Stroke-to-photo through the app's worker: a stroke changes the labels, the request goes to
/// the worker thread, the photo comes back. Returns the statistics.
pub fn stroke_to_photo(model: Arc<ModelFile>, be: &Backend, runs: usize) -> anyhow::Result<Stats> {
    let [h, w] = model.generator.output_size();
    let classes = model.generator.labels.classes();
    // On wgpu the photo stays on the GPU, as the app shows it when it shares the window's device.
    let options = WorkerOptions {
        gpu_photos: be.device.clone().inner() != burn::tensor::Device::flex(),
        ..Default::default()
    };
    let worker = Worker::spawn(model, be.device.clone(), options, || {});
    let deadline = Instant::now() + Duration::from_secs(600);
    let wait = |id: Option<u64>| -> anyhow::Result<()> {
        loop {
            // Blocking, as the app's window sleeps until the worker's repaint request: polling
            // here would take CPU time from the inference threads on a small machine.
            match worker.recv_timeout(Duration::from_millis(50)) {
                Some(Reply::Ready { .. }) if id.is_none() => return Ok(()),
                Some(Reply::LoadFailed(e)) => bail!("the worker could not load the model: {e}"),
                Some(Reply::Photo { id: got, .. }) if Some(got) == id => return Ok(()),
                #[cfg(feature = "gpu")]
                Some(Reply::GpuPhoto { id: got, .. }) if Some(got) == id => return Ok(()),
                Some(Reply::SynthFailed { error, .. }) => bail!("synthesis failed: {error}"),
                _ => {}
            }
            if Instant::now() > deadline {
                bail!("the worker did not answer in 10 minutes");
            }
        }
    };
    wait(None)?;
    let mut labels = synthetic_labels(w, h, classes);
    let mut ms = Vec::new();
    for i in 0..=runs.max(1) as u64 {
        // A stroke: a disc of another class somewhere on the map.
        let (cx, cy, r) = ((i as usize * 37) % w, (i as usize * 53) % h, w / 16 + 2);
        for y in cy.saturating_sub(r)..(cy + r).min(h) {
            for x in cx.saturating_sub(r)..(cx + r).min(w) {
                if (x as i64 - cx as i64).pow(2) + (y as i64 - cy as i64).pow(2) <= (r * r) as i64 {
                    labels.set(x, y, ((i as usize + 1) % classes) as u16);
                }
            }
        }
        let t = Instant::now();
        worker.request(SynthRequest {
            id: i,
            labels: labels.clone(),
            style: None,
        });
        wait(Some(i))?;
        if i > 0 {
            ms.push(t.elapsed().as_secs_f64() * 1e3); // the first one is the warm-up
        }
    }
    Ok(Stats::of(ms))
}

/// Runs `gaugan bench`.
pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    let backends = backends(a.backend)?;
    let labels = match &a.labels {
        Some(p) => Some(read_label_png(p, u16::MAX as usize + 1, None)?),
        None => None,
    };
    println!(
        "gaugan bench: {} timed run(s) after one warm-up; {} CPU thread(s)",
        a.runs,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    if let Some(path) = &a.model {
        let model = load_model(path, None, &a.flags.options())?;
        let name = path.display().to_string();
        let mut first = None;
        for be in &backends {
            let m = bench_model(&name, &model, labels.as_ref(), be, a.runs, !a.no_baseline)?;
            first.get_or_insert(m);
        }
        println!("median_ms={:.3}", first.unwrap_or(f64::NAN));
        return Ok(());
    }
    let (default, default_name) =
        crate::checkpoint::builtin::default_model().map_err(anyhow::Error::msg)?;
    let default = Arc::new(default);
    for be in &backends {
        bench_model(
            &default_name,
            &default,
            labels.as_ref(),
            be,
            a.runs,
            !a.no_baseline,
        )?;
        let s = stroke_to_photo(default.clone(), be, a.runs)?;
        println!("  stroke to photo through the app's worker ({default_name}): {s}");
        if cfg!(feature = "gpu") && be.device.clone().inner() != burn::tensor::Device::flex() {
            lookup_alone(be, a.runs)?;
        }
        for size in [256, 512].into_iter().filter(|_| !a.skip_ade) {
            let m = ade20k_shaped(size);
            let runs = if size >= 512 { a.runs.min(3) } else { a.runs };
            bench_model(
                &format!("ADE20K-shaped generator {size}"),
                &m,
                None,
                be,
                runs,
                !a.no_baseline,
            )?;
        }
    }
    Ok(())
}
