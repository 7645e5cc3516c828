//! `x · Wᵀ` for a weight `W` that is not trained, with a backward pass to `x` only.
//!
//! candle's matmul backward computes the gradient of both operands, whether or not they are
//! trained: for each frozen linear layer under a LoRA adapter, one more matmul as large as the
//! forward one, and for Whisper's vocabulary projection (the token embedding, `[51864, 384]`
//! for tiny.en) an 80 MB gradient per example that the step then throws away. This operation
//! holds `W` outside the graph and returns only `∂L/∂x = (∂L/∂y) · W`.

use candle_core::{CpuStorage, CustomOp1, Device, Layout, Result, Shape, Tensor};

struct FrozenMatmulT {
    /// `[out, in]`.
    weight: Tensor,
}

impl CustomOp1 for FrozenMatmulT {
    fn name(&self) -> &'static str {
        "ownvoice-frozen-matmul-t"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(src) = storage else {
            candle_core::bail!("frozen matmul: f32 only");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("frozen matmul: the input must be contiguous");
        };
        let x = Tensor::from_slice(&src[start..end], layout.shape(), &Device::Cpu)?;
        let y = x.broadcast_matmul(&self.weight.t()?)?;
        let shape = y.shape().clone();
        Ok((CpuStorage::F32(y.flatten_all()?.to_vec1::<f32>()?), shape))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad_res.broadcast_matmul(&self.weight)?))
    }
}

/// `x · weightᵀ`: `x` `[..., in]`, `weight` `[out, in]` → `[..., out]`. Only when `x` carries a
/// gradient and `weight` is not a trained variable does it run the operation of the module
/// doc; otherwise candle's matmul (a trained `weight` gets its gradient, and a pass without
/// gradients, such as the frozen encoder's, copies nothing).
///
/// # Errors
/// A dtype other than f32; a tensor not on the CPU; mismatched inner dimensions.
pub fn matmul_t(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    if weight.is_variable() || !x.track_op() {
        return x.broadcast_matmul(&weight.t()?);
    }
    x.contiguous()?.apply_op1(FrozenMatmulT {
        weight: weight.detach(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op_check::assert_same_op;

    #[test]
    fn forward_and_input_gradient_match_candles_matmul() {
        let w = Tensor::randn(0f32, 1.0, (3, 7), &Device::Cpu).unwrap();
        assert_same_op(
            &[2, 5, 7],
            1.0,
            1e-5,
            |x| matmul_t(x, &w).unwrap(),
            |x| x.broadcast_matmul(&w.t().unwrap()).unwrap(),
        );
    }
}
