//! Resemblyzer's `pretrained.pt` (PyTorch) → an ONNX graph for ONNX Runtime, with no PyTorch.
//!
//! The weights are `model_state` of the checkpoint, which is in PyTorch's legacy (non-zip)
//! format, read by [`crate::torch_legacy`].
//! The network (Resemblyzer `voice_encoder.py`, after GE2E, Wan et al. 2018):
//! `LSTM(40 → 256, 3 layers, batch_first)` → last hidden state of the top layer →
//! `Linear(256 → 256)` → `ReLU` → L2 normalisation.
//!
//! The graph, opset 17:
//!
//! ```text
//! mels [B, 160, 40] ─Transpose→ [160, B, 40] ─LSTM₀→ Y [160, 1, B, 256] ─Squeeze(1)→ … LSTM₂
//!   → Y_h [1, B, 256] ─Squeeze(0)→ [B, 256] ─Gemm(W, b, transB)→ ─Relu→ ─LpNormalization(p=2)→
//!   embeds [B, 256]
//! ```
//!
//! PyTorch packs LSTM gates as `[i, f, g, o]`, ONNX as `[i, o, f, c]` (ONNX operator spec,
//! LSTM); the converter reorders the 256-row blocks and concatenates `bias_ih` and `bias_hh` into
//! ONNX's `B = [Wb, Rb]`.

use std::path::Path;

use prost::Message;

use crate::onnx_proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    ValueInfoProto,
};
use crate::SpeakerError;

/// Mel bands the encoder takes.
pub const N_MELS: usize = 40;
/// LSTM hidden size and embedding size.
pub const HIDDEN: usize = 256;
/// LSTM layers.
pub const LAYERS: usize = 3;
/// Frames per partial utterance (1.6 s at a 10 ms hop).
pub const PARTIAL_FRAMES: usize = 160;

/// The encoder's weights by PyTorch name, row-major f32.
pub struct Ge2eWeights {
    tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl Ge2eWeights {
    /// Reads `model_state` from a Resemblyzer checkpoint and checks every tensor's shape.
    ///
    /// # Errors
    /// [`SpeakerError::Checkpoint`] naming the file: not a PyTorch zip, a missing tensor, a
    /// wrong shape.
    pub fn read_checkpoint(path: &Path) -> Result<Ge2eWeights, SpeakerError> {
        let bad = |detail: String| SpeakerError::Checkpoint {
            path: path.into(),
            detail,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let tensors = crate::torch_legacy::read_state_dict(&bytes, "model_state")
            .map_err(bad)?
            .into_iter()
            .map(|(name, t)| (name, t.shape, t.data))
            .collect();
        let w = Ge2eWeights { tensors };
        for (name, shape) in expected_shapes() {
            match w.find(&name) {
                None => return Err(bad(format!("no tensor {name}"))),
                Some((dims, _)) if dims != shape.as_slice() => {
                    return Err(bad(format!(
                        "{name} has shape {dims:?}, expected {shape:?}"
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(w)
    }

    fn find(&self, name: &str) -> Option<(&[usize], &[f32])> {
        self.tensors
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, d, v)| (d.as_slice(), v.as_slice()))
    }

    fn get(&self, name: &str) -> &[f32] {
        self.find(name).expect("shapes checked on read").1
    }

    /// The ONNX model (serialised `ModelProto`), see the module documentation.
    pub fn to_onnx(&self) -> Vec<u8> {
        let mut nodes = Vec::new();
        let mut init = Vec::new();
        let node = |op: &str, name: &str, inputs: &[&str], outputs: &[&str], attrs| NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name: name.into(),
            op_type: op.into(),
            attribute: attrs,
        };
        nodes.push(node(
            "Transpose",
            "time_major",
            &["mels"],
            &["x0"],
            vec![AttributeProto::ints("perm", &[1, 0, 2])],
        ));
        init.push(TensorProto::i64("axis0", &[1], &[0]));
        init.push(TensorProto::i64("axis1", &[1], &[1]));
        let h = HIDDEN as i64;
        for l in 0..LAYERS {
            let input = if l == 0 { N_MELS } else { HIDDEN };
            let w = reorder_gates(self.get(&format!("lstm.weight_ih_l{l}")), input);
            let r = reorder_gates(self.get(&format!("lstm.weight_hh_l{l}")), HIDDEN);
            let mut b = reorder_gates(self.get(&format!("lstm.bias_ih_l{l}")), 1);
            b.extend(reorder_gates(self.get(&format!("lstm.bias_hh_l{l}")), 1));
            init.push(TensorProto::f32(
                &format!("W{l}"),
                &[1, 4 * h, input as i64],
                &w,
            ));
            init.push(TensorProto::f32(&format!("R{l}"), &[1, 4 * h, h], &r));
            init.push(TensorProto::f32(&format!("B{l}"), &[1, 8 * h], &b));
            let (x, y, yh) = (format!("x{l}"), format!("y{l}"), format!("yh{l}"));
            let (wn, rn, bn) = (format!("W{l}"), format!("R{l}"), format!("B{l}"));
            nodes.push(node(
                "LSTM",
                &format!("lstm{l}"),
                &[&x, &wn, &rn, &bn],
                &[&y, &yh],
                vec![AttributeProto::int("hidden_size", h)],
            ));
            if l + 1 < LAYERS {
                let next = format!("x{}", l + 1);
                nodes.push(node(
                    "Squeeze",
                    &format!("squeeze{l}"),
                    &[&y, "axis1"],
                    &[&next],
                    vec![],
                ));
            }
        }
        let last_h = format!("yh{}", LAYERS - 1);
        nodes.push(node(
            "Squeeze",
            "last_hidden",
            &[&last_h, "axis0"],
            &["hidden"],
            vec![],
        ));
        init.push(TensorProto::f32(
            "linear_w",
            &[h, h],
            self.get("linear.weight"),
        ));
        init.push(TensorProto::f32("linear_b", &[h], self.get("linear.bias")));
        nodes.push(node(
            "Gemm",
            "linear",
            &["hidden", "linear_w", "linear_b"],
            &["projected"],
            vec![AttributeProto::int("transB", 1)],
        ));
        nodes.push(node("Relu", "relu", &["projected"], &["relu"], vec![]));
        nodes.push(node(
            "LpNormalization",
            "l2norm",
            &["relu"],
            &["embeds"],
            vec![AttributeProto::int("axis", -1), AttributeProto::int("p", 2)],
        ));
        let model = ModelProto {
            ir_version: 8,
            producer_name: "ownvoice".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            doc_string: "Resemblyzer GE2E speaker encoder (converted from pretrained.pt)".into(),
            graph: Some(GraphProto {
                node: nodes,
                name: "ge2e".into(),
                initializer: init,
                input: vec![ValueInfoProto::f32(
                    "mels",
                    &[
                        Err("partials"),
                        Ok(PARTIAL_FRAMES as i64),
                        Ok(N_MELS as i64),
                    ],
                )],
                output: vec![ValueInfoProto::f32("embeds", &[Err("partials"), Ok(h)])],
            }),
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: 17,
            }],
        };
        model.encode_to_vec()
    }
}

/// The tensors the encoder needs, with their PyTorch shapes.
fn expected_shapes() -> Vec<(String, Vec<usize>)> {
    let mut v = Vec::new();
    for l in 0..LAYERS {
        let input = if l == 0 { N_MELS } else { HIDDEN };
        v.push((format!("lstm.weight_ih_l{l}"), vec![4 * HIDDEN, input]));
        v.push((format!("lstm.weight_hh_l{l}"), vec![4 * HIDDEN, HIDDEN]));
        v.push((format!("lstm.bias_ih_l{l}"), vec![4 * HIDDEN]));
        v.push((format!("lstm.bias_hh_l{l}"), vec![4 * HIDDEN]));
    }
    v.push(("linear.weight".into(), vec![HIDDEN, HIDDEN]));
    v.push(("linear.bias".into(), vec![HIDDEN]));
    v
}

/// Reorders the four gate blocks of `[4·HIDDEN, cols]` from PyTorch's `[i, f, g, o]` to ONNX's
/// `[i, o, f, c]`.
fn reorder_gates(m: &[f32], cols: usize) -> Vec<f32> {
    let block = HIDDEN * cols;
    [0usize, 3, 1, 2]
        .iter()
        .flat_map(|&g| m[g * block..(g + 1) * block].iter().copied())
        .collect()
}

/// Converts the checkpoint at `pt` into ONNX bytes.
///
/// # Errors
/// As [`Ge2eWeights::read_checkpoint`].
pub fn convert_checkpoint(pt: &Path) -> Result<Vec<u8>, SpeakerError> {
    Ok(Ge2eWeights::read_checkpoint(pt)?.to_onnx())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_move_from_ifgo_to_iofc() {
        let m: Vec<f32> = (0..4 * HIDDEN).map(|r| (r / HIDDEN) as f32).collect();
        let out = reorder_gates(&m, 1);
        let blocks: Vec<f32> = (0..4).map(|b| out[b * HIDDEN]).collect();
        assert_eq!(blocks, [0.0, 3.0, 1.0, 2.0]);
    }
}
