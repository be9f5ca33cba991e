//! Reading a VGG19 from an ONNX file.
//!
//! Accepted: a torchvision `vgg19().features` export (weights as initialisers, or reaching the `Conv` through
//! `Identity` or `Constant` nodes, as legacy and current exporters write them), a whole torchvision `vgg19()`
//! export and the ONNX model zoo VGG19 (`vgg19-7.onnx`): the walk stops at relu5_4, the deepest layer any loss
//! reads, and whatever follows (the last pool, the classifier) is dropped. The convolutions are found by
//! walking the graph from its image input along the chain; every shape and attribute is checked against VGG19,
//! and anything else is refused with an error that says what was found.

use std::collections::HashMap;

use prost::Message;

use crate::OnnxError;
use crate::proto::{GraphProto, ModelProto, NodeProto, TensorProto, tensor_proto::DataType};
use crate::vgg::{CONV_CHANNELS, ConvWeights, Layer, Normalisation, Vgg19};

/// Reads a VGG19 from ONNX bytes; `origin` names them in messages.
pub fn vgg19_from_onnx_bytes(bytes: &[u8], origin: &str) -> Result<Vgg19, OnnxError> {
    // No bytes decode as an empty ModelProto, which would be refused as "a model without a graph".
    if bytes.is_empty() {
        return Err(super::empty(origin));
    }
    let model = ModelProto::decode(bytes)
        .map_err(|err| OnnxError::Decode { origin: origin.to_string(), reason: err.to_string() })?;
    let not_vgg = |found: String| OnnxError::NotVgg19 { origin: origin.to_string(), found };
    let graph = model.graph.as_ref().ok_or_else(|| not_vgg("a model without a graph".into()))?;
    let walk = walk_feature_chain(graph).map_err(|err| not_vgg(err.to_string()))?;
    let layout = if walk.classifier_dropped {
        "VGG19 features; the layers after relu5_4 dropped"
    } else {
        "torchvision features layout"
    };
    Ok(Vgg19 {
        convs: walk.convs,
        normalisation: Normalisation::IMAGENET,
        description: format!("VGG19 from {origin} ({layout})"),
    })
}

struct FeatureChain {
    convs: Vec<ConvWeights>,
    classifier_dropped: bool,
}

/// Where a tensor's value comes from: an initialiser or a `Constant` node, possibly behind `Identity` nodes.
struct Constants<'g> {
    tensors: HashMap<&'g str, &'g TensorProto>,
    aliases: HashMap<&'g str, &'g str>,
}

impl<'g> Constants<'g> {
    fn new(graph: &'g GraphProto) -> Self {
        let mut tensors: HashMap<&str, &TensorProto> =
            graph.initializer.iter().filter_map(|tensor| Some((tensor.name.as_deref()?, tensor))).collect();
        let mut aliases = HashMap::new();
        for node in &graph.node {
            let output = node.output.first().map(String::as_str).unwrap_or("");
            match node.op_type.as_deref() {
                Some("Constant") => {
                    let value = node.attribute.iter().find(|a| a.name.as_deref() == Some("value"));
                    if let Some(tensor) = value.and_then(|v| v.t.as_ref()) {
                        tensors.insert(output, tensor);
                    }
                }
                Some("Identity") => {
                    if let Some(input) = node.input.first() {
                        aliases.insert(output, input.as_str());
                    }
                }
                _ => {}
            }
        }
        Constants { tensors, aliases }
    }

    fn get(&self, mut name: &'g str) -> Option<&'g TensorProto> {
        for _ in 0..64 {
            if let Some(tensor) = self.tensors.get(name) {
                return Some(tensor);
            }
            name = self.aliases.get(name)?;
        }
        None
    }

    fn is_constant(&self, name: &'g str) -> bool {
        self.get(name).is_some()
    }
}

/// Ops that the walk passes through without meaning anything for the features.
const PASS_THROUGH: [&str; 2] = ["Identity", "Dropout"];

/// One step of the image's way through the file's graph.
enum Step<'g> {
    Conv(&'g NodeProto),
    Relu,
    Pool(&'g NodeProto),
}

/// Convolutions per block of VGG19 (blocks end at pools).
const VGG19_BLOCKS: [usize; 5] = [2, 2, 4, 4, 4];

fn network_name(blocks: &[usize]) -> &'static str {
    match blocks {
        [1, 1, 2, 2, 2] => " (the block layout of VGG11)",
        [2, 2, 2, 2, 2] => " (the block layout of VGG13)",
        [2, 2, 3, 3, 3] => " (the block layout of VGG16)",
        _ => "",
    }
}

/// Why a graph's feature chain is not VGG19's.
#[derive(Debug)]
enum ChainError {
    /// Not exactly one input that is no constant.
    Inputs(Vec<String>),
    /// A tensor reached twice: the graph is not a chain.
    Cycle(String),
    /// A tensor read by several nodes.
    Branch { tensor: String, readers: usize },
    /// A convolution whose next step is no Relu (1-based).
    ConvWithoutRelu(usize),
    /// The convolutions, grouped by pools, are not VGG19's blocks.
    Blocks { convs: usize, blocks: Vec<usize>, stopped_at: Option<String> },
    /// A pool, or a convolution's weights or attributes, that VGG19 does not have.
    Node(String),
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::Inputs(names) => {
                write!(f, "{} data inputs {names:?}; a VGG19 has one image input", names.len())
            }
            ChainError::Cycle(tensor) => write!(f, "tensor '{tensor}' is reached twice: the graph has a cycle"),
            ChainError::Branch { tensor, readers } => {
                write!(f, "tensor '{tensor}' feeds {readers} nodes; VGG19 features are a plain chain")
            }
            ChainError::ConvWithoutRelu(index) => write!(f, "convolution {index} is not followed by a Relu"),
            ChainError::Blocks { convs, blocks, stopped_at } => {
                let ending =
                    stopped_at.as_ref().map(|op| format!(", then the chain reaches a {op}")).unwrap_or_default();
                write!(
                    f,
                    "found {convs} 3x3 convolutions in blocks {blocks:?}{}{ending}; VGG19 has 16 in blocks \
                     {VGG19_BLOCKS:?}",
                    network_name(blocks)
                )
            }
            ChainError::Node(reason) => write!(f, "{reason}"),
        }
    }
}

/// The image's way through the graph, checked against VGG19 in four phases: its one data input, the chain
/// of nodes it flows along, that chain's convolutions grouped into blocks, and each convolution's weights.
fn walk_feature_chain(graph: &GraphProto) -> Result<FeatureChain, ChainError> {
    let constants = Constants::new(graph);
    let image = image_input(graph, &constants)?;
    let mut consumers: HashMap<&str, Vec<&NodeProto>> = HashMap::new();
    for node in &graph.node {
        for input in &node.input {
            consumers.entry(input.as_str()).or_default().push(node);
        }
    }
    let (steps, stopped_at) = follow_chain(image, &consumers)?;
    let conv_nodes = vgg19_convolutions(&steps, stopped_at.clone())?;
    let convs = conv_nodes
        .iter()
        .zip(Layer::all())
        .map(|(node, layer)| layer_weights(node, layer, &constants))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FeatureChain { convs, classifier_dropped: stopped_at.is_some() })
}

/// The graph's one input that is no constant: the image.
fn image_input<'g>(graph: &'g GraphProto, constants: &Constants<'g>) -> Result<&'g str, ChainError> {
    let data_inputs: Vec<&str> = graph
        .input
        .iter()
        .filter_map(|input| input.name.as_deref())
        .filter(|name| !constants.is_constant(name))
        .collect();
    match data_inputs[..] {
        [image] => Ok(image),
        _ => Err(ChainError::Inputs(data_inputs.iter().map(|name| name.to_string()).collect())),
    }
}

/// The Conv / Relu / pool steps the image flows through, up to relu5_4 or the first other node, and what
/// stopped the walk there (`None`: the graph ends at relu5_4 or its pool).
fn follow_chain<'g>(
    image: &'g str,
    consumers: &HashMap<&'g str, Vec<&'g NodeProto>>,
) -> Result<(Vec<Step<'g>>, Option<String>), ChainError> {
    let mut steps = Vec::new();
    let mut current = image;
    let mut visited = std::collections::HashSet::new();
    loop {
        if !visited.insert(current) {
            return Err(ChainError::Cycle(current.to_string()));
        }
        let next = consumers.get(current).map(Vec::as_slice).unwrap_or(&[]);
        let node = match next {
            [] => return Ok((steps, None)),
            [node] => *node,
            _ => return Err(ChainError::Branch { tensor: current.to_string(), readers: next.len() }),
        };
        let op = node.op_type.as_deref().unwrap_or("");
        match op {
            "Conv" => steps.push(Step::Conv(node)),
            "Relu" => {
                steps.push(Step::Relu);
                let convs = steps.iter().filter(|step| matches!(step, Step::Conv(_))).count();
                if convs == VGG19_BLOCKS.iter().sum::<usize>() {
                    // relu5_4 is the deepest layer a loss can read: what follows is never run.
                    let output = node.output.first().map(String::as_str).unwrap_or("");
                    return Ok((steps, beyond_final_pool(output, consumers)));
                }
            }
            "MaxPool" | "AveragePool" => steps.push(Step::Pool(node)),
            _ if PASS_THROUGH.contains(&op) => {}
            _ => return Ok((steps, Some(format!("{op} node '{}'", node.name.as_deref().unwrap_or(""))))),
        }
        current = node.output.first().map(String::as_str).unwrap_or("");
    }
}

/// The chain's convolutions, each followed by a Relu and grouped by pools into VGG19's blocks.
fn vgg19_convolutions<'g>(steps: &[Step<'g>], stopped_at: Option<String>) -> Result<Vec<&'g NodeProto>, ChainError> {
    let mut blocks = vec![0usize];
    let mut conv_nodes = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        match step {
            Step::Conv(node) => {
                if !matches!(steps.get(index + 1), Some(Step::Relu)) {
                    return Err(ChainError::ConvWithoutRelu(conv_nodes.len() + 1));
                }
                conv_nodes.push(*node);
                *blocks.last_mut().expect("non-empty") += 1;
            }
            Step::Pool(node) => {
                check_pool(node).map_err(ChainError::Node)?;
                blocks.push(0);
            }
            Step::Relu => {}
        }
    }
    while blocks.len() > 1 && blocks.last() == Some(&0) {
        blocks.pop();
    }
    if blocks[..] != VGG19_BLOCKS {
        return Err(ChainError::Blocks { convs: conv_nodes.len(), blocks, stopped_at });
    }
    Ok(conv_nodes)
}

/// The weights of `layer`'s convolution `node`, with VGG19's channels.
fn layer_weights(node: &NodeProto, layer: Layer, constants: &Constants) -> Result<ConvWeights, ChainError> {
    let (weights, shape) = conv_weights(node, constants, layer).map_err(ChainError::Node)?;
    let expected = CONV_CHANNELS[layer.index()];
    if shape != expected {
        return Err(ChainError::Node(format!(
            "{} maps {} -> {} channels; VGG19's maps {} -> {}",
            layer.conv_name(),
            shape.0,
            shape.1,
            expected.0,
            expected.1
        )));
    }
    Ok(weights)
}

/// The first node after `relu5_4` (`output`) other than pass-throughs and the last block's pool, if any: what a
/// classifier head or a whole-network export adds.
fn beyond_final_pool(output: &str, consumers: &HashMap<&str, Vec<&NodeProto>>) -> Option<String> {
    let mut current = output;
    let mut pools = 0;
    for _ in 0..64 {
        let node = match consumers.get(current).map(Vec::as_slice).unwrap_or(&[]) {
            [] => return None,
            [node] => *node,
            several => return Some(format!("{} nodes reading '{current}'", several.len())),
        };
        let op = node.op_type.as_deref().unwrap_or("");
        let is_pool = matches!(op, "MaxPool" | "AveragePool") && pools == 0;
        if is_pool {
            pools += 1;
        } else if !PASS_THROUGH.contains(&op) {
            return Some(format!("{op} node '{}'", node.name.as_deref().unwrap_or("")));
        }
        current = node.output.first().map(String::as_str).unwrap_or("");
    }
    Some("a chain of more than 64 nodes".into())
}

fn attribute_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute.iter().find(|a| a.name.as_deref() == Some(name)).map(|a| a.ints.clone())
}

fn attribute_int(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name.as_deref() == Some(name)).and_then(|a| a.i)
}

fn check_pool(node: &NodeProto) -> Result<(), String> {
    let kernel = attribute_ints(node, "kernel_shape").unwrap_or_default();
    let strides = attribute_ints(node, "strides").unwrap_or_else(|| vec![1, 1]);
    if kernel != [2, 2] || strides != [2, 2] {
        return Err(format!("a pool with kernel {kernel:?} and strides {strides:?}; VGG19 pools 2x2 with stride 2"));
    }
    Ok(())
}

fn conv_weights(
    node: &NodeProto,
    constants: &Constants,
    layer: Layer,
) -> Result<(ConvWeights, (usize, usize)), String> {
    let name = layer.conv_name();
    let weight_name = node.input.get(1).ok_or_else(|| format!("{name} has no weight input"))?;
    let weight = constants
        .get(weight_name)
        .ok_or_else(|| format!("{name}'s weight '{weight_name}' is not a constant of the file"))?;
    let dims: Vec<i64> = weight.dims.clone();
    let [cout, cin, 3, 3] = dims[..] else {
        return Err(format!("{name}'s weight has shape {dims:?}; expected [out, in, 3, 3]"));
    };
    let (cin, cout) = (cin as usize, cout as usize);
    let strides = attribute_ints(node, "strides").unwrap_or_else(|| vec![1, 1]);
    let dilations = attribute_ints(node, "dilations").unwrap_or_else(|| vec![1, 1]);
    let pads = attribute_ints(node, "pads").unwrap_or_else(|| vec![0, 0, 0, 0]);
    let auto_pad = node
        .attribute
        .iter()
        .find(|a| a.name.as_deref() == Some("auto_pad"))
        .and_then(|a| a.s.clone())
        .map(|s| String::from_utf8_lossy(&s).into_owned())
        .unwrap_or_default();
    let same_padding = pads == [1, 1, 1, 1] || auto_pad.starts_with("SAME");
    if strides != [1, 1] || dilations != [1, 1] || !same_padding || attribute_int(node, "group").unwrap_or(1) != 1 {
        return Err(format!(
            "{name} has strides {strides:?}, dilations {dilations:?}, pads {pads:?}; VGG19 uses stride 1, pad 1"
        ));
    }
    let weight_values = tensor_f32(weight).map_err(|why| format!("{name}'s weight: {why}"))?;
    let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
        None => vec![0.0; cout],
        Some(bias_name) => {
            let tensor = constants
                .get(bias_name)
                .ok_or_else(|| format!("{name}'s bias '{bias_name}' is not a constant of the file"))?;
            let values = tensor_f32(tensor).map_err(|why| format!("{name}'s bias: {why}"))?;
            if values.len() != cout {
                return Err(format!("{name}'s bias has {} values; expected {cout}", values.len()));
            }
            values
        }
    };
    Ok((ConvWeights { weight: weight_values, bias }, (cin, cout)))
}

/// The float values of a tensor stored inside the file.
fn tensor_f32(tensor: &TensorProto) -> Result<Vec<f32>, String> {
    if tensor.data_type != Some(DataType::Float as i32) {
        return Err(format!("data type {:?} (only float32 weights are read)", tensor.data_type));
    }
    if tensor.data_location == Some(1) || !tensor.external_data.is_empty() {
        return Err("weights stored in an external data file; re-export with the weights inside the .onnx".into());
    }
    let count = tensor
        .dims
        .iter()
        .try_fold(1i64, |count, dim| if *dim < 0 { None } else { count.checked_mul(*dim) })
        .ok_or_else(|| format!("shape {:?} is negative or too large", tensor.dims))?;
    let stored = match &tensor.raw_data {
        Some(raw) if !raw.is_empty() => raw.len() / 4,
        _ => tensor.float_data.len(),
    };
    if stored as i64 != count {
        return Err(format!("{stored} values stored for shape {:?} ({count} expected)", tensor.dims));
    }
    match &tensor.raw_data {
        Some(raw) if !raw.is_empty() => super::finite_f32_from_le(raw),
        _ => super::finite_f32_from_le(&tensor.float_data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_tensors_are_refused_without_allocating_their_claimed_size() {
        let huge =
            TensorProto { dims: vec![i64::MAX, 2], data_type: Some(DataType::Float as i32), ..Default::default() };
        assert!(tensor_f32(&huge).unwrap_err().contains("negative or too large"));
        let negative = TensorProto { dims: vec![-3], data_type: Some(DataType::Float as i32), ..Default::default() };
        assert!(tensor_f32(&negative).unwrap_err().contains("negative or too large"));
        let short = TensorProto {
            dims: vec![4],
            data_type: Some(DataType::Float as i32),
            float_data: vec![1.0],
            ..Default::default()
        };
        assert!(tensor_f32(&short).unwrap_err().contains("1 values stored for shape [4]"));
        let garbage = vgg19_from_onnx_bytes(&[0xff, 0xff, 0xff, 0xff], "garbage").unwrap_err().to_string();
        assert!(garbage.contains("garbage is not a readable ONNX model"), "{garbage}");
    }
}
