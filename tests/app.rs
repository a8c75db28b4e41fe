//! The painting app driven through its real widgets with egui_kittest, on the CPU backend with a
//! tiny model built here.
#![cfg(feature = "app")]

mod app_common;

use std::time::Duration;

use app_common::*;
use egui::{Key, Modifiers, PointerButton};
use egui_kittest::kittest::Queryable;
use gaugan::app::edit::flood_fill;
use gaugan::app::{GauganApp, Tool};
use gaugan::labels::LabelMap;

const PHOTO_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn a_drag_paints_under_the_pointer_and_the_photo_follows() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    let before = h.state().paint_tab().labels().clone();
    let photo_before = h.state().paint_tab().engine().photo().unwrap().clone();
    let image_before = h.state().paint_tab().engine().image().unwrap().clone();
    assert_eq!((before.width(), before.height()), (64, 64));

    // Pick "door" in the palette panel, then drag a horizontal line across the canvas.
    h.get_by_label(&class_label(3)).click();
    h.run_ok();
    assert_eq!(h.state().paint_tab().settings().class, 3);
    h.state_mut().paint_tab_mut().settings_mut().brush_size = 3.0;
    drag(
        &mut h,
        &[(8.0, 30.0), (20.0, 30.0), (40.0, 30.0), (56.0, 30.0)],
    );

    let after = h.state().paint_tab().labels().clone();
    for x in 8..=56 {
        assert_eq!(after.get(x, 30), 3, "pixel ({x}, 30) under the drag");
    }
    assert_eq!(after.get(2, 2), before.get(2, 2), "far from the stroke");
    assert_eq!(after.get(30, 40), before.get(30, 40), "far from the stroke");
    // One stroke is one undo step.
    assert_eq!(h.state().paint_tab().document().history().undo_len(), 1);

    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    let e = h.state().paint_tab().engine();
    assert_ne!(
        e.photo().unwrap().data,
        photo_before.data,
        "the photo did not change"
    );
    assert_ne!(
        e.image().unwrap(),
        &image_before,
        "the photo's pixels did not change"
    );
    assert!(e.texture().is_some());
    assert!(e.last_inference().is_some() && e.last_latency().is_some());
}

#[test]
fn fill_undo_redo_picker_and_brush_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    h.run_ok();
    let start = h.state().paint_tab().labels().clone();

    // Fill the region under (1, 1) with "window" using the Fill tool.
    h.get_by_label("Fill").click();
    h.run_ok();
    assert_eq!(h.state().paint_tab().settings().tool, Tool::Fill);
    h.get_by_label(&class_label(2)).click();
    h.run_ok();
    let p = screen(&h, 1.0, 1.0);
    h.hover_at(p);
    h.drag_at(p);
    h.step();
    h.drop_at(p);
    h.step();
    let mut expected = start.clone();
    let region = start.get(1, 1);
    assert_ne!(region, 2);
    let n = flood_fill(&mut expected, 1, 1, 2);
    assert!(n > 10);
    let filled = h.state().paint_tab().labels().clone();
    assert_eq!(
        filled, expected,
        "fill = 4-connected flood fill of the region"
    );

    // Undo / redo with the keyboard.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels(), &start);
    h.key_press_modifiers(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels(), &filled);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels(), &filled);
    // And with the buttons.
    h.get_by_label("Undo").click();
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels(), &start);
    h.get_by_label("Redo").click();
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels(), &filled);

    // Picker: right click on a pixel takes its class, and so does Alt+click.
    h.state_mut().paint_tab_mut().settings_mut().class = 0;
    let (px, py) = (32.0, 62.0);
    let want = filled.get(px as usize, py as usize);
    let p = screen(&h, px, py);
    h.hover_at(p);
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: p,
            button: PointerButton::Secondary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    h.run_ok();
    assert_eq!(
        h.state().paint_tab().settings().class,
        want,
        "right click picks"
    );
    assert_eq!(
        h.state().paint_tab().labels(),
        &filled,
        "picking paints nothing"
    );

    h.state_mut().paint_tab_mut().settings_mut().class = 0;
    h.get_by_label("Brush").click();
    h.run_ok();
    let q = screen(&h, 1.0, 1.0);
    h.hover_at(q);
    h.step();
    h.event(egui::Event::ModifiersChanged(Modifiers::ALT));
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: q,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::ALT,
        });
    }
    h.event(egui::Event::ModifiersChanged(Modifiers::NONE));
    h.run_ok();
    assert_eq!(h.state().paint_tab().settings().class, 2, "Alt+click picks");
    assert_eq!(
        h.state().paint_tab().labels(),
        &filled,
        "Alt+click paints nothing"
    );

    // [ and ] change the brush size.
    h.state_mut().paint_tab_mut().settings_mut().brush_size = 10.0;
    h.key_press(Key::CloseBracket);
    h.run_ok();
    let bigger = h.state().paint_tab().settings().brush_size;
    assert!(bigger > 10.0, "{bigger}");
    h.key_press(Key::OpenBracket);
    h.key_press(Key::OpenBracket);
    h.run_ok();
    assert!(h.state().paint_tab().settings().brush_size < bigger);
}

#[test]
fn shift_click_draws_a_straight_line_and_eraser_and_clear() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    h.run_ok();
    h.state_mut().paint_tab_mut().settings_mut().brush_size = 1.0;
    h.get_by_label(&class_label(3)).click();
    h.run_ok();
    // A dab at (10, 10), then Shift+click at (50, 50): the diagonal between them is painted.
    drag(&mut h, &[(10.0, 10.0)]);
    let p = screen(&h, 50.0, 50.0);
    h.hover_at(p);
    h.step();
    h.event(egui::Event::ModifiersChanged(Modifiers::SHIFT));
    h.event(egui::Event::PointerButton {
        pos: p,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::SHIFT,
    });
    h.event(egui::Event::PointerButton {
        pos: p,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::SHIFT,
    });
    h.event(egui::Event::ModifiersChanged(Modifiers::NONE));
    h.run_ok();
    let l = h.state().paint_tab().labels().clone();
    for i in 10..=50 {
        assert_eq!(l.get(i, i), 3, "({i}, {i}) on the line");
    }

    // The eraser paints class 0 here (no dontcare class in this palette).
    h.get_by_label("Eraser").click();
    h.run_ok();
    h.state_mut().paint_tab_mut().settings_mut().brush_size = 5.0;
    drag(&mut h, &[(30.0, 30.0), (31.0, 30.0)]);
    assert_eq!(h.state().paint_tab().labels().get(30, 30), 0);

    h.get_by_label("Clear").click();
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels(), &LabelMap::filled(64, 64, 0));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels().get(30, 30), 0);
    assert_eq!(h.state().paint_tab().labels().get(20, 20), 3);
}

#[test]
fn label_maps_and_photos_save_and_reload_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    drag(&mut h, &[(5.0, 5.0), (60.0, 40.0)]);
    let painted = h.state().paint_tab().labels().clone();

    let path = dir.path().join("labels.png");
    h.state_mut().save_labels(&path);
    assert!(path.exists(), "{:?}", h.state().messages());
    // A frame with the "saved" message shown, so that the click lands on the moved button.
    h.run_ok();
    h.get_by_label("Clear").click();
    h.run_ok();
    assert_ne!(h.state().paint_tab().labels(), &painted);
    h.state_mut().open_labels(&path);
    h.run_ok();
    assert_eq!(
        h.state().paint_tab().labels(),
        &painted,
        "indexed PNG round trip"
    );
    // Reopening is one undoable step.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels(), &LabelMap::filled(64, 64, 0));

    // A colour PNG in the palette's colours reads back as the same ids.
    let palette = h.state().paint_tab().palette().clone();
    let rgb = image::RgbImage::from_fn(64, 64, |x, y| {
        image::Rgb(palette.color(painted.get(x as usize, y as usize)))
    });
    let colour = dir.path().join("colour.png");
    rgb.save(&colour).unwrap();
    h.state_mut().open_labels(&colour);
    h.run_ok();
    assert_eq!(
        h.state().paint_tab().labels(),
        &painted,
        "colour PNG through the palette"
    );

    // The photo saves as a PNG of the model's size.
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    let photo = dir.path().join("photo.png");
    h.state_mut().save_photo(&photo);
    let img = image::open(&photo).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (64, 64));
    assert_eq!(&img, h.state().paint_tab().engine().image().unwrap());

    // A label map of another size is resized to the model's, with a note.
    let small = LabelMap::filled(16, 16, 2);
    let p = dir.path().join("small.png");
    std::fs::write(&p, gaugan::labels::png_io::encode_label_png(&small, None)).unwrap();
    h.state_mut().open_labels(&p);
    assert_eq!(h.state().paint_tab().labels(), &LabelMap::filled(64, 64, 2));
    assert!(h.state().messages().iter().any(|m| m.contains("resized")));
}

#[test]
fn bad_files_give_messages_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    h.run_ok();
    let start = h.state().paint_tab().labels().clone();

    // A truncated PNG.
    let good = gaugan::labels::png_io::encode_label_png(&start, None);
    let corrupt = dir.path().join("corrupt.png");
    std::fs::write(&corrupt, &good[..good.len() / 2]).unwrap();
    h.state_mut().open_labels(&corrupt);
    h.run_ok();
    // Ids outside the model's classes.
    let out_of_range = dir.path().join("range.png");
    std::fs::write(
        &out_of_range,
        gaugan::labels::png_io::encode_label_png(&LabelMap::filled(64, 64, 9), None),
    )
    .unwrap();
    h.state_mut().open_labels(&out_of_range);
    // Not a file at all, a missing file, a foreign model, a style image that is not an image.
    let missing = dir.path().join("missing.png");
    h.state_mut().open_labels(&missing);
    let not_model = dir.path().join("junk.gaugan");
    std::fs::write(&not_model, b"definitely not a model").unwrap();
    h.state_mut().open_model(&not_model);
    let not_image = dir.path().join("junk.jpg");
    std::fs::write(&not_image, b"nope").unwrap();
    h.state_mut().open_style(&not_image);
    for _ in 0..200 {
        h.step();
        if !h.state().is_loading_model() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_ok();

    let messages = h.state().messages();
    for (file, what) in [
        ("corrupt.png", "truncated PNG"),
        ("range.png", "out-of-range ids"),
        ("missing.png", "missing file"),
        ("junk.gaugan", "foreign model"),
        ("junk.jpg", "non-image style"),
    ] {
        assert!(
            messages.iter().any(|m| m.contains(file)),
            "no message naming {file} ({what}): {messages:?}"
        );
    }
    assert!(
        messages
            .iter()
            .any(|m| m.contains('9') && m.contains("range.png"))
    );
    // The messages are in the window.
    assert!(h.query_by_label_contains("corrupt.png").is_some());
    assert_eq!(h.state().paint_tab().labels(), &start, "nothing changed");
}

#[test]
fn autosave_is_offered_back_after_a_crash_only() {
    let dir = tempfile::tempdir().unwrap();
    let painted = {
        let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
        h.run_ok();
        drag(&mut h, &[(3.0, 3.0), (40.0, 3.0)]);
        h.state_mut().autosave_now().unwrap();
        h.state().paint_tab().labels().clone()
        // Dropped without a clean exit: a crash.
    };
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    h.run_ok();
    assert!(h.state().recovery_offered().is_some(), "crash not noticed");
    assert_ne!(h.state().paint_tab().labels(), &painted);
    h.get_by_label("Restore").click();
    h.run_ok();
    assert_eq!(h.state().paint_tab().labels(), &painted);
    assert!(h.state().recovery_offered().is_none());
    h.state_mut().clean_exit();
    drop(h);

    // After a clean exit there is nothing to offer.
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    h.run_ok();
    assert!(h.state().recovery_offered().is_none());
}

#[test]
fn styles_from_the_dice_and_from_images_blend() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    let first = h.state().paint_tab().engine().photo().unwrap().clone();

    h.get_by_label("🎲 Random").click();
    h.run_ok();
    wait_until(&mut h, |a| a.paint_tab().styles().entries().count() == 1);
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    let rolled = h.state().paint_tab().engine().photo().unwrap().clone();

    let style = dir.path().join("style.png");
    image::RgbImage::from_fn(80, 50, |x, y| {
        image::Rgb([(x * 3) as u8, (y * 5) as u8, 90])
    })
    .save(&style)
    .unwrap();
    h.state_mut().open_style(&style);
    wait_until(&mut h, |a| a.paint_tab().styles().entries().count() == 2);
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    let encoded = h.state().paint_tab().engine().photo().unwrap().clone();
    assert_ne!(rolled.data, first.data, "the dice changed nothing");
    assert_ne!(encoded.data, rolled.data, "the style image changed nothing");

    // The blend slider between the two styles: at 0 the photo is the dice's again.
    assert!(h.query_all_by_label_contains("blend").next().is_some());
    h.state_mut().paint_tab_mut().styles_mut().0.set_blend(0.0);
    h.step();
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    let blended = h.state().paint_tab().engine().photo().unwrap().clone();
    assert_eq!(blended.data, rolled.data, "blend 0 = the older style");
}

#[test]
fn a_model_without_encoder_keeps_the_dice() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(false), dir.path(), Duration::ZERO));
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    assert!(h.query_by_label_contains("no image encoder").is_some());
    let style = dir.path().join("style.png");
    image::RgbImage::new(8, 8).save(&style).unwrap();
    h.state_mut().open_style(&style);
    h.run_ok();
    assert!(
        h.state()
            .messages()
            .iter()
            .any(|m| m.contains("style.png") && m.contains("encoder")),
        "{:?}",
        h.state().messages()
    );
    h.get_by_label("🎲 Random").click();
    h.run_ok();
    wait_until(&mut h, |a| a.paint_tab().styles().entries().count() == 1);
}

#[test]
fn another_model_opens_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    h.run_ok();
    // A second model of another size, without encoder.
    let base = tiny_model(false);
    let other = gaugan::checkpoint::untrained_model(
        base.generator.clone().with_crop_size(32),
        None,
        base.palette.clone(),
        "other",
    );
    let path = dir.path().join("other.gaugan");
    other.save(&path).unwrap();
    h.state_mut().open_model(&path);
    wait_until(&mut h, |a| !a.is_loading_model());
    assert_eq!(h.state().paint_tab().engine().model_name(), "other.gaugan");
    assert_eq!(h.state().paint_tab().labels().width(), 32);
    assert_eq!(
        h.state().settings().last_model.as_deref(),
        Some(path.as_path())
    );
    wait_for_photo(&mut h, PHOTO_TIMEOUT);
    assert_eq!(h.state().paint_tab().engine().image().unwrap().width(), 32);
    // The Model tab shows it.
    h.get_by_label("Model").click();
    h.run_ok();
    // The tab's heading (the message "opened model other.gaugan" names it too).
    assert!(h.query_by_label("other.gaugan").is_some());
    // And the Training tab opens, its settings labelled.
    h.get_by_label("Train").click();
    h.run_ok();
    assert!(h.query_by_label("Batch").is_some());
}

#[test]
fn settings_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(tiny_model(true), dir.path(), Duration::ZERO));
    h.run_ok();
    h.state_mut().paint_tab_mut().settings_mut().brush_size = 33.0;
    h.state_mut().paint_tab_mut().settings_mut().outline = true;
    let s = serde_json::to_string(&h.state().settings()).unwrap();
    let back: gaugan::app::Settings = serde_json::from_str(&s).unwrap();
    assert_eq!(back.tools.brush_size, 33.0);
    assert!(back.tools.outline);
    // The settings come back into a new app.
    let opts = options(tiny_model(true), dir.path(), Duration::ZERO);
    let h2 = egui_kittest::Harness::builder()
        .build_eframe(move |cc| GauganApp::new(&cc.egui_ctx, opts, Some(back)).unwrap());
    assert_eq!(h2.state().paint_tab().settings().brush_size, 33.0);
}

fn wait_until(h: &mut egui_kittest::Harness<'static, GauganApp>, f: impl Fn(&GauganApp) -> bool) {
    let deadline = std::time::Instant::now() + PHOTO_TIMEOUT;
    while !f(h.state()) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out; messages: {:?}",
            h.state().messages()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
}
