//! Label-map editing without any GUI: brush stamps and strokes, straight lines, flood fill, and an
//! undo history of whole strokes stored as diffs with a memory cap.
//!
//! Coordinates are in label pixels, as floats: pixel `(x, y)` covers `[x, x+1) x [y, y+1)`, so its
//! centre is `(x + 0.5, y + 0.5)`.

use std::collections::VecDeque;

use crate::labels::LabelMap;

/// A point in label-pixel coordinates (fractions allowed).
pub type Point = [f32; 2];

/// Paints a round brush of diameter `size` pixels dragged from `a` to `b` (a capsule): every pixel
/// whose centre lies within `size / 2` of the segment. A brush too small to cover any pixel centre
/// still paints the pixel under each end. Returns how many pixels changed.
pub fn paint_segment(map: &mut LabelMap, a: Point, b: Point, size: f32, class: u16) -> usize {
    let (w, h) = (map.width() as i64, map.height() as i64);
    let r = (size.max(1.0)) / 2.0;
    let r2 = r * r;
    let x0 = ((a[0].min(b[0]) - r).floor() as i64).max(0);
    let x1 = ((a[0].max(b[0]) + r).ceil() as i64).min(w - 1);
    let y0 = ((a[1].min(b[1]) - r).floor() as i64).max(0);
    let y1 = ((a[1].max(b[1]) + r).ceil() as i64).min(h - 1);
    let mut changed = 0;
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    if x0 <= x1 && y0 <= y1 {
        let width = map.width();
        let data = map.data_mut();
        for y in y0..=y1 {
            for x in x0..=x1 {
                let p = [x as f32 + 0.5, y as f32 + 0.5];
                let t = if len2 > 0.0 {
                    (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let q = [a[0] + t * d[0] - p[0], a[1] + t * d[1] - p[1]];
                if q[0] * q[0] + q[1] * q[1] <= r2 {
                    let v = &mut data[y as usize * width + x as usize];
                    if *v != class {
                        *v = class;
                        changed += 1;
                    }
                }
            }
        }
    }
    // The pixels under the ends, so that a 1-pixel brush never misses.
    for p in [a, b] {
        if let Some((x, y)) = pixel_at(map, p)
            && map.get(x, y) != class
        {
            map.set(x, y, class);
            changed += 1;
        }
    }
    changed
}

/// The pixel containing `p`, if inside the map.
pub fn pixel_at(map: &LabelMap, p: Point) -> Option<(usize, usize)> {
    let (x, y) = (p[0].floor(), p[1].floor());
    (x >= 0.0 && y >= 0.0 && (x as usize) < map.width() && (y as usize) < map.height())
        .then_some((x as usize, y as usize))
}

/// Flood fill of the 4-connected region of equal ids containing `(x, y)` with `class`. Returns the
/// number of pixels changed (0 when the region already has that class or the point is outside).
pub fn flood_fill(map: &mut LabelMap, x: usize, y: usize, class: u16) -> usize {
    let (w, h) = (map.width(), map.height());
    if x >= w || y >= h {
        return 0;
    }
    let target = map.get(x, y);
    if target == class {
        return 0;
    }
    let data = map.data_mut();
    let mut stack = vec![(x, y)];
    let mut changed = 0;
    // Scanline fill: fill a whole run, then look at the rows above and below it.
    while let Some((x, y)) = stack.pop() {
        let row = y * w;
        if data[row + x] != target {
            continue;
        }
        let mut l = x;
        while l > 0 && data[row + l - 1] == target {
            l -= 1;
        }
        let mut r = x;
        while r + 1 < w && data[row + r + 1] == target {
            r += 1;
        }
        for v in &mut data[row + l..=row + r] {
            *v = class;
        }
        changed += r - l + 1;
        for ny in [y.wrapping_sub(1), y + 1] {
            if ny >= h {
                continue;
            }
            let nrow = ny * w;
            let mut i = l;
            while i <= r {
                if data[nrow + i] == target {
                    stack.push((i, ny));
                    while i <= r && data[nrow + i] == target {
                        i += 1;
                    }
                } else {
                    i += 1;
                }
            }
        }
    }
    changed
}

/// One reversible change: the pixels that differ, with their old and new ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    width: usize,
    height: usize,
    /// Runs of consecutive changed pixels: start index and the old/new ids of each pixel.
    runs: Vec<(u32, Vec<u16>, Vec<u16>)>,
    changed: usize,
}

impl Diff {
    /// The change from `before` to `after` (maps of one size), or `None` if they are equal or
    /// differ in size.
    pub fn between(before: &LabelMap, after: &LabelMap) -> Option<Diff> {
        if (before.width(), before.height()) != (after.width(), after.height()) {
            return None;
        }
        let (a, b) = (before.data(), after.data());
        let mut runs: Vec<(u32, Vec<u16>, Vec<u16>)> = Vec::new();
        let mut changed = 0;
        let mut i = 0;
        while i < a.len() {
            if a[i] == b[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < a.len() && a[i] != b[i] {
                i += 1;
            }
            changed += i - start;
            runs.push((start as u32, a[start..i].to_vec(), b[start..i].to_vec()));
        }
        (changed > 0).then_some(Diff {
            width: before.width(),
            height: before.height(),
            runs,
            changed,
        })
    }

    /// Number of changed pixels.
    pub fn changed(&self) -> usize {
        self.changed
    }

    /// Approximate memory use in bytes.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.runs.len() * 56 + self.changed * 4
    }

    fn apply(&self, map: &mut LabelMap, forward: bool) -> bool {
        if (map.width(), map.height()) != (self.width, self.height) {
            return false;
        }
        let data = map.data_mut();
        for (start, old, new) in &self.runs {
            let src = if forward { new } else { old };
            data[*start as usize..*start as usize + src.len()].copy_from_slice(src);
        }
        true
    }
}

/// Undo/redo of whole strokes, bounded in memory: the oldest steps are forgotten once the diffs
/// together exceed `max_bytes`.
#[derive(Debug, Clone)]
pub struct History {
    undo: VecDeque<Diff>,
    redo: Vec<Diff>,
    bytes: usize,
    max_bytes: usize,
}

impl History {
    /// An empty history keeping at most about `max_bytes` of diffs.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            undo: VecDeque::new(),
            redo: Vec::new(),
            bytes: 0,
            max_bytes,
        }
    }

    /// Records a change; clears the redo list.
    pub fn push(&mut self, diff: Diff) {
        for d in self.redo.drain(..) {
            self.bytes -= d.bytes();
        }
        self.bytes += diff.bytes();
        self.undo.push_back(diff);
        // Keep the newest step even if it alone is over the budget.
        while self.bytes > self.max_bytes && self.undo.len() > 1 {
            let d = self.undo.pop_front().expect("not empty");
            self.bytes -= d.bytes();
        }
    }

    /// Reverts the newest step on `map`. Returns whether anything was undone.
    pub fn undo(&mut self, map: &mut LabelMap) -> bool {
        match self.undo.pop_back() {
            Some(d) => {
                let ok = d.apply(map, false);
                self.redo.push(d);
                ok
            }
            None => false,
        }
    }

    /// Re-applies the newest undone step. Returns whether anything was redone.
    pub fn redo(&mut self, map: &mut LabelMap) -> bool {
        match self.redo.pop() {
            Some(d) => {
                let ok = d.apply(map, true);
                self.undo.push_back(d);
                ok
            }
            None => false,
        }
    }

    /// Whether there is something to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is something to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Number of undoable steps.
    pub fn undo_len(&self) -> usize {
        self.undo.len()
    }

    /// Memory held by the diffs, in bytes (approximate).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
        self.bytes = 0;
    }
}

/// Default cap of the undo history: 64 MiB.
pub const DEFAULT_HISTORY_BYTES: usize = 64 << 20;

/// A label map being edited: the map, its undo history, the stroke in progress and a revision
/// counter that changes with every edit (for textures, the worker and autosave).
#[derive(Debug, Clone)]
pub struct Document {
    labels: LabelMap,
    history: History,
    stroke_start: Option<LabelMap>,
    last_point: Option<Point>,
    revision: u64,
}

impl Document {
    /// A document holding `labels`, with an empty history.
    pub fn new(labels: LabelMap) -> Self {
        Self {
            labels,
            history: History::new(DEFAULT_HISTORY_BYTES),
            stroke_start: None,
            last_point: None,
            revision: 0,
        }
    }

    /// The label map.
    pub fn labels(&self) -> &LabelMap {
        &self.labels
    }

    /// The history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Changes with every edit, undo and redo.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Where the last stroke or click ended (for Shift+click lines).
    pub fn last_point(&self) -> Option<Point> {
        self.last_point
    }

    /// Whether a stroke is in progress.
    pub fn in_stroke(&self) -> bool {
        self.stroke_start.is_some()
    }

    /// Starts a stroke: edits until [`Self::end_stroke`] undo as one step.
    pub fn begin_stroke(&mut self) {
        if self.stroke_start.is_none() {
            self.stroke_start = Some(self.labels.clone());
        }
    }

    /// Ends the stroke, recording it in the history. Returns whether it changed anything.
    pub fn end_stroke(&mut self) -> bool {
        match self.stroke_start.take() {
            Some(before) => match Diff::between(&before, &self.labels) {
                Some(d) => {
                    self.history.push(d);
                    true
                }
                None => false,
            },
            None => false,
        }
    }

    /// Paints a brush segment (inside a stroke, or as a stroke of its own).
    pub fn paint(&mut self, a: Point, b: Point, size: f32, class: u16) -> usize {
        self.edit(|m| paint_segment(m, a, b, size, class), Some(b))
    }

    /// Flood-fills the region under `p` (as one step).
    pub fn fill(&mut self, p: Point, class: u16) -> usize {
        match pixel_at(&self.labels, p) {
            Some((x, y)) => self.edit(|m| flood_fill(m, x, y, class), Some(p)),
            None => 0,
        }
    }

    /// Fills the whole map with `class` (as one step).
    pub fn clear(&mut self, class: u16) -> usize {
        self.edit(
            |m| {
                let mut n = 0;
                for v in m.data_mut() {
                    if *v != class {
                        *v = class;
                        n += 1;
                    }
                }
                n
            },
            None,
        )
    }

    /// Replaces the map by another of the same size (as one undoable step); a map of another size
    /// replaces it and resets the history.
    pub fn replace(&mut self, labels: LabelMap) {
        if (labels.width(), labels.height()) == (self.labels.width(), self.labels.height()) {
            self.edit(
                |m| {
                    *m = labels;
                    1
                },
                None,
            );
        } else {
            self.labels = labels;
            self.history.clear();
            self.stroke_start = None;
            self.last_point = None;
            self.revision += 1;
        }
    }

    /// Undoes the newest stroke.
    pub fn undo(&mut self) -> bool {
        self.end_stroke();
        let ok = self.history.undo(&mut self.labels);
        if ok {
            self.revision += 1;
        }
        ok
    }

    /// Redoes the newest undone stroke.
    pub fn redo(&mut self) -> bool {
        self.end_stroke();
        let ok = self.history.redo(&mut self.labels);
        if ok {
            self.revision += 1;
        }
        ok
    }

    fn edit(&mut self, f: impl FnOnce(&mut LabelMap) -> usize, last: Option<Point>) -> usize {
        let own_stroke = self.stroke_start.is_none();
        if own_stroke {
            self.begin_stroke();
        }
        let n = f(&mut self.labels);
        if n > 0 {
            self.revision += 1;
        }
        if last.is_some() {
            self.last_point = last;
        }
        if own_stroke {
            self.end_stroke();
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(w: usize, h: usize, rows: &[&str]) -> LabelMap {
        let data: Vec<u16> = rows
            .iter()
            .flat_map(|r| r.bytes().map(|b| (b - b'0') as u16))
            .collect();
        LabelMap::from_vec(w, h, data).unwrap()
    }

    fn rows(m: &LabelMap) -> Vec<String> {
        m.data()
            .chunks(m.width())
            .map(|r| r.iter().map(|v| char::from(b'0' + *v as u8)).collect())
            .collect()
    }

    #[test]
    fn a_dab_is_a_disc() {
        let mut m = LabelMap::filled(7, 7, 0);
        // Centre of pixel (3, 3), diameter 5: radius 2.5 covers the 5x5 disc minus corners.
        let n = paint_segment(&mut m, [3.5, 3.5], [3.5, 3.5], 5.0, 1);
        assert_eq!(
            rows(&m),
            [
                "0000000", "0011100", "0111110", "0111110", "0111110", "0011100", "0000000"
            ]
        );
        assert_eq!(n, 21);
    }

    #[test]
    fn a_one_pixel_brush_paints_the_pixel_under_it() {
        let mut m = LabelMap::filled(4, 4, 0);
        paint_segment(&mut m, [2.9, 1.1], [2.9, 1.1], 1.0, 3);
        assert_eq!(rows(&m), ["0000", "0030", "0000", "0000"]);
    }

    #[test]
    fn a_segment_has_no_gaps_and_clips_at_the_border() {
        let mut m = LabelMap::filled(10, 3, 0);
        paint_segment(&mut m, [-5.0, 1.5], [20.0, 1.5], 1.0, 2);
        assert_eq!(rows(&m), ["0000000000", "2222222222", "0000000000"]);
        // Diagonal line: 4-connected coverage is not required, but every row and column is hit.
        let mut m = LabelMap::filled(6, 6, 0);
        paint_segment(&mut m, [0.5, 0.5], [5.5, 5.5], 1.0, 1);
        for i in 0..6 {
            assert_eq!(m.get(i, i), 1);
        }
    }

    #[test]
    fn fill_is_four_connected() {
        let mut m = map(5, 4, &["00100", "01010", "00100", "11011"]);
        let n = flood_fill(&mut m, 0, 0, 7);
        // The 0 at (2, 1) touches the region only diagonally; the right-hand zeros are walled off.
        assert_eq!(rows(&m), ["77100", "71010", "77100", "11011"]);
        assert_eq!(n, 5);
        let mut m = map(5, 4, &["00100", "01010", "00100", "11011"]);
        assert_eq!(flood_fill(&mut m, 4, 2, 7), 5);
        assert_eq!(rows(&m), ["00177", "01017", "00177", "11011"]);
        assert_eq!(flood_fill(&mut m, 4, 2, 7), 0);
        assert_eq!(flood_fill(&mut m, 9, 9, 1), 0);
    }

    #[test]
    fn fill_of_a_large_region_does_not_overflow() {
        let mut m = LabelMap::filled(512, 512, 0);
        assert_eq!(flood_fill(&mut m, 100, 100, 1), 512 * 512);
    }

    #[test]
    fn undo_and_redo_whole_strokes() {
        let mut d = Document::new(LabelMap::filled(8, 8, 0));
        let original = d.labels().clone();
        d.begin_stroke();
        d.paint([1.5, 1.5], [6.5, 1.5], 1.0, 2);
        d.paint([6.5, 1.5], [6.5, 6.5], 1.0, 2);
        assert!(d.end_stroke());
        let after_stroke = d.labels().clone();
        d.fill([0.5, 7.5], 3);
        let after_fill = d.labels().clone();
        assert_eq!(d.history().undo_len(), 2);

        assert!(d.undo());
        assert_eq!(d.labels(), &after_stroke);
        assert!(d.undo());
        assert_eq!(d.labels(), &original);
        assert!(!d.undo());
        assert!(d.redo());
        assert_eq!(d.labels(), &after_stroke);
        assert!(d.redo());
        assert_eq!(d.labels(), &after_fill);
        assert!(!d.redo());

        // A new edit after an undo drops the redo list.
        d.undo();
        d.clear(5);
        assert!(!d.history().can_redo());
        d.undo();
        assert_eq!(d.labels(), &after_stroke);
    }

    #[test]
    fn a_stroke_without_change_is_not_recorded() {
        let mut d = Document::new(LabelMap::filled(4, 4, 1));
        d.begin_stroke();
        d.paint([1.0, 1.0], [2.0, 2.0], 3.0, 1);
        assert!(!d.end_stroke());
        assert!(!d.history().can_undo());
    }

    #[test]
    fn history_memory_is_capped() {
        let mut h = History::new(100_000);
        let mut m = LabelMap::filled(100, 100, 0);
        for i in 0..50u16 {
            let before = m.clone();
            for v in m.data_mut() {
                *v = i + 1;
            }
            h.push(Diff::between(&before, &m).unwrap());
        }
        assert!(h.bytes() <= 100_000, "{}", h.bytes());
        assert!(h.undo_len() >= 1 && h.undo_len() < 50);
        // The newest steps are kept.
        assert!(h.undo(&mut m));
        assert!(m.data().iter().all(|&v| v == 49));
    }

    #[test]
    fn replace_of_another_size_resets_history() {
        let mut d = Document::new(LabelMap::filled(4, 4, 0));
        d.clear(1);
        d.replace(LabelMap::filled(8, 8, 2));
        assert!(!d.history().can_undo());
        d.replace(LabelMap::filled(8, 8, 3));
        assert!(d.undo());
        assert_eq!(d.labels(), &LabelMap::filled(8, 8, 2));
    }

    #[test]
    fn diff_bytes_are_proportional_to_the_change() {
        let a = LabelMap::filled(256, 256, 0);
        let mut b = a.clone();
        paint_segment(&mut b, [10.0, 10.0], [20.0, 10.0], 4.0, 1);
        let d = Diff::between(&a, &b).unwrap();
        assert!(d.bytes() < 2_000, "{}", d.bytes());
    }
}
