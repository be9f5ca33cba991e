//! Buffers of one image size, allocated once and bound to the sessions.
//!
//! The forward graph writes every ReLU output into a tensor that the backward graph then reads in place: no copy
//! between the two passes, and nothing image-sized is allocated per evaluation.
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
/// On CUDA, the feature maps no loss reads stay on the device: the forward graph writes them to device
/// memory and the backward graph reads them there; only the loss taps cross to the host. With graph losses
/// attached ([`Pass::attach_graph_losses`]) the taps stay there too.
pub struct Pass {
    height: usize,
    width: usize,
    image: Tensor<f32>,
    relus: Vec<(Layer, Tensor<f32>)>,
    gradients: Vec<(Layer, Tensor<f32>)>,
    image_gradient: Tensor<f32>,
    /// Inputs are copied to the device when bound (any GPU provider): changing ones are bound before each run.
    copies_at_binding: bool,
    /// Feature maps can be left in device memory between graphs (CUDA).
    device_memory: bool,
    device_resident: Vec<Layer>,
    forward_binding: IoBinding,
    backward_binding: IoBinding,
    graph_losses: Option<GraphLossBinding>,
}

/// The loss-and-backward graph's binding: its constant inputs are bound once, its loss outputs land here.
struct GraphLossBinding {
    binding: IoBinding,
    layout: LossLayout,
    style_loss: Tensor<f32>,
    content_loss: Tensor<f32>,
}

/// The constant inputs of a loss-and-backward graph for one image size, in its layout's order.
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
#[derive(Debug, Clone, Copy)]
pub struct GraphStyleInput<'a> {
    /// The Gram target (for the mask's mass where masked).
    pub target: &'a [f32],
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
    pub(super) fn new(
        forward: &Session,
        backward: &Session,
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
        let context = ort_context("allocating feature buffers");
        let new_tensor = |shape: [usize; 4]| host_tensor(&shape, None);
        let image = new_tensor([1, 3, height, width])?;
        let image_gradient = new_tensor([1, 3, height, width])?;
        let device_memory = provider == Provider::Cuda;
        let (host_layers, device_resident): (Vec<Layer>, Vec<Layer>) =
            layers.iter().partition(|layer| !device_memory || taps.contains(layer));
        let relus = host_layers
            .iter()
            .map(|&layer| Ok((layer, new_tensor(feature_shape(layer, height, width))?)))
            .collect::<Result<Vec<_>>>()?;
        let gradients = taps
            .iter()
            .map(|&layer| Ok((layer, new_tensor(feature_shape(layer, height, width))?)))
            .collect::<Result<Vec<_>>>()?;

        let mut pass = Pass {
            height,
            width,
            image,
            relus,
            gradients,
            image_gradient,
            copies_at_binding: !matches!(provider, Provider::Cpu | Provider::Auto),
            device_memory,
            device_resident,
            forward_binding: forward.create_binding().map_err(ort_context("binding the forward graph"))?,
            backward_binding: backward.create_binding().map_err(ort_context("binding the backward graph"))?,
            graph_losses: None,
        };
        let fb = &mut pass.forward_binding;
        fb.bind_input(IMAGE_INPUT, &pass.image).map_err(ort_context("binding the image"))?;
        for (layer, tensor) in &mut pass.relus {
            fb.bind_output(layer.relu_name(), &mut *tensor).map_err(ort_context("binding a feature map"))?;
        }
        if !pass.device_resident.is_empty() {
            let device = gpu_memory()?;
            for layer in &pass.device_resident {
                fb.bind_output_to_device(layer.relu_name(), &device)
                    .map_err(ort_context("binding a GPU feature map"))?;
            }
        }
        let bb = &mut pass.backward_binding;
        for (layer, tensor) in &pass.relus {
            bb.bind_input(layer.relu_name(), tensor).map_err(ort_context("binding a saved feature map"))?;
        }
        for (layer, tensor) in &pass.gradients {
            bb.bind_input(gradient_input(*layer), tensor).map_err(ort_context("binding a tap gradient"))?;
        }
        bb.bind_output(IMAGE_GRADIENT, &mut pass.image_gradient).map_err(context)?;
        Ok(pass)
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The image the next forward run reads: planar RGB in [0, 1], `3 * height * width` values.
    pub fn image_mut(&mut self) -> &mut [f32] {
        self.image.extract_tensor_mut().1
    }

    /// The feature map of `layer` from the last forward run.
    pub fn feature(&self, layer: Layer) -> Option<FeatureMap<'_>> {
        let (_, tensor) = self.relus.iter().find(|(l, _)| *l == layer)?;
        Some(feature_map(layer, tensor))
    }

    /// The loss taps' feature maps (read) beside their gradient buffers (written by the losses).
    pub fn taps_and_gradients(&mut self) -> (Vec<FeatureMap<'_>>, Vec<&mut [f32]>) {
        let features = self
            .gradients
            .iter()
            .map(|(layer, _)| {
                let (_, tensor) = self.relus.iter().find(|(l, _)| l == layer).expect("every tap has a feature map");
                feature_map(*layer, tensor)
            })
            .collect();
        let gradients = self.gradients.iter_mut().map(|(_, tensor)| tensor.extract_tensor_mut().1).collect();
        (features, gradients)
    }

    /// dL/dimage from the last backward run, planar like the image.
    pub fn image_gradient(&self) -> &[f32] {
        self.image_gradient.extract_tensor().1
    }

    /// The forward binding, with the image bound again on a GPU (its copy there is made at binding).
    pub(super) fn forward_binding(&mut self) -> Result<&IoBinding> {
        if self.copies_at_binding {
            self.forward_binding.bind_input(IMAGE_INPUT, &self.image).map_err(ort_context("binding the image"))?;
        }
        Ok(&self.forward_binding)
    }

    /// Hands the forward run's outputs to the graph that runs next: device-resident maps by value, and on a GPU
    /// the host ones again (their copies there are made at binding).
    pub(super) fn take_forward_outputs(&mut self, on_device: Vec<(String, ort::value::DynValue)>) -> Result<()> {
        let next = match &mut self.graph_losses {
            Some(losses) => &mut losses.binding,
            None => &mut self.backward_binding,
        };
        for (name, value) in on_device {
            next.bind_input(name, &value).map_err(ort_context("passing a GPU feature map"))?;
        }
        if self.copies_at_binding {
            for (layer, tensor) in self.relus.iter().filter(|(l, _)| !self.device_resident.contains(l)) {
                next.bind_input(layer.relu_name(), tensor).map_err(ort_context("binding a saved feature map"))?;
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
        if self.copies_at_binding {
            for (layer, tensor) in &self.gradients {
                self.backward_binding
                    .bind_input(gradient_input(*layer), tensor)
                    .map_err(ort_context("binding a tap gradient"))?;
            }
        }
        Ok(&self.backward_binding)
    }

    /// The loss-and-backward binding and its layout, when graph losses are attached.
    pub(super) fn graph_loss_binding(&self) -> Option<(&IoBinding, &LossLayout)> {
        self.graph_losses.as_ref().map(|losses| (&losses.binding, &losses.layout))
    }

    /// The weighted (style, content) losses of the last loss-and-backward run.
    pub(super) fn graph_loss_values(&self) -> Option<(f64, f64)> {
        let losses = self.graph_losses.as_ref()?;
        Some((losses.style_loss.extract_tensor().1[0] as f64, losses.content_loss.extract_tensor().1[0] as f64))
    }

    /// Whether losses run in the loss-and-backward graph for this pass.
    pub fn has_graph_losses(&self) -> bool {
        self.graph_losses.is_some()
    }

    /// Binds `session` (a loss-and-backward graph of `layout`) with its constant `inputs`: from now on each
    /// evaluation runs the forward graph and that one, and on CUDA the taps stay on the device.
    pub(super) fn attach_graph_losses(
        &mut self,
        session: &Session,
        layout: LossLayout,
        inputs: &GraphLossInputs<'_>,
    ) -> Result<()> {
        let context = || ort_context("binding the loss graph");
        let mut binding = session.create_binding().map_err(context())?;
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
            let target = host_tensor(&[channels, channels], Some(term.target))?;
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
        if self.device_memory {
            let device = gpu_memory()?;
            for (layer, _) in &self.relus {
                self.forward_binding.bind_output_to_device(layer.relu_name(), &device).map_err(context())?;
                self.device_resident.push(*layer);
            }
        } else {
            for (layer, tensor) in &self.relus {
                binding.bind_input(layer.relu_name(), tensor).map_err(context())?;
            }
        }
        self.graph_losses = Some(GraphLossBinding { binding, layout, style_loss, content_loss });
        Ok(())
    }

    /// Back to host losses: the taps are written to host memory again (for the next image's targets).
    pub(crate) fn detach_graph_losses(&mut self) -> Result<()> {
        if self.graph_losses.take().is_some() && self.device_memory {
            for (layer, tensor) in &mut self.relus {
                self.forward_binding
                    .bind_output(layer.relu_name(), &mut *tensor)
                    .map_err(ort_context("binding a feature map"))?;
                self.device_resident.retain(|l| l != layer);
            }
        }
        Ok(())
    }
}

fn feature_map(layer: Layer, tensor: &Tensor<f32>) -> FeatureMap<'_> {
    let (shape, values) = tensor.extract_tensor();
    let channels = shape[1] as usize;
    FeatureMap { layer, channels, positions: values.len() / channels, values }
}
