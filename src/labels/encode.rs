//! The generator's input: one-hot classes plus the instance-edge channel, exactly like the
//! official `preprocess_input` + `get_edges`.

use super::label_map::{InstanceMap, LabelMap};

/// The official `get_edges`: a pixel is an edge when its 4-neighbour right/left or down/up differs,
/// marked on both sides of the boundary, at full resolution.
pub fn instance_edges(inst: &InstanceMap) -> Vec<f32> {
    let (w, h) = (inst.width(), inst.height());
    let t = inst.data();
    let mut edge = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if x + 1 < w && t[i] != t[i + 1] {
                edge[i] = 1.0;
                edge[i + 1] = 1.0;
            }
            if y + 1 < h && t[i] != t[i + w] {
                edge[i] = 1.0;
                edge[i + w] = 1.0;
            }
        }
    }
    edge
}

/// Encodes a label map as `[classes (+1 edge), H, W]` floats, row-major: channel `c` is 1 where
/// the label equals `c`; ids `>= classes` give all-zero pixels (callers check the range first).
/// With `instance`, its edge map is appended as the last channel.
pub fn semantics(labels: &LabelMap, classes: usize, instance: Option<&InstanceMap>) -> Vec<f32> {
    let hw = labels.width() * labels.height();
    let channels = classes + instance.is_some() as usize;
    let mut out = vec![0.0f32; channels * hw];
    for (i, &l) in labels.data().iter().enumerate() {
        let l = l as usize;
        if l < classes {
            out[l * hw + i] = 1.0;
        }
    }
    if let Some(inst) = instance {
        out[classes * hw..].copy_from_slice(&instance_edges(inst));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_mark_both_sides() {
        // 3x2: instances [[1,1,2],[1,1,2]] -> columns 1 and 2 are edges
        let inst = InstanceMap::from_vec(3, 2, vec![1, 1, 2, 1, 1, 2]).unwrap();
        assert_eq!(instance_edges(&inst), vec![0., 1., 1., 0., 1., 1.]);
        // vertical boundary
        let inst = InstanceMap::from_vec(2, 3, vec![5, 5, 5, 5, 7, 7]).unwrap();
        assert_eq!(instance_edges(&inst), vec![0., 0., 1., 1., 1., 1.]);
    }

    #[test]
    fn one_hot_layout_is_channel_major() {
        let l = LabelMap::from_vec(2, 1, vec![1, 0]).unwrap();
        assert_eq!(semantics(&l, 2, None), vec![0., 1., 1., 0.]);
        let inst = InstanceMap::from_vec(2, 1, vec![3, 4]).unwrap();
        assert_eq!(semantics(&l, 2, Some(&inst)), vec![0., 1., 1., 0., 1., 1.]);
    }
}
