//! The losses of SPADE training (Park et al. 2019, arXiv 1903.07291, section 3 and appendix A;
//! official `models/networks/loss.py` and `Pix2PixModel.compute_*_loss`):
//!
//! - hinge GAN loss (Lim & Ye 2017): D minimises `mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))`,
//!   G minimises `-mean(D(fake))`, each averaged over the discriminator's scales;
//! - discriminator feature matching (pix2pixHD): L1 between D's intermediate features of the fake
//!   and of the (detached) real, summed over layers and averaged over scales, times `lambda_feat`;
//! - KL divergence of the encoder's `N(mu, exp(logvar))` from `N(0, 1)`, summed over the batch and
//!   z, times `lambda_kld` (official `KLDLoss`);
//! - VGG19 perceptual loss: L1 between features, weights 1/32, 1/16, 1/8, 1/4, 1 on
//!   `relu1_1..relu5_1`, times `lambda_vgg` (only when the user supplies VGG19 weights).
//!
//! Every function returns a one-element tensor `[1]` so the terms add up and backpropagate.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use crate::model::vgg::Vgg19;

/// The official VGG loss weights of `relu1_1 .. relu5_1`.
pub const VGG_WEIGHTS: [f64; 5] = [1.0 / 32.0, 1.0 / 16.0, 1.0 / 8.0, 1.0 / 4.0, 1.0];

/// The logits of each scale: the last output of each.
fn logits(pred: &[Vec<Tensor<4>>]) -> impl Iterator<Item = &Tensor<4>> {
    pred.iter()
        .map(|scale| scale.last().expect("a scale has outputs"))
}

/// Averages one-element terms over the scales (official `GANLoss.__call__`: `loss / len(input)`).
fn mean_over_scales(terms: Vec<Tensor<1>>) -> Tensor<1> {
    let n = terms.len() as f64;
    terms
        .into_iter()
        .reduce(|a, b| a.add(b))
        .expect("at least one scale")
        .div_scalar(n)
}

/// D's hinge loss on real images: mean over scales of `mean(relu(1 - logits))`
/// (official: `-mean(min(x - 1, 0))`).
pub fn hinge_d_real(pred_real: &[Vec<Tensor<4>>]) -> Tensor<1> {
    mean_over_scales(
        logits(pred_real)
            .map(|x| relu(x.clone().neg().add_scalar(1.0)).mean())
            .collect(),
    )
}

/// D's hinge loss on fakes: mean over scales of `mean(relu(1 + logits))`
/// (official: `-mean(min(-x - 1, 0))`).
pub fn hinge_d_fake(pred_fake: &[Vec<Tensor<4>>]) -> Tensor<1> {
    mean_over_scales(
        logits(pred_fake)
            .map(|x| relu(x.clone().add_scalar(1.0)).mean())
            .collect(),
    )
}

/// G's hinge loss: mean over scales of `-mean(logits of the fakes)`.
pub fn hinge_g(pred_fake: &[Vec<Tensor<4>>]) -> Tensor<1> {
    mean_over_scales(logits(pred_fake).map(|x| x.clone().mean().neg()).collect())
}

/// Feature matching: `sum_scales sum_layers L1(fake_feat, real_feat.detach()) / num_scales`, the
/// logits excluded (multiply by `lambda_feat`, 10 in the official code).
pub fn feature_matching(pred_fake: &[Vec<Tensor<4>>], pred_real: &[Vec<Tensor<4>>]) -> Tensor<1> {
    let num_d = pred_fake.len() as f64;
    let mut total: Option<Tensor<1>> = None;
    for (fake, real) in pred_fake.iter().zip(pred_real) {
        let layers = fake.len().saturating_sub(1);
        for (f, r) in fake.iter().zip(real).take(layers) {
            let l1 = f.clone().sub(r.clone().detach()).abs().mean();
            total = Some(match total {
                Some(t) => t.add(l1),
                None => l1,
            });
        }
    }
    total
        .expect("the discriminator has intermediate layers")
        .div_scalar(num_d)
}

/// The official `KLDLoss`: `-0.5 * sum(1 + logvar - mu^2 - exp(logvar))` over every element
/// (multiply by `lambda_kld`, 0.05 in the official code). `mu`, `logvar`: `[B, z_dim]`.
pub fn kld(mu: Tensor<2>, logvar: Tensor<2>) -> Tensor<1> {
    logvar
        .clone()
        .add_scalar(1.0)
        .sub(mu.powi_scalar(2))
        .sub(logvar.exp())
        .sum()
        .mul_scalar(-0.5)
}

/// The perceptual loss between a fake and a real batch (`[B, 3, H, W]` in `[-1, 1]`):
/// `sum_i w_i * L1(vgg_i(fake), vgg_i(real).detach())` (multiply by `lambda_vgg`, 10).
pub fn vgg_loss(vgg: &Vgg19, fake: Tensor<4>, real: Tensor<4>) -> Tensor<1> {
    let xf = vgg.forward(fake);
    let yf = vgg.forward(real.detach());
    xf.into_iter()
        .zip(yf)
        .zip(VGG_WEIGHTS)
        .map(|((x, y), w)| x.sub(y.detach()).abs().mean().mul_scalar(w))
        .reduce(|a, b| a.add(b))
        .expect("five VGG features")
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn t4(v: &[f32], dims: [usize; 4]) -> Tensor<4> {
        Tensor::from_data(
            burn::tensor::TensorData::new(v.to_vec(), dims),
            &Device::flex(),
        )
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_data().try_to_vec::<f32>().unwrap()[0]
    }

    #[test]
    fn hinge_losses_match_hand_computed_values() {
        // Two scales of logits: [0.5, -2, 3, 1] and [-0.5, 0.0].
        let s0 = t4(&[0.5, -2.0, 3.0, 1.0], [1, 1, 2, 2]);
        let s1 = t4(&[-0.5, 0.0], [1, 1, 1, 2]);
        let pred = vec![vec![s0], vec![s1]];
        // real: relu(1-x): s0 [0.5, 3, 0, 0] mean 0.875; s1 [1.5, 1] mean 1.25 -> 1.0625
        assert!((scalar(hinge_d_real(&pred)) - 1.0625).abs() < 1e-6);
        // fake: relu(1+x): s0 [1.5, 0, 4, 2] mean 1.875; s1 [0.5, 1] mean 0.75 -> 1.3125
        assert!((scalar(hinge_d_fake(&pred)) - 1.3125).abs() < 1e-6);
        // G: -mean: s0 -0.625, s1 0.25 -> -0.1875
        assert!((scalar(hinge_g(&pred)) + 0.1875).abs() < 1e-6);
    }

    #[test]
    fn feature_matching_sums_layers_and_averages_scales() {
        // Scale 0: one feature layer + logits; scale 1: one feature layer + logits.
        let f0 = t4(&[1.0, 2.0], [1, 2, 1, 1]);
        let r0 = t4(&[0.0, 4.0], [1, 2, 1, 1]); // L1 mean (1 + 2) / 2 = 1.5
        let f1 = t4(&[3.0], [1, 1, 1, 1]);
        let r1 = t4(&[2.0], [1, 1, 1, 1]); // 1.0
        let logit = t4(&[100.0], [1, 1, 1, 1]);
        let fake = vec![vec![f0, logit.clone()], vec![f1, logit.clone()]];
        let real = vec![vec![r0, logit.clone().neg()], vec![r1, logit.neg()]];
        // (1.5 + 1.0) / 2 scales; logits ignored
        assert!((scalar(feature_matching(&fake, &real)) - 1.25).abs() < 1e-6);
    }

    #[test]
    fn kld_is_the_official_sum() {
        let dev = Device::flex();
        let mu = Tensor::<2>::from_floats([[1.0, 0.0], [0.5, -1.0]], &dev);
        let logvar = Tensor::<2>::from_floats([[0.0, 1.0], [-1.0, 0.0]], &dev);
        // per element: 1 + lv - mu^2 - exp(lv)
        let e = [
            1.0 + 0.0 - 1.0 - 1.0,
            1.0 + 1.0 - 0.0 - 1f64.exp(),
            1.0 - 1.0 - 0.25 - (-1f64).exp(),
            1.0 + 0.0 - 1.0 - 1.0,
        ];
        let expected = -0.5 * e.iter().sum::<f64>();
        assert!((scalar(kld(mu, logvar)) as f64 - expected).abs() < 1e-5);
        // N(0, 1) itself costs nothing
        let z = Tensor::<2>::zeros([3, 4], &dev);
        assert!(scalar(kld(z.clone(), z)).abs() < 1e-7);
    }
}
