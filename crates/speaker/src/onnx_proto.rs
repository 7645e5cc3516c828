//! The subset of the ONNX protobuf schema (`onnx/onnx.proto`, IR version 8) that the converter
//! writes: a model holding one graph of nodes, initializers, inputs and outputs. Field numbers
//! are those of `onnx.proto`; encoding is done by prost.

/// `ModelProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelProto {
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    #[prost(string, tag = "2")]
    pub producer_name: String,
    #[prost(string, tag = "3")]
    pub producer_version: String,
    #[prost(string, tag = "6")]
    pub doc_string: String,
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
}

/// `OperatorSetIdProto`: the default domain ("") at an opset version.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    pub domain: String,
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// `GraphProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

/// `NodeProto`: one operator application.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub op_type: String,
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

/// `AttributeProto` (only the int, float and ints kinds are used).
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(float, tag = "2")]
    pub f: f32,
    #[prost(int64, tag = "3")]
    pub i: i64,
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    /// `AttributeType`: FLOAT = 1, INT = 2, INTS = 7.
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

/// `TensorProto` with its data in `raw_data` (little-endian).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// `DataType`: FLOAT = 1, INT64 = 7.
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    #[prost(string, tag = "8")]
    pub name: String,
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

/// `ValueInfoProto`: a graph input or output with its type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueInfoProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

/// `TypeProto` (tensor types only).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeProto {
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
}

/// `TypeProto.Tensor`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

/// `TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

/// `TensorShapeProto.Dimension`: a fixed size or a named symbolic one.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dimension {
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
    #[prost(string, optional, tag = "2")]
    pub dim_param: Option<String>,
}

/// ONNX `DataType` FLOAT.
pub const FLOAT: i32 = 1;
/// ONNX `DataType` INT64.
pub const INT64: i32 = 7;

impl AttributeProto {
    /// An INT attribute.
    pub fn int(name: &str, i: i64) -> Self {
        AttributeProto {
            name: name.into(),
            i,
            r#type: 2,
            ..Default::default()
        }
    }

    /// An INTS attribute.
    pub fn ints(name: &str, ints: &[i64]) -> Self {
        AttributeProto {
            name: name.into(),
            ints: ints.to_vec(),
            r#type: 7,
            ..Default::default()
        }
    }
}

impl TensorProto {
    /// A float tensor `[dims]` named `name`.
    pub fn f32(name: &str, dims: &[i64], data: &[f32]) -> Self {
        TensorProto {
            dims: dims.to_vec(),
            data_type: FLOAT,
            name: name.into(),
            raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// An int64 tensor `[dims]` named `name`.
    pub fn i64(name: &str, dims: &[i64], data: &[i64]) -> Self {
        TensorProto {
            dims: dims.to_vec(),
            data_type: INT64,
            name: name.into(),
            raw_data: data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

impl ValueInfoProto {
    /// A float tensor value with dimensions given as sizes or symbolic names.
    pub fn f32(name: &str, dims: &[Result<i64, &str>]) -> Self {
        ValueInfoProto {
            name: name.into(),
            r#type: Some(TypeProto {
                tensor_type: Some(TensorTypeProto {
                    elem_type: FLOAT,
                    shape: Some(TensorShapeProto {
                        dim: dims
                            .iter()
                            .map(|d| match d {
                                Ok(v) => Dimension {
                                    dim_value: Some(*v),
                                    dim_param: None,
                                },
                                Err(p) => Dimension {
                                    dim_value: None,
                                    dim_param: Some((*p).to_string()),
                                },
                            })
                            .collect(),
                    }),
                }),
            }),
        }
    }
}
