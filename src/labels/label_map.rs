//! Label maps (H x W class ids) and instance maps, with PyTorch's nearest resizing.

/// A map of class ids, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMap {
    width: usize,
    height: usize,
    data: Vec<u16>,
}

impl LabelMap {
    /// A map filled with one class.
    pub fn filled(width: usize, height: usize, class: u16) -> Self {
        Self {
            width,
            height,
            data: vec![class; width * height],
        }
    }

    /// A map from its ids; `None` when the length is not `width * height`.
    pub fn from_vec(width: usize, height: usize, data: Vec<u16>) -> Option<Self> {
        (data.len() == width * height).then_some(Self {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Ids, row-major.
    pub fn data(&self) -> &[u16] {
        &self.data
    }

    /// Mutable ids, row-major.
    pub fn data_mut(&mut self) -> &mut [u16] {
        &mut self.data
    }

    /// The id at `(x, y)`.
    pub fn get(&self, x: usize, y: usize) -> u16 {
        self.data[y * self.width + x]
    }

    /// Sets the id at `(x, y)`.
    pub fn set(&mut self, x: usize, y: usize, class: u16) {
        self.data[y * self.width + x] = class;
    }

    /// Nearest resize with PyTorch's convention: output `i` reads input `floor(i * in / out)`.
    pub fn resize_nearest(&self, width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: resize_nearest(&self.data, self.width, self.height, width, height),
        }
    }

    /// Ids that are `>= classes`, each with its pixel count, in increasing id order.
    pub fn out_of_range(&self, classes: usize) -> Vec<(u32, usize)> {
        let mut counts = std::collections::BTreeMap::new();
        for &v in &self.data {
            if v as usize >= classes {
                *counts.entry(v as u32).or_insert(0usize) += 1;
            }
        }
        counts.into_iter().collect()
    }
}

/// An instance-id map (the official `inst` input), row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMap {
    width: usize,
    height: usize,
    data: Vec<u32>,
}

impl InstanceMap {
    /// A map from its ids; `None` when the length is not `width * height`.
    pub fn from_vec(width: usize, height: usize, data: Vec<u32>) -> Option<Self> {
        (data.len() == width * height).then_some(Self {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Ids, row-major.
    pub fn data(&self) -> &[u32] {
        &self.data
    }

    /// Nearest resize, PyTorch's convention.
    pub fn resize_nearest(&self, width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: resize_nearest(&self.data, self.width, self.height, width, height),
        }
    }
}

/// Nearest resize of a row-major grid: output `(x, y)` reads input
/// `(floor(x * in_w / out_w), floor(y * in_h / out_h))`.
pub fn resize_nearest<T: Copy>(
    src: &[T],
    in_w: usize,
    in_h: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<T> {
    let xs: Vec<usize> = (0..out_w).map(|x| x * in_w / out_w).collect();
    let mut out = Vec::with_capacity(out_w * out_h);
    for y in 0..out_h {
        let row = &src[(y * in_h / out_h) * in_w..][..in_w];
        out.extend(xs.iter().map(|&x| row[x]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_takes_the_top_left_pixel_of_each_block() {
        // 4x4 -> 2x2 reads (0,0), (2,0), (0,2), (2,2)
        let m = LabelMap::from_vec(4, 4, (0..16).collect()).unwrap();
        assert_eq!(m.resize_nearest(2, 2).data(), &[0, 2, 8, 10]);
    }

    #[test]
    fn nearest_uses_floor_for_odd_ratios() {
        // 5 -> 3: floor(i * 5 / 3) = 0, 1, 3
        let m = LabelMap::from_vec(5, 1, vec![10, 11, 12, 13, 14]).unwrap();
        assert_eq!(m.resize_nearest(3, 1).data(), &[10, 11, 13]);
        // upsampling 2 -> 4 repeats
        let m = LabelMap::from_vec(2, 1, vec![1, 2]).unwrap();
        assert_eq!(m.resize_nearest(4, 1).data(), &[1, 1, 2, 2]);
    }

    #[test]
    fn out_of_range_counts() {
        let m = LabelMap::from_vec(3, 1, vec![1, 200, 200]).unwrap();
        assert_eq!(m.out_of_range(151), vec![(200, 2)]);
        assert!(m.out_of_range(201).is_empty());
    }
}
