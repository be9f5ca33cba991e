"""Exports torchvision's pretrained VGG19 feature stack to ONNX, for `nst --model vgg19_features.onnx`.

Needs torch and torchvision (pip install torch torchvision); the weights are downloaded by torchvision
on first use. The output holds `vgg19().features` only (the classifier is not needed for style transfer);
its input is RGB in [0, 1] normalised with the ImageNet mean and std, which nst applies itself.

usage: python3 onnx/export_vgg19.py [OUT.onnx] [--opset 17]
"""
import argparse

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="vgg19_features.onnx")
    parser.add_argument("--opset", type=int, default=17, choices=range(17, 21))
    args = parser.parse_args()
    weights = torchvision.models.VGG19_Weights.IMAGENET1K_V1
    features = torchvision.models.vgg19(weights=weights).features.eval()
    example = torch.rand(1, 3, 224, 224)
    torch.onnx.export(
        features,
        (example,),
        args.out,
        input_names=["image"],
        output_names=["features"],
        opset_version=args.opset,
        dynamic_axes={"image": {2: "height", 3: "width"}, "features": {2: "h", 3: "w"}},
    )
    print(f"wrote {args.out}: pretrained VGG19 features ({weights}); use it with: nst stylize ... --model {args.out}")


if __name__ == "__main__":
    main()
