//! Buffers of one image size, allocated once and bound to the sessions.
//!
//! With the losses in Rust, the forward graph writes every ReLU output into a tensor that the backward graph
//! then reads in place: no copy between the two passes. With the losses in the evaluation graph, the pass
//! holds only the image and its gradient while it optimises; the loss taps' maps exist while targets are
//! computed from them. Either way nothing image-sized is allocated per evaluation on the host.
//!
//! ONNX Runtime copies a host input to the device when it is bound, not when the graph runs: on a GPU, inputs
//! that change between runs (the image, the taps, their gradients) are bound again before each run.

use nst_onnx::Layer;
use nst_onnx::backward::{IMAGE_GRADIENT, gradient_input};
use nst_onnx::forward::IMAGE_INPUT;
use nst_onnx::loss::{
    CONTENT_LOSS, CONTENT_MASK, CONTENT_TARGET, CONTENT_WEIGHT, LossLayout, STYLE_LOSS, style_mask_input,
    style_scale_input, style_target_input,
};
use ort::memory::{AllocationDevice, Allocator, AllocatorType, MemoryInfo, MemoryType};
use ort::session::{IoBinding, Session};
use ort::value::Tensor;

use crate::error::{EngineError, Result, ort_context};
use crate::image_io::Planar;
use crate::runtime::Provider;

/// A read-only view of one feature map: `channels` rows of `height * width` values.
#[derive(Debug, Clone, Copy)]
pub struct FeatureMap<'a> {
    /// The layer it comes from.
    pub layer: Layer,
    /// Number of channels (rows).
    pub channels: usize,
    /// Spatial positions per channel (`height * width`).
    pub positions: usize,
    /// `channels * positions` values, channel-major.
    pub values: &'a [f32],
}

/// The buffers of one image size.
///
/// On CUDA with Rust losses, the feature maps no loss reads stay on the device: the forward graph writes them
/// to device memory and the backward graph reads them there; only the loss taps cross to the host.
pub struct Pass {
    height: usize,
    width: usize,
    image: Tensor<f32>,
    image_gradient: Tensor<f32>,
    /// Inputs are copied to the device when bound (any GPU provider): changing ones are bound before each run.
    copies_at_binding: bool,
    /// The layers whose maps the forward graph writes to the host.
    host_layers: Vec<Layer>,
    /// The layers whose maps the forward graph leaves on the device (CUDA, Rust losses).
    device_resident: Vec<Layer>,
    /// The host maps with the forward binding; made on the first forward run, released while an evaluation
    /// graph is attached.
    features: Option<Features>,
    /// The tap gradients and the backward binding, where the losses run in Rust.
    host_losses: Option<HostLosses>,
    evaluation: Option<EvaluationBinding>,
}

struct Features {
    relus: Vec<(Layer, Tensor<f32>)>,
    binding: IoBinding,
}

struct HostLosses {
    gradients: Vec<(Layer, Tensor<f32>)>,
    binding: IoBinding,
}

/// The evaluation graph's binding: its constant inputs are bound once, its loss outputs land here.
struct EvaluationBinding {
    binding: IoBinding,
    layout: LossLayout,
    style_loss: Tensor<f32>,
    content_loss: Tensor<f32>,
}

/// The constant inputs of an evaluation graph for one image size, in its layout's order.
pub struct GraphLossInputs<'a> {
    /// The content image's features at the content layer.
    pub content_target: &'a [f32],
    /// alpha.
    pub content_weight: f32,
    /// The per-position content weight at the content layer, where the layout's content term is masked.
    pub content_mask: Option<&'a [f32]>,
    /// Per style term, in the layout's order.
    pub style: Vec<GraphStyleInput<'a>>,
}

/// One style term's constant inputs.
#[derive(Debug, Clone)]
pub struct GraphStyleInput<'a> {
    /// The Gram target (for the mask's mass where masked: a scaled copy of the style's).
    pub target: Vec<f32>,
    /// `weight / (N M)^2`, `M` the mask's mass where masked.
    pub scale: f32,
    /// The mask at the term's layer, where one guides it.
    pub mask: Option<&'a [f32]>,
}

/// A host tensor holding `values` (zeros when `None`).
fn host_tensor(shape: &[usize], values: Option<&[f32]>) -> Result<Tensor<f32>> {
    let mut tensor =
        Tensor::<f32>::new(&Allocator::default(), shape.to_vec()).map_err(ort_context("allocating a host tensor"))?;
    match values {
        Some(values) => tensor.extract_tensor_mut().1.copy_from_slice(values),
        None => tensor.extract_tensor_mut().1.fill(0.0),
    }
    Ok(tensor)
}

fn gpu_memory() -> Result<MemoryInfo<'static>> {
    MemoryInfo::new(AllocationDevice::CUDA, 0, AllocatorType::Device, MemoryType::Default)
        .map_err(ort_context("describing GPU memory"))
}

fn feature_shape(layer: Layer, height: usize, width: usize) -> [usize; 4] {
    let scale = 1 << layer.downsampling();
    [1, layer.channels().1, height / scale, width / scale]
}

impl Pass {
    /// Buffers for `height x width` images. With a `backward` graph the losses run in Rust and the forward
    /// graph keeps every layer's map (`layers`); without one only the `taps` are kept, for the targets.
    pub(super) fn new(
        backward: Option<&Session>,
        layers: &[Layer],
        taps: &[Layer],
        provider: Provider,
        height: usize,
        width: usize,
    ) -> Result<Self> {
        if height < 16 || width < 16 || !height.is_multiple_of(16) || !width.is_multiple_of(16) {
            return Err(EngineError::InvalidArgument(format!(
                "working size {width}x{height}: both sides must be multiples of 16 and at least 16"
            )));
        }
        let device_memory = provider == Provider::Cuda && backward.is_some();
        let (host_layers, device_resident): (Vec<Layer>, Vec<Layer>) = match backward {
            Some(_) => layers.iter().partition(|layer| !device_memory || taps.contains(layer)),
            None => (taps.to_vec(), Vec::new()),
        };
        let image_shape = [1, 3, height, width];
        let mut pass = Pass {
            height,
            width,
            image: host_tensor(&image_shape, None)?,
            image_gradient: host_tensor(&image_shape, None)?,
            copies_at_binding: !matches!(provider, Provider::Cpu | Provider::Auto),
            host_layers,
            device_resident,
            features: None,
            host_losses: None,
            evaluation: None,
        };
        if let Some(backward) = backward {
            pass.host_losses = Some(pass.bind_backward(backward, taps)?);
        }
        Ok(pass)
    }

    fn feature_tensor(&self, layer: Layer) -> Result<Tensor<f32>> {
        host_tensor(&feature_shape(layer, self.height, self.width), None)
    }

    /// The host maps and the forward binding writing them (and the device-resident maps to the device).
    fn bind_forward(&mut self, forward: &Session) -> Result<Features> {
        let mut binding = forward.create_binding().map_err(ort_context("binding the forward graph"))?;
        binding.bind_input(IMAGE_INPUT, &self.image).map_err(ort_context("binding the image"))?;
        let mut relus = Vec::new();
        for &layer in &self.host_layers {
            let mut tensor = self.feature_tensor(layer)?;
            binding.bind_output(layer.relu_name(), &mut tensor).map_err(ort_context("binding a feature map"))?;
            relus.push((layer, tensor));
        }
        if !self.device_resident.is_empty() {
            let device = gpu_memory()?;
            for layer in &self.device_resident {
                binding
                    .bind_output_to_device(layer.relu_name(), &device)
                    .map_err(ort_context("binding a GPU feature map"))?;
            }
        }
        Ok(Features { relus, binding })
    }

    /// The tap gradients and the backward binding reading them with the saved maps (made here).
    fn bind_backward(&mut self, backward: &Session, taps: &[Layer]) -> Result<HostLosses> {
        let mut binding = backward.create_binding().map_err(ort_context("binding the backward graph"))?;
        let gradients =
            taps.iter().map(|&layer| Ok((layer, self.feature_tensor(layer)?))).collect::<Result<Vec<_>>>()?;
        for (layer, tensor) in &gradients {
            binding.bind_input(gradient_input(*layer), tensor).map_err(ort_context("binding a tap gradient"))?;
        }
        binding.bind_output(IMAGE_GRADIENT, &mut self.image_gradient).map_err(ort_context("binding the gradient"))?;
        Ok(HostLosses { gradients, binding })
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Copies `image` (planar RGB in [0, 1], the pass's size) into the image the next run reads.
    pub fn load(&mut self, image: &Planar) -> Result<()> {
        if image.width != self.width() || image.height != self.height() {
            return Err(EngineError::Internal(format!(
                "image is {}x{}, the pass expects {}x{}",
                image.width,
                image.height,
                self.width(),
                self.height()
            )));
        }
        self.image_mut().copy_from_slice(&image.rgb);
        Ok(())
    }

    /// The image the next run reads: planar RGB in [0, 1], `3 * height * width` values.
    pub fn image_mut(&mut self) -> &mut [f32] {
        self.image.extract_tensor_mut().1
    }

    /// The feature map of `layer` from the last forward run.
    pub fn feature(&self, layer: Layer) -> Option<FeatureMap<'_>> {
        let (_, tensor) = self.features.as_ref()?.relus.iter().find(|(l, _)| *l == layer)?;
        Some(feature_map(layer, tensor))
    }

    /// The loss taps' feature maps (read) beside their gradient buffers (written by the losses); empty where
    /// the losses run in the evaluation graph.
    pub fn taps_and_gradients(&mut self) -> (Vec<FeatureMap<'_>>, Vec<&mut [f32]>) {
        let (Some(features), Some(host)) = (&self.features, &mut self.host_losses) else {
            return (Vec::new(), Vec::new());
        };
        let maps = host
            .gradients
            .iter()
            .map(|(layer, _)| {
                let (_, tensor) = features.relus.iter().find(|(l, _)| l == layer).expect("every tap has a map");
                feature_map(*layer, tensor)
            })
            .collect();
        let gradients = host.gradients.iter_mut().map(|(_, tensor)| tensor.extract_tensor_mut().1).collect();
        (maps, gradients)
    }

    /// dL/dimage from the last backward or evaluation run, planar like the image.
    pub fn image_gradient(&self) -> &[f32] {
        self.image_gradient.extract_tensor().1
    }

    /// The forward binding (made on first use), with the image bound again on a GPU.
    pub(super) fn forward_binding(&mut self, forward: &Session) -> Result<&IoBinding> {
        if self.features.is_none() {
            let features = self.bind_forward(forward)?;
            if let Some(host) = &mut self.host_losses {
                for (layer, tensor) in &features.relus {
                    host.binding
                        .bind_input(layer.relu_name(), tensor)
                        .map_err(ort_context("binding a saved feature map"))?;
                }
            }
            self.features = Some(features);
        }
        let features = self.features.as_mut().expect("made above");
        if self.copies_at_binding {
            features.binding.bind_input(IMAGE_INPUT, &self.image).map_err(ort_context("binding the image"))?;
        }
        Ok(&features.binding)
    }

    /// Hands the forward run's device-resident maps to the backward graph, and on a GPU the host ones again
    /// (their copies there are made at binding).
    pub(super) fn take_forward_outputs(&mut self, on_device: Vec<(String, ort::value::DynValue)>) -> Result<()> {
        let (Some(host), Some(features)) = (&mut self.host_losses, &self.features) else { return Ok(()) };
        for (name, value) in on_device {
            host.binding.bind_input(name, &value).map_err(ort_context("passing a GPU feature map"))?;
        }
        if self.copies_at_binding {
            for (layer, tensor) in &features.relus {
                host.binding
                    .bind_input(layer.relu_name(), tensor)
                    .map_err(ort_context("binding a saved feature map"))?;
            }
        }
        Ok(())
    }

    /// The feature maps the forward graph leaves on the device.
    pub(super) fn device_resident(&self) -> &[Layer] {
        &self.device_resident
    }

    /// The backward binding, with the tap gradients bound again on a GPU.
    pub(super) fn backward_binding(&mut self) -> Result<&IoBinding> {
        let host = self
            .host_losses
            .as_mut()
            .ok_or_else(|| EngineError::Internal("this pass runs its losses in a graph".into()))?;
        if self.copies_at_binding {
            for (layer, tensor) in &host.gradients {
                host.binding
                    .bind_input(gradient_input(*layer), tensor)
                    .map_err(ort_context("binding a tap gradient"))?;
            }
        }
        Ok(&host.binding)
    }

    /// The evaluation binding and its layout, with the image bound again on a GPU, when one is attached.
    pub(super) fn evaluation_binding(&mut self) -> Result<Option<(&IoBinding, &LossLayout)>> {
        let Some(evaluation) = &mut self.evaluation else { return Ok(None) };
        if self.copies_at_binding {
            evaluation.binding.bind_input(IMAGE_INPUT, &self.image).map_err(ort_context("binding the image"))?;
        }
        Ok(Some((&evaluation.binding, &evaluation.layout)))
    }

    /// The weighted (style, content) losses of the last evaluation run.
    pub(super) fn evaluation_losses(&self) -> Option<(f64, f64)> {
        let evaluation = self.evaluation.as_ref()?;
        Some((evaluation.style_loss.extract_tensor().1[0] as f64, evaluation.content_loss.extract_tensor().1[0] as f64))
    }

    /// Whether the losses run in an evaluation graph for this pass.
    pub fn has_graph_losses(&self) -> bool {
        self.evaluation.is_some()
    }

    /// Whether this pass was made for losses in a graph (no backward graph, no tap gradients).
    pub fn for_graph_losses(&self) -> bool {
        self.host_losses.is_none()
    }

    /// Binds `session` (an evaluation graph of `layout`) with its constant `inputs`: from now on each
    /// evaluation is one run of it. The loss taps' maps are released until the next forward run.
    pub(super) fn attach_evaluation(
        &mut self,
        session: &Session,
        layout: LossLayout,
        inputs: &GraphLossInputs<'_>,
    ) -> Result<()> {
        let context = || ort_context("binding the evaluation graph");
        let mut binding = session.create_binding().map_err(context())?;
        binding.bind_input(IMAGE_INPUT, &self.image).map_err(context())?;
        let content = layout.content_layer;
        binding
            .bind_input(
                CONTENT_TARGET,
                &host_tensor(&feature_shape(content, self.height, self.width), Some(inputs.content_target))?,
            )
            .map_err(context())?;
        binding.bind_input(CONTENT_WEIGHT, &host_tensor(&[1], Some(&[inputs.content_weight]))?).map_err(context())?;
        let mask_shape = |layer: Layer| {
            let [_, _, h, w] = feature_shape(layer, self.height, self.width);
            [1, 1, h, w]
        };
        if let Some(mask) = inputs.content_mask {
            binding.bind_input(CONTENT_MASK, &host_tensor(&mask_shape(content), Some(mask))?).map_err(context())?;
        }
        for (index, ((layer, _), term)) in layout.style_terms.iter().zip(&inputs.style).enumerate() {
            let channels = layer.channels().1;
            let target = host_tensor(&[channels, channels], Some(&term.target))?;
            binding.bind_input(style_target_input(index), &target).map_err(context())?;
            binding.bind_input(style_scale_input(index), &host_tensor(&[1], Some(&[term.scale]))?).map_err(context())?;
            if let Some(mask) = term.mask {
                let mask = host_tensor(&mask_shape(*layer), Some(mask))?;
                binding.bind_input(style_mask_input(index), &mask).map_err(context())?;
            }
        }
        let mut style_loss = host_tensor(&[1], None)?;
        let mut content_loss = host_tensor(&[1], None)?;
        binding.bind_output(STYLE_LOSS, &mut style_loss).map_err(context())?;
        binding.bind_output(CONTENT_LOSS, &mut content_loss).map_err(context())?;
        binding.bind_output(IMAGE_GRADIENT, &mut self.image_gradient).map_err(context())?;
        // The binding holds its tensors: dropping it is what releases the maps.
        self.features = None;
        self.evaluation = Some(EvaluationBinding { binding, layout, style_loss, content_loss });
        Ok(())
    }

    /// Back to forward runs (for the next image's targets): the evaluation graph's binding is released.
    pub(crate) fn detach_evaluation(&mut self) {
        self.evaluation = None;
    }
}

fn feature_map(layer: Layer, tensor: &Tensor<f32>) -> FeatureMap<'_> {
    let (shape, values) = tensor.extract_tensor();
    let channels = shape[1] as usize;
    FeatureMap { layer, channels, positions: values.len() / channels, values }
}
