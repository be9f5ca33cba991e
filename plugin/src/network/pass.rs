//! Buffers of one image size, allocated once and bound to both sessions.
//!
//! The forward graph writes every ReLU output into a tensor that the backward graph then reads in place: no copy
//! between the two passes, and nothing image-sized is allocated per evaluation.

use nst_onnx::Layer;
use nst_onnx::backward::{IMAGE_GRADIENT, gradient_input};
use nst_onnx::forward::IMAGE_INPUT;
use ort::memory::{AllocationDevice, Allocator, AllocatorType, MemoryInfo, MemoryType};
use ort::session::{IoBinding, Session};
use ort::value::Tensor;

use crate::error::{EngineError, Result, ort_context};

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
/// On a GPU provider, the feature maps no loss reads stay on the device: the forward graph writes them to device
/// memory and the backward graph reads them there; only the loss taps cross to the host.
pub struct Pass {
    height: usize,
    width: usize,
    image: Tensor<f32>,
    relus: Vec<(Layer, Tensor<f32>)>,
    gradients: Vec<(Layer, Tensor<f32>)>,
    image_gradient: Tensor<f32>,
    device_resident: Vec<Layer>,
    forward_binding: IoBinding,
    backward_binding: IoBinding,
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
        on_gpu: bool,
        height: usize,
        width: usize,
    ) -> Result<Self> {
        if height < 16 || width < 16 || !height.is_multiple_of(16) || !width.is_multiple_of(16) {
            return Err(EngineError::InvalidArgument(format!(
                "working size {width}x{height}: both sides must be multiples of 16 and at least 16"
            )));
        }
        let context = ort_context("allocating feature buffers");
        let allocator = Allocator::default();
        let new_tensor = |shape: [usize; 4]| -> Result<Tensor<f32>> {
            let mut tensor =
                Tensor::<f32>::new(&allocator, shape).map_err(ort_context("allocating feature buffers"))?;
            tensor.extract_tensor_mut().1.fill(0.0);
            Ok(tensor)
        };
        let image = new_tensor([1, 3, height, width])?;
        let image_gradient = new_tensor([1, 3, height, width])?;
        let (host_layers, device_resident): (Vec<Layer>, Vec<Layer>) =
            layers.iter().partition(|layer| !on_gpu || taps.contains(layer));
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
            device_resident,
            forward_binding: forward.create_binding().map_err(ort_context("binding the forward graph"))?,
            backward_binding: backward.create_binding().map_err(ort_context("binding the backward graph"))?,
        };
        let fb = &mut pass.forward_binding;
        fb.bind_input(IMAGE_INPUT, &pass.image).map_err(ort_context("binding the image"))?;
        for (layer, tensor) in &mut pass.relus {
            fb.bind_output(layer.relu_name(), &mut *tensor).map_err(ort_context("binding a feature map"))?;
        }
        if !pass.device_resident.is_empty() {
            let device = MemoryInfo::new(AllocationDevice::CUDA, 0, AllocatorType::Device, MemoryType::Default)
                .map_err(ort_context("describing GPU memory"))?;
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

    pub(super) fn forward_binding(&self) -> &IoBinding {
        &self.forward_binding
    }

    pub(super) fn backward_binding(&self) -> &IoBinding {
        &self.backward_binding
    }

    pub(super) fn backward_binding_mut(&mut self) -> &mut IoBinding {
        &mut self.backward_binding
    }

    pub(super) fn device_resident(&self) -> &[Layer] {
        &self.device_resident
    }
}

fn feature_map(layer: Layer, tensor: &Tensor<f32>) -> FeatureMap<'_> {
    let (shape, values) = tensor.extract_tensor();
    let channels = shape[1] as usize;
    FeatureMap { layer, channels, positions: values.len() / channels, values }
}
