//! Adam over a whole module with state we can save: Burn's own [`Adam`] update (PyTorch's
//! formula: bias-corrected moments, `eps` added to the corrected root) applied parameter by
//! parameter by a [`ModuleMapper`], the moments kept by the parameter's position in the module's
//! traversal order.
//!
//! Burn's `ModuleOptimizer` keys its state by random parameter ids and reloads saved state on the
//! process's default device (the GPU backend); keying by position makes a training-state file
//! independent of ids and devices, so `--resume` continues with exactly the saved moments.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::{AdamConfig, AdamState, AdaptiveMomentumState, GradientsParams, Optimizer};
use burn::tensor::{Device, Tensor, TensorData};

use crate::checkpoint::{StateDict, StateTensor};

/// Adam (Kingma & Ba 2015) with saveable, position-keyed state.
pub struct ModuleAdam {
    adam: burn::optim::Adam,
    /// Moments by parameter position (flattened to 1D).
    states: BTreeMap<usize, AdamState<1>>,
}

impl ModuleAdam {
    /// Adam with the given betas and PyTorch's default epsilon (1e-8).
    pub fn new(beta1: f64, beta2: f64) -> Self {
        Self {
            adam: AdamConfig::new()
                .with_beta_1(beta1 as f32)
                .with_beta_2(beta2 as f32)
                .with_epsilon(1e-8)
                .build(),
            states: BTreeMap::new(),
        }
    }

    /// Updates every parameter of `module` that has a gradient in `grads`, with learning rate `lr`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        let mut mapper = AdamMapper {
            adam: &self.adam,
            states: &mut self.states,
            grads: &mut grads,
            lr,
            index: 0,
        };
        module.map(&mut mapper)
    }

    /// The state as host tensors `{index}.m1`, `{index}.m2` (flattened), and the step counts by
    /// position.
    pub fn to_state_dict(&self) -> (StateDict, BTreeMap<usize, usize>) {
        let mut sd = StateDict::default();
        let mut times = BTreeMap::new();
        for (i, s) in &self.states {
            let m = &s.momentum;
            sd.insert(format!("{i}.m1"), host(m.moment_1.clone()));
            sd.insert(format!("{i}.m2"), host(m.moment_2.clone()));
            times.insert(*i, m.time);
        }
        (sd, times)
    }

    /// Restores the state written by [`ModuleAdam::to_state_dict`] onto `device`.
    pub fn load_state_dict(
        &mut self,
        sd: &StateDict,
        times: &BTreeMap<usize, usize>,
        device: &Device,
    ) -> Result<(), String> {
        let inner = device.clone().inner();
        let mut states = BTreeMap::new();
        for (&i, &time) in times {
            let get = |k: &str| -> Result<Tensor<1>, String> {
                let t = sd
                    .get(&format!("{i}.{k}"))
                    .ok_or_else(|| format!("optimizer state {i}.{k} is missing"))?;
                Ok(Tensor::from_data(
                    TensorData::new(t.data.clone(), [t.data.len()]),
                    &inner,
                ))
            };
            let momentum = AdaptiveMomentumState::new(time, get("m1")?, get("m2")?);
            states.insert(i, AdamState::new(momentum));
        }
        self.states = states;
        Ok(())
    }
}

fn host(t: Tensor<1>) -> StateTensor {
    let data = t
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32");
    StateTensor::new(vec![data.len()], data)
}

struct AdamMapper<'a> {
    adam: &'a burn::optim::Adam,
    states: &'a mut BTreeMap<usize, AdamState<1>>,
    grads: &'a mut GradientsParams,
    lr: f64,
    index: usize,
}

impl ModuleMapper for AdamMapper<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let index = self.index;
        self.index += 1;
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let shape = tensor.dims();
        let n: usize = shape.iter().product();
        let flat = tensor.inner().reshape([n]);
        let grad = grad.inner().reshape([n]);
        let state = self.states.remove(&index);
        let (updated, state) = self.adam.step(self.lr, flat, grad, state);
        if let Some(state) = state {
            self.states.insert(index, state);
        }
        let mut t = Tensor::from_inner(updated.reshape(shape));
        if require_grad {
            t = t.require_grad();
        }
        Param::from_mapped_value(id, t, mapper)
    }
}
