//! Canonical checkpoint bytes: safetensors with the tensors in name order, one fixed metadata
//! entry and no timestamps; loading validates every name, dtype, shape and value.

use crate::error::{Error, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;

/// The one metadata entry every checkpoint carries.
pub(crate) const METADATA: (&str, &str) = ("format", "pouw-gan-checkpoint-v1");
/// The tensor holding the step counter (i64, shape `[]`).
pub(crate) const STEP_TENSOR: &str = "step";

/// A float32 tensor's name, shape and little-endian bytes.
pub(crate) struct NamedF32<'a> {
    pub name: String,
    pub shape: Vec<usize>,
    pub bytes: &'a [u8],
}

/// Serialises named f32 tensors and the step counter canonically.
pub(crate) fn encode(mut tensors: Vec<NamedF32<'_>>, step: u64) -> Result<Vec<u8>> {
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let step_bytes = (step as i64).to_le_bytes();
    let mut views: Vec<(String, TensorView<'_>)> = Vec::with_capacity(tensors.len() + 1);
    for t in &tensors {
        let view = TensorView::new(Dtype::F32, t.shape.clone(), t.bytes)
            .map_err(|e| checkpoint_error(e.to_string()))?;
        views.push((t.name.clone(), view));
    }
    views.push((
        STEP_TENSOR.to_owned(),
        TensorView::new(Dtype::I64, vec![], &step_bytes)
            .map_err(|e| checkpoint_error(e.to_string()))?,
    ));
    let metadata = Some(HashMap::from([(
        METADATA.0.to_owned(),
        METADATA.1.to_owned(),
    )]));
    safetensors::serialize(views, &metadata).map_err(|e| checkpoint_error(e.to_string()))
}

fn checkpoint_error(detail: String) -> Error {
    Error::InvalidField {
        what: "checkpoint",
        detail,
    }
}

/// A checkpoint parsed and checked against the expected tensors.
pub(crate) struct Decoded {
    /// The f32 values of each expected tensor, in the order asked for.
    pub values: Vec<Vec<f32>>,
    /// The step counter.
    pub step: u64,
}

/// Parses untrusted checkpoint bytes, requiring exactly the tensors `expected` (name and shape,
/// all f32 and finite) plus the step counter, and the fixed metadata.
pub(crate) fn decode(bytes: &[u8], expected: &[(String, Vec<usize>)]) -> Result<Decoded> {
    let data_bytes: usize = expected
        .iter()
        .map(|(_, s)| s.iter().product::<usize>() * 4)
        .sum::<usize>()
        + 8;
    let limit = data_bytes as u64 + 64 * 1024 + 128 * expected.len() as u64;
    if bytes.len() as u64 > limit {
        return Err(Error::LimitExceeded {
            what: "checkpoint size",
            found: bytes.len() as u64,
            limit,
        });
    }
    let (_, meta) =
        SafeTensors::read_metadata(bytes).map_err(|e| checkpoint_error(e.to_string()))?;
    let fixed = HashMap::from([(METADATA.0.to_owned(), METADATA.1.to_owned())]);
    if meta.metadata().as_ref() != Some(&fixed) {
        return Err(checkpoint_error(
            "metadata is not the fixed pouw metadata".into(),
        ));
    }
    let st = SafeTensors::deserialize(bytes).map_err(|e| checkpoint_error(e.to_string()))?;
    let mut names: Vec<String> = st.names().into_iter().cloned().collect();
    names.sort();
    let mut wanted: Vec<&str> = expected
        .iter()
        .map(|(n, _)| n.as_str())
        .chain([STEP_TENSOR])
        .collect();
    wanted.sort_unstable();
    if let Some(extra) = names
        .iter()
        .find(|n| wanted.binary_search(&n.as_str()).is_err())
    {
        return Err(Error::CheckpointTensor {
            name: extra.clone(),
            detail: "unexpected tensor".into(),
        });
    }
    if let Some(missing) = wanted
        .iter()
        .find(|w| names.binary_search_by(|n| n.as_str().cmp(w)).is_err())
    {
        return Err(Error::CheckpointTensor {
            name: (*missing).to_owned(),
            detail: "missing tensor".into(),
        });
    }
    let mut values = Vec::with_capacity(expected.len());
    for (name, shape) in expected {
        let view = st
            .tensor(name)
            .map_err(|e| checkpoint_error(e.to_string()))?;
        if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
            return Err(Error::CheckpointTensor {
                name: name.clone(),
                detail: format!(
                    "{:?} {:?}, expected F32 {shape:?}",
                    view.dtype(),
                    view.shape()
                ),
            });
        }
        let floats: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        if let Some(pos) = floats.iter().position(|v| !v.is_finite()) {
            return Err(Error::CheckpointTensor {
                name: name.clone(),
                detail: format!("non-finite value at {pos}"),
            });
        }
        values.push(floats);
    }
    let step_view = st
        .tensor(STEP_TENSOR)
        .map_err(|e| checkpoint_error(e.to_string()))?;
    if step_view.dtype() != Dtype::I64 || !step_view.shape().is_empty() {
        return Err(Error::CheckpointTensor {
            name: STEP_TENSOR.into(),
            detail: "expected an I64 scalar".into(),
        });
    }
    let step = i64::from_le_bytes(
        step_view
            .data()
            .try_into()
            .map_err(|_| checkpoint_error("step bytes".into()))?,
    );
    let step = u64::try_from(step).map_err(|_| Error::CheckpointTensor {
        name: STEP_TENSOR.into(),
        detail: format!("negative step {step}"),
    })?;
    Ok(Decoded { values, step })
}
