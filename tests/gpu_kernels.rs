//! The hand-written WGSL kernels (`shaders/`) on a real wgpu adapter (lavapipe in CI): the SPADE
//! lookup against the dense convolution and Burn's gather, and the photo's way from the
//! generator's output into a texture of a device shared with Burn, read back only to check it.
#![cfg(feature = "gpu")]

mod common;

use burn::module::Param;
use burn::tensor::wgpu::{WgpuSetup, wgpu};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use common::*;
use gaugan::gpu::lookup::lookup_sum;
use gaugan::gpu::photo::to_gpu_photo;
use gaugan::infer::image::tensor_to_rgb;
use gaugan::model::SegMaps;
use gaugan::model::spade::{SpadeConfig, lookup_conv, same_conv};

fn wgpu_device() -> Option<Device> {
    wgpu_backend().map(|be| be.device)
}

fn vec4(t: Tensor<4>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

/// Class ids `[B, H, W]` with regions, single pixels and every class, deterministic.
fn ids(b: usize, h: usize, w: usize, classes: usize) -> Vec<u16> {
    (0..b * h * w)
        .map(|i| {
            let (n, y, x) = (i / (h * w), (i / w) % h, i % w);
            (((x / 3) * 7 + (y / 2) * 5 + n * 3 + (x * y) % 4) % classes) as u16
        })
        .collect()
}

/// One-hot `[B, classes (+ extra), H, W]` of `ids`, plus `extra` dense channels of ramps.
fn one_hot(ids: &[u16], b: usize, h: usize, w: usize, classes: usize, extra: usize) -> Vec<f32> {
    let c = classes + extra;
    let mut out = vec![0.0; b * c * h * w];
    for n in 0..b {
        for p in 0..h * w {
            out[(n * c + ids[n * h * w + p] as usize) * h * w + p] = 1.0;
            for e in 0..extra {
                out[(n * c + classes + e) * h * w + p] = ((p * (e + 3)) % 5) as f32 * 0.25;
            }
        }
    }
    out
}

#[test]
fn wgsl_lookup_equals_dense_convolution_and_burn_gather() {
    let Some(device) = wgpu_device() else { return };
    // Sizes that are no multiple of the 16 x 16 workgroup, batch 2, with and without an edge
    // channel, a 3x3 and a 5x5 kernel.
    for (extra, k, [h, w]) in [(0, 3, [19, 23]), (1, 3, [16, 9]), (0, 5, [7, 33])] {
        let (b, classes, hidden) = (2, 7, 12);
        let mut conv = same_conv(classes + extra, hidden, k, &device);
        // Weights and bias of unit scale, so that a wrong tap or row shows.
        conv.weight = Param::from_tensor(Tensor::random(
            [hidden, classes + extra, k, k],
            Distribution::Normal(0.0, 1.0),
            &device,
        ));
        conv.bias = Some(Param::from_tensor(Tensor::random(
            [hidden],
            Distribution::Normal(0.0, 1.0),
            &device,
        )));
        let ids = ids(b, h, w, classes);
        let sem = Tensor::<4>::from_data(
            TensorData::new(
                one_hot(&ids, b, h, w, classes, extra),
                [b, classes + extra, h, w],
            ),
            &device,
        );
        let dense = vec4(conv.forward(sem.clone()));
        let kernel = SegMaps::new(sem.clone()).with_ids(ids.clone(), classes);
        let gather = SegMaps::new(sem).with_ids_gather(ids, classes);
        let by_kernel = vec4(lookup_conv(&conv, &kernel, [h, w]).unwrap());
        let by_gather = vec4(lookup_conv(&conv, &gather, [h, w]).unwrap());
        let (max, _) = diff(&by_kernel, &dense);
        eprintln!("k {k}, extra {extra}, {h}x{w}: kernel vs dense max |diff| {max:.2e}");
        assert!(max < 1e-4, "kernel vs dense: {max}");
        let (max, _) = diff(&by_kernel, &by_gather);
        assert!(max < 1e-4, "kernel vs gather: {max}");
    }
}

#[test]
fn the_wgsl_lookup_runs_on_wgpu_and_declines_other_tensors() {
    let Some(device) = wgpu_device() else { return };
    let (classes, hidden, k) = (3, 4, 3);
    let rows = classes + 1;
    let table = Tensor::<2>::random(
        [k * k * rows, hidden],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    // 1 x 2 x 2 output, ids padded by 1 with the zero row `classes`.
    let padded: Vec<i32> = vec![3, 3, 3, 3, 3, 0, 1, 3, 3, 2, 0, 3, 3, 3, 3, 3];
    let ids = Tensor::<3, Int>::from_data(TensorData::new(padded.clone(), [1, 4, 4]), &device);
    let out = lookup_sum(&table, &ids, None, k, true).expect("the kernel runs on wgpu");
    assert_eq!(out.dims(), [1, hidden, 2, 2]);
    // The same sum by hand, with ReLU.
    let t = table
        .clone()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let got = vec4(out);
    for c in 0..hidden {
        for y in 0..2 {
            for x in 0..2 {
                let mut acc = 0.0f32;
                for ky in 0..k {
                    for kx in 0..k {
                        let id = padded[(y + ky) * 4 + x + kx] as usize;
                        acc += t[((ky * k + kx) * rows + id) * hidden + c];
                    }
                }
                let g = got[(c * 2 + y) * 2 + x];
                assert!(
                    (g - acc.max(0.0)).abs() < 1e-5,
                    "c {c} y {y} x {x}: {g} vs {acc}"
                );
            }
        }
    }
    // CPU tensors and autodiff-tracked ones are declined (the caller falls back to Burn's ops).
    let cpu = Device::flex();
    let ids_cpu = Tensor::<3, Int>::from_data(TensorData::new(padded, [1, 4, 4]), &cpu);
    let table_cpu = Tensor::<2>::zeros([k * k * rows, hidden], &cpu);
    assert!(lookup_sum(&table_cpu, &ids_cpu, None, k, false).is_none());
    let tracked =
        Tensor::<2>::zeros([k * k * rows, hidden], &device.clone().autodiff()).require_grad();
    let ids_ad = Tensor::<3, Int>::from_data(
        TensorData::new(vec![0i32; 16], [1, 4, 4]),
        &device.autodiff(),
    );
    assert!(lookup_sum(&tracked, &ids_ad, None, k, false).is_none());
}

#[test]
fn spade_forward_with_the_kernel_matches_the_dense_layer() {
    // The fused ReLU path (no edge channel) through a whole SPADE layer.
    let Some(device) = wgpu_device() else { return };
    let (classes, h, w) = (5, 12, 20);
    let spade = SpadeConfig::new(6, classes).with_hidden(8).init(&device);
    let ids = ids(1, h, w, classes);
    let sem = Tensor::<4>::from_data(
        TensorData::new(one_hot(&ids, 1, h, w, classes, 0), [1, classes, h, w]),
        &device,
    );
    let x = Tensor::<4>::random(
        [1, 6, h / 2, w / 2],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let dense = vec4(spade.forward(x.clone(), &SegMaps::new(sem.clone())));
    let lookup = vec4(spade.forward(x, &SegMaps::new(sem).with_ids(ids, classes)));
    let (max, _) = diff(&lookup, &dense);
    assert!(max < 1e-4, "SPADE with the kernel vs dense: {max}");
}

#[test]
fn wgsl_modulation_equals_burn_ops() {
    let Some(device) = wgpu_device() else { return };
    let (b, c, h, w) = (2, 5, 7, 37); // 259 pixels: two workgroups, the second partial
    let x = Tensor::<4>::random([b, c, h, w], Distribution::Normal(0.3, 2.0), &device);
    let sb = Tensor::<4>::random([b, 2 * c, h, w], Distribution::Normal(0.0, 1.5), &device);
    let mean = Tensor::<1>::random([c], Distribution::Normal(0.0, 1.0), &device);
    let scale = sb.clone().slice([0..b, 0..c, 0..h, 0..w]);
    let beta = sb.clone().slice([0..b, c..2 * c, 0..h, 0..w]);
    let plain = x
        .clone()
        .sub(mean.clone().reshape([1, c, 1, 1]))
        .mul(scale)
        .add(beta);
    for leaky in [false, true] {
        let expected = if leaky {
            burn::tensor::activation::leaky_relu(plain.clone(), 0.2)
        } else {
            plain.clone()
        };
        let got = gaugan::gpu::modulate::modulate(&x, &sb, &mean, leaky).expect("runs on wgpu");
        let (max, _) = diff(&vec4(got), &vec4(expected));
        assert!(max < 1e-5, "leaky {leaky}: {max}");
    }
    // Mismatched shapes and CPU tensors are declined.
    assert!(gaugan::gpu::modulate::modulate(&x, &x, &mean, false).is_none());
    let cpu = Device::flex();
    let xc = Tensor::<4>::zeros([1, 1, 2, 2], &cpu);
    let sbc = Tensor::<4>::zeros([1, 2, 2, 2], &cpu);
    assert!(gaugan::gpu::modulate::modulate(&xc, &sbc, &Tensor::zeros([1], &cpu), false).is_none());
}

/// A wgpu device made the way eframe makes its own (the adapter's features and limits), and
/// registered with Burn: the app's shared-device setup.
fn shared_setup() -> Option<(Device, wgpu::Device, wgpu::Queue)> {
    if !wgpu_available() {
        return None;
    }
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::PRIMARY,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter =
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .expect("an adapter");
    let (device, queue) = pollster::block_on(
        adapter.request_device(&gaugan::infer::backend::device_descriptor(&adapter)),
    )
    .expect("a device");
    let backend = adapter.get_info().backend;
    let burn_device = gaugan::infer::backend::shared(WgpuSetup {
        instance,
        adapter,
        device: device.clone(),
        queue: queue.clone(),
        backend,
    })
    .expect("Burn takes the device")
    .device;
    Some((burn_device, device, queue))
}

/// Reads an RGBA8 texture back (only to check it).
fn read_texture(device: &wgpu::Device, queue: &wgpu::Queue, tex: &wgpu::Texture) -> Vec<u8> {
    let (w, h) = (tex.width(), tex.height());
    let row = (w * 4).next_multiple_of(256);
    let buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: (row * h) as u64,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut enc = device.create_command_encoder(&Default::default());
    enc.copy_texture_to_buffer(
        tex.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buf,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(row),
                rows_per_image: Some(h),
            },
        },
        wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
    );
    queue.submit([enc.finish()]);
    buf.slice(..).map_async(wgpu::MapMode::Read, |r| r.unwrap());
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let data = buf.slice(..).get_mapped_range().expect("mapped");
    (0..h as usize)
        .flat_map(|y| data[y * row as usize..y * row as usize + w as usize * 4].to_vec())
        .collect()
}

#[test]
fn photo_goes_from_the_generator_output_to_a_texture_on_the_shared_device() {
    let Some((burn_device, device, queue)) = shared_setup() else {
        return;
    };
    let (w, h) = (70usize, 9usize); // 280-byte rows: padded to 512 for the copy
    let values: Vec<f32> = (0..3 * w * h)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0 + if i % 13 == 0 { 0.7 } else { 0.0 })
        .collect();
    let out = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, 3, h, w]), &burn_device);
    let out = out.mul_scalar(1.0); // computed on the device, not just uploaded
    let photo = to_gpu_photo(&out).expect("a plain wgpu tensor converts");
    assert_eq!(
        (photo.width, photo.height, photo.bytes_per_row),
        (70, 9, 512)
    );
    let tex = device.create_texture(&wgpu::TextureDescriptor {
        label: None,
        size: wgpu::Extent3d {
            width: w as u32,
            height: h as u32,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let mut enc = device.create_command_encoder(&Default::default());
    photo.copy_to_texture(&mut enc, &tex);
    queue.submit([enc.finish()]);
    let rgba = read_texture(&device, &queue, &tex);
    let expected = tensor_to_rgb(&values, w, h);
    let mut off = 0;
    for (i, px) in expected.pixels().enumerate() {
        for c in 0..3 {
            off = off.max((rgba[i * 4 + c] as i32 - px.0[c] as i32).abs());
        }
        assert_eq!(rgba[i * 4 + 3], 255);
    }
    assert_eq!(off, 0, "GPU conversion differs from tensor2im by {off}");
    // A CPU tensor is declined (the caller reads it back instead).
    assert!(to_gpu_photo(&Tensor::<4>::zeros([1, 3, 2, 2], &Device::flex())).is_none());
}
