//! A run stopped at a checkpoint and resumed ends exactly where an uninterrupted run ends: the same
//! losses at every step after the checkpoint and the same generator, encoder, discriminator and
//! optimiser state after the same total number of steps.

mod train_support;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use gaugan::checkpoint::StateDict;
use gaugan::train::checkpoint::{self, TrainState};
use gaugan::train::trainer::TrainData;
use gaugan::train::{Trainer, scan};
use train_support::{tiny_config, write_dataset};

/// The loss rows of `losses.csv` without the timing column.
fn loss_rows(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("losses.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit_once(',').unwrap().0.to_owned())
        .collect()
}

fn max_diff(a: &StateDict, b: &StateDict, what: &str) -> f32 {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: keys"
    );
    let mut m = 0f32;
    for ((_, x), (_, y)) in a.iter().zip(b.iter()) {
        for (p, q) in x.data.iter().zip(&y.data) {
            m = m.max((p - q).abs());
        }
    }
    m
}

#[test]
fn resume_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    write_dataset(&data_dir, 7, 32, 2);
    let s = scan(&data_dir).unwrap();
    let pairs = s.usable(false).unwrap();
    let data = TrainData::new(&s, pairs);
    // VAE on (encoder + noise), decay inside the run, an odd dataset size (epochs wrap mid-batch).
    let config = tiny_config(32, 6)
        .with_vae(true)
        .with_decay_steps(4)
        .with_seed(11);
    let stop = AtomicBool::new(false);

    let a = dir.path().join("a");
    Trainer::new(config.clone(), &a, data.clone(), Device::flex())
        .unwrap()
        .run(&stop, |_| {})
        .unwrap();

    let b = dir.path().join("b");
    Trainer::new(
        config.clone().with_steps(3).with_decay_steps(0),
        &b,
        data.clone(),
        Device::flex(),
    )
    .unwrap()
    .run(&stop, |_| {})
    .unwrap();
    // The first part was a 3-step run (no decay yet in its own schedule): resume with the full
    // schedule. Steps 0..3 have factor 1 under both, so the trajectories agree.
    let mut resumed = Trainer::resume(&config, &b, data, Device::flex()).unwrap();
    assert_eq!(resumed.step(), 3);
    resumed.run(&stop, |_| {}).unwrap();

    let (ra, rb) = (loss_rows(&a), loss_rows(&b));
    assert_eq!(ra.len(), 6);
    assert_eq!(rb.len(), 6);
    for (x, y) in ra.iter().zip(&rb) {
        eprintln!("{x}\n{y}");
    }
    assert_eq!(ra, rb, "losses differ");

    let (sa, ma, ta) = checkpoint::latest(&a).unwrap();
    let (sb, mb, tb) = checkpoint::latest(&b).unwrap();
    assert_eq!((sa, sb), (6, 6));
    let dg = max_diff(&ma.generator_weights, &mb.generator_weights, "generator");
    let de = max_diff(&ma.encoder_weights, &mb.encoder_weights, "encoder");
    let dd = max_diff(&ta.discriminator, &tb.discriminator, "discriminator");
    let dog = max_diff(&ta.adam_g, &tb.adam_g, "adam G");
    let dod = max_diff(&ta.adam_d, &tb.adam_d, "adam D");
    eprintln!("max |diff|: G {dg:e}, E {de:e}, D {dd:e}, Adam G {dog:e}, Adam D {dod:e}");
    assert_eq!([dg, de, dd, dog, dod], [0.0; 5]);
    assert_eq!(ta.adam_g_times, tb.adam_g_times);
    assert!(!ma.encoder_weights.is_empty());
}

#[test]
fn the_training_state_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    write_dataset(&data_dir, 3, 32, 5);
    let s = scan(&data_dir).unwrap();
    let data = TrainData::new(&s, s.usable(false).unwrap());
    let mut t = Trainer::new(
        tiny_config(32, 1),
        &dir.path().join("r"),
        data,
        Device::flex(),
    )
    .unwrap();
    t.run(&AtomicBool::new(false), |_| {}).unwrap();
    let state = t.train_state();
    let back = TrainState::from_bytes(&state.to_bytes(), "mem").unwrap();
    assert_eq!(back.step, 1);
    assert_eq!(back.config, state.config);
    assert_eq!(back.discriminator, state.discriminator);
    assert_eq!(back.adam_g, state.adam_g);
    assert_eq!(back.adam_d_times, state.adam_d_times);
    assert!(TrainState::from_bytes(b"garbage", "mem").is_err());
}

/// A one-step 32 px VAE run (in `small/` of the returned folder) on 64 px data, to fine-tune from.
fn small_vae_run() -> (tempfile::TempDir, TrainData, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    write_dataset(&data_dir, 3, 64, 4);
    let s = scan(&data_dir).unwrap();
    let data = TrainData::new(&s, s.usable(false).unwrap());
    let small = dir.path().join("small");
    Trainer::new(
        tiny_config(32, 1).with_vae(true).with_load_size(Some(32)),
        &small,
        data.clone(),
        Device::flex(),
    )
    .unwrap()
    .run(&AtomicBool::new(false), |_| {})
    .unwrap();
    (dir, data, small)
}

#[test]
fn a_vae_model_fine_tunes_at_another_size() {
    // Train at 32 px, go on at 64 px: the style head's latent grid is resampled, the rest kept.
    let (dir, data, small) = small_vae_run();
    let base = gaugan::checkpoint::ModelFile::load(&small.join("model.gaugan")).unwrap();
    let big = dir.path().join("big");
    let config = tiny_config(64, 1)
        .with_load_size(Some(64))
        .with_from(Some(small.join("model.gaugan")));
    let mut t = Trainer::new(config, &big, data, Device::flex()).unwrap();
    assert!(
        t.notes()
            .iter()
            .any(|n| n.contains("latent grid was resampled")),
        "{:?}",
        t.notes()
    );
    let grown = t.model_file();
    assert_eq!(grown.generator.output_size(), [64, 64]);
    // Everything but the head is the trained model's.
    for (k, v) in base.generator_weights.iter() {
        if !k.starts_with("fc.") && !k.contains("running_") {
            assert_eq!(grown.generator_weights.get(k).unwrap(), v, "{k}");
        }
    }
    let [oh, ow] = base.generator.latent_size();
    let [nh, nw] = grown.generator.latent_size();
    assert_eq!((nh, nw), (2 * oh, 2 * ow));
    // New cell (2y+1, 2x) copies old cell (y, x), channel 0.
    let (old_b, new_b) = (
        &base.generator_weights.get("fc.bias").unwrap().data,
        &grown.generator_weights.get("fc.bias").unwrap().data,
    );
    assert_eq!(new_b[nw], old_b[0]);
    t.run(&AtomicBool::new(false), |_| {}).unwrap();
    assert!(big.join("model.gaugan").is_file());
}

#[test]
fn fine_tuning_from_a_checkpoint_folder_keeps_its_discriminator() {
    // A checkpoint folder (model + training state) given to --from brings its discriminator,
    // which being fully convolutional still fits at another size.
    let (dir, data, small) = small_vae_run();
    let (step, _, state) = checkpoint::latest(&small).unwrap();
    let folder = checkpoint::step_dir(&small, step);
    let config = tiny_config(64, 1)
        .with_load_size(Some(64))
        .with_from(Some(folder));
    let t = Trainer::new(
        config.clone(),
        &dir.path().join("big"),
        data.clone(),
        Device::flex(),
    )
    .unwrap();
    assert!(
        t.notes()
            .iter()
            .any(|n| n.contains("took the checkpoint's discriminator")),
        "{:?}",
        t.notes()
    );
    assert_eq!(
        max_diff(&t.train_state().discriminator, &state.discriminator, "D"),
        0.0
    );
    // A model file alone starts a fresh discriminator.
    let from_model = config.with_from(Some(small.join("model.gaugan")));
    let t = Trainer::new(from_model, &dir.path().join("big2"), data, Device::flex()).unwrap();
    assert!(max_diff(&t.train_state().discriminator, &state.discriminator, "D") > 0.0);
}
