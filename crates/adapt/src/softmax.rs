//! Softmax over the last dimension as one fused operation with its own backward pass.
//!
//! candle's fused `softmax_last_dim` has no backward, and the differentiable
//! `candle_nn::ops::softmax` is five elementwise operations whose intermediate results the
//! graph keeps: in an adapted encoder block, each is a `[6, 1500, 1500]` attention map of 54 MB.
//! This operation keeps only its input and output and computes the gradient in closed form:
//! for `y = softmax(x)` and the gradient `g` of `y`, `∂L/∂x = y ⊙ (g − Σⱼ gⱼ yⱼ)` (the softmax
//! Jacobian `diag(y) − y yᵀ` applied to `g`).

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor, D};

struct SoftmaxLastDim;

impl CustomOp1 for SoftmaxLastDim {
    fn name(&self) -> &'static str {
        "ownvoice-softmax-last-dim"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(src) = storage else {
            candle_core::bail!("softmax: f32 only");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("softmax: the input must be contiguous");
        };
        let src = &src[start..end];
        let n = layout.dims().last().copied().unwrap_or(1).max(1);
        let mut dst = vec![0f32; src.len()];
        for (d, s) in dst.chunks_exact_mut(n).zip(src.chunks_exact(n)) {
            let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for (d, &s) in d.iter_mut().zip(s) {
                *d = (s - max).exp();
                sum += *d;
            }
            let inv = 1.0 / sum;
            d.iter_mut().for_each(|d| *d *= inv);
        }
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let dot = (grad_res * res)?.sum_keepdim(D::Minus1)?;
        Ok(Some((res * grad_res.broadcast_sub(&dot)?)?))
    }
}

/// Softmax over the last dimension of an f32 tensor of any shape, differentiable (see the
/// module doc). A row of all `-inf` gives NaN, as the unfused softmax does.
///
/// # Errors
/// A dtype other than f32; a tensor not on the CPU.
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(SoftmaxLastDim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op_check::{assert_same_op, max_abs_diff};
    use candle_core::Device;

    #[test]
    fn forward_and_gradient_match_the_unfused_softmax() {
        assert_same_op(
            &[2, 3, 7, 11],
            3.0,
            1e-5,
            |x| softmax_last_dim(x).unwrap(),
            |x| candle_nn::ops::softmax(x, D::Minus1).unwrap(),
        );
        let x = Tensor::randn(0f32, 3.0, (4, 9), &Device::Cpu).unwrap();
        let rows = softmax_last_dim(&x)
            .unwrap()
            .sum_keepdim(D::Minus1)
            .unwrap();
        assert!(max_abs_diff(&rows, &rows.ones_like().unwrap()) < 1e-5);
    }
}
