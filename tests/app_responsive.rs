//! A UI frame never waits on inference: with a deliberately slow model (every photo takes seconds),
//! frames while painting stay fast, requests coalesce, and the end of the stroke gets its photo.
//! In a test binary of its own so that no other test competes for the CPU while it measures.
#![cfg(feature = "app")]

mod app_common;

use std::time::{Duration, Instant};

use app_common::*;

#[test]
fn frames_stay_fast_while_a_slow_model_computes() {
    let dir = tempfile::tempdir().unwrap();
    let delay = Duration::from_secs(2);
    let mut h = harness(options(tiny_model(true), dir.path(), delay));
    wait_for_photo(&mut h, Duration::from_secs(60));
    let photos_before = h.state().paint_tab().engine().photos();

    // A long stroke: one frame per pointer move, each frame sending a new label map.
    let points: Vec<(f32, f32)> = (0..60)
        .map(|i| (2.0 + i as f32, 10.0 + (i as f32 * 0.3).sin() * 8.0))
        .collect();
    let ps: Vec<egui::Pos2> = points.iter().map(|&(x, y)| screen(&h, x, y)).collect();
    let mut frame_times = Vec::new();
    let mut timed_step = |h: &mut egui_kittest::Harness<'static, _>| {
        let t = Instant::now();
        h.step();
        frame_times.push(t.elapsed());
    };
    h.hover_at(ps[0]);
    h.drag_at(ps[0]);
    timed_step(&mut h);
    let mut busy_frames = 0;
    for p in &ps[1..] {
        h.hover_at(*p);
        timed_step(&mut h);
        if h.state().paint_tab().engine().is_busy() {
            busy_frames += 1;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    h.drop_at(*ps.last().unwrap());
    timed_step(&mut h);
    let final_labels = h.state().paint_tab().labels().clone();
    let last_request = h.state().paint_tab().engine().last_request_id();

    let max = frame_times.iter().max().unwrap();
    let mean = frame_times.iter().sum::<Duration>() / frame_times.len() as u32;
    eprintln!(
        "{} frames while painting: mean {:.2} ms, max {:.2} ms (each photo takes > {delay:?})",
        frame_times.len(),
        mean.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    assert!(
        busy_frames > 30,
        "the worker was not busy during the stroke ({busy_frames})"
    );
    assert!(
        *max < Duration::from_millis(100),
        "a frame took {max:?} while the model computed"
    );

    // The end of the stroke gets its photo, and requests coalesced instead of queueing.
    wait_for_photo(&mut h, Duration::from_secs(60));
    let e = h.state().paint_tab().engine();
    assert_eq!(
        e.shown_id(),
        last_request,
        "the photo is of the final label map"
    );
    assert_eq!(h.state().paint_tab().labels(), &final_labels);
    let computed = e.photos() - photos_before;
    eprintln!(
        "{} requests during the stroke, {computed} photos computed",
        ps.len()
    );
    assert!(
        computed <= 4,
        "{computed} photos computed: requests queued up"
    );
}
