//! A small builder for ONNX graphs: nodes, f32 initialisers, typed inputs and outputs.

use crate::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto,
};
use prost::Message;

/// ONNX IR version written; ONNX Runtime 1.31 reads IR 8 with opset 17.
pub const IR_VERSION: i64 = 8;
/// Default-domain opset written.
pub const OPSET: i64 = 17;

/// One dimension of a declared tensor shape.
#[derive(Debug, Clone)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// A named symbolic size, the same name meaning the same size.
    Symbolic(String),
}

/// Builds a [`GraphProto`] node by node.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    graph: GraphProto,
    next_id: usize,
}

impl GraphBuilder {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> Self {
        GraphBuilder { graph: GraphProto { name: Some(name.to_string()), ..Default::default() }, next_id: 0 }
    }

    /// Adds a node whose single output gets a fresh name, which is returned.
    pub fn op(&mut self, op_type: &str, inputs: &[&str], attributes: Vec<AttributeProto>) -> String {
        self.next_id += 1;
        let output = format!("{}_{}", op_type.to_lowercase(), self.next_id);
        self.op_into(op_type, inputs, &output, attributes);
        output
    }

    /// Adds a node writing its single output to `output`.
    pub fn op_into(&mut self, op_type: &str, inputs: &[&str], output: &str, attributes: Vec<AttributeProto>) {
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|name| name.to_string()).collect(),
            output: vec![output.to_string()],
            name: Some(format!("{op_type}:{output}")),
            op_type: Some(op_type.to_string()),
            attribute: attributes,
            ..Default::default()
        });
    }

    /// Adds a float initialiser and returns its name.
    pub fn constant_f32(&mut self, name: &str, dims: &[i64], values: &[f32]) -> String {
        debug_assert_eq!(dims.iter().product::<i64>() as usize, values.len());
        self.initializer(name, dims, DataType::Float, values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    /// Adds an int64 initialiser (shapes, axes) and returns its name.
    pub fn constant_i64(&mut self, name: &str, dims: &[i64], values: &[i64]) -> String {
        debug_assert_eq!(dims.iter().product::<i64>() as usize, values.len());
        self.initializer(name, dims, DataType::Int64, values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    fn initializer(&mut self, name: &str, dims: &[i64], data_type: DataType, raw: Vec<u8>) -> String {
        self.graph.initializer.push(TensorProto {
            dims: dims.to_vec(),
            data_type: Some(data_type as i32),
            name: Some(name.to_string()),
            raw_data: Some(raw),
            ..Default::default()
        });
        name.to_string()
    }

    /// Declares a float graph input.
    pub fn input(&mut self, name: &str, dims: &[Dim]) {
        self.graph.input.push(value_info(name, dims));
    }

    /// Declares a float graph output.
    pub fn output(&mut self, name: &str, dims: &[Dim]) {
        self.graph.output.push(value_info(name, dims));
    }

    /// The finished model, with IR and opset versions set.
    pub fn into_model(self, doc: &str) -> ModelProto {
        ModelProto {
            ir_version: Some(IR_VERSION),
            opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(OPSET) }],
            producer_name: Some("nst-onnx".to_string()),
            producer_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            doc_string: Some(doc.to_string()),
            graph: Some(self.graph),
            ..Default::default()
        }
    }
}

/// Serialises a model to ONNX bytes.
pub fn encode(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|dim| tensor_shape_proto::Dimension {
            denotation: None,
            value: Some(match dim {
                Dim::Fixed(size) => tensor_shape_proto::dimension::Value::DimValue(*size),
                Dim::Symbolic(name) => tensor_shape_proto::dimension::Value::DimParam(name.clone()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            denotation: None,
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
        }),
        ..Default::default()
    }
}

/// An integer-list attribute.
pub fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        r#type: Some(AttributeType::Ints as i32),
        ints: values.to_vec(),
        ..Default::default()
    }
}

/// An integer attribute.
pub fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(value),
        ..Default::default()
    }
}

/// A string attribute.
pub fn string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        r#type: Some(AttributeType::String as i32),
        s: Some(value.as_bytes().to_vec()),
        ..Default::default()
    }
}

/// A tensor attribute (for `Constant` nodes).
pub fn tensor(name: &str, value: TensorProto) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        r#type: Some(AttributeType::Tensor as i32),
        t: Some(value),
        ..Default::default()
    }
}

/// Attributes of a 3x3, stride 1, pad 1 convolution.
pub fn conv3x3() -> Vec<AttributeProto> {
    vec![ints("kernel_shape", &[3, 3]), ints("pads", &[1, 1, 1, 1]), ints("strides", &[1, 1])]
}

/// Name of the boolean mask of `layer`: where its ReLU passes a gradient, and for a max-pooled layer also
/// where its pool took the maximum.
pub(crate) fn keep_mask(layer: crate::vgg::Layer) -> String {
    format!("keep_{}", layer.relu_name())
}

/// Attributes of a nearest-neighbour 2x upsampling `Resize` (each value to its 2x2 block).
pub(crate) fn nearest() -> Vec<AttributeProto> {
    vec![
        string("mode", "nearest"),
        string("coordinate_transformation_mode", "asymmetric"),
        string("nearest_mode", "floor"),
    ]
}

/// Attributes of a 2x2, stride 2 pool.
pub fn pool2x2() -> Vec<AttributeProto> {
    vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])]
}

/// Spatial dims of a feature map `halvings` times smaller than the image: `[1, channels, h/2^k, w/2^k]`.
pub fn feature_dims(channels: usize, halvings: usize) -> Vec<Dim> {
    let (h, w) = if halvings == 0 {
        ("height".to_string(), "width".to_string())
    } else {
        (format!("height_div{}", 1 << halvings), format!("width_div{}", 1 << halvings))
    };
    vec![Dim::Fixed(1), Dim::Fixed(channels as i64), Dim::Symbolic(h), Dim::Symbolic(w)]
}
