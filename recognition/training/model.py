"""The shipped PP-OCRv6 small recogniser as a PyTorch module with a plate's head (needs torch).

onnx2torch converts the ONNX graph once its two ``auto_pad=SAME_UPPER`` nodes (kernel 2,
stride 1) have explicit pads; its outputs then agree with onnxruntime within ~2.5e-6. The
weights the graph keeps as ONNX initializers (the attention blocks' matrices, the head) are
made trainable parameters, the head is cut from 18,710 classes to :data:`ALPHABET`'s 37
(its rows for blank, digits and capitals kept) and the final softmax is left to the caller.
"""

import sys
import types
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper

from ..platemodel import ALPHABET, HEIGHT, WIDTH


def _without_torchvision():
    """onnx2torch imports torchvision for two converters this graph does not use (NMS, RoiAlign);
    no torchvision on the registry matches the CPU build of torch, so stand-ins are enough."""
    if "torchvision" in sys.modules:
        return
    vision, ops = types.ModuleType("torchvision"), types.ModuleType("torchvision.ops")
    vision.__path__, ops.roi_align, ops.nms, vision.ops = [], None, None, ops
    sys.modules.update({"torchvision": vision, "torchvision.ops": ops})


def load_onnx(path):
    model = onnx.load(str(path))
    for node in model.graph.node:
        for attribute in list(node.attribute):
            if attribute.name == "auto_pad" and attribute.s == b"SAME_UPPER":
                node.attribute.remove(attribute)
                node.attribute.append(helper.make_attribute("pads", [0, 0, 1, 1]))
    characters = model.metadata_props[0].value.split("\n") if model.metadata_props else []
    return model, characters


def plate_network(path):
    """(module returning logits (batch, steps, 37), the generic characters list)."""
    _without_torchvision()
    import onnx2torch
    model, characters = load_onnx(path)
    net = onnx2torch.convert(model)
    graph = net.graph
    softmax = next(n for n in reversed(graph.nodes) if n.op == "call_module" and "Softmax" in str(n.target))
    output = next(n for n in graph.nodes if n.op == "output")
    logits = softmax.args[0]
    output.args = (logits,)
    graph.erase_node(softmax)
    add = logits.args[0] if "Identity" in str(logits.target) else logits
    matmul = add.args[0]
    weight_name, bias_name = matmul.args[1].target, add.args[1].target
    # Class i of RapidOCR's list is character i - 1 (0 is the blank).
    where = {c: i + 1 for i, c in enumerate(characters)}
    keep = [0] + [where[c] for c in ALPHABET]
    initializers = net.initializers
    for name, buffer in list(initializers.named_buffers(recurse=False)):
        key = name
        value = buffer.detach().clone()
        if f"initializers.{key}" == weight_name:
            value = value[:, keep]
        elif f"initializers.{key}" == bias_name:
            value = value[keep]
        if value.is_floating_point() and value.numel() > 1:
            delattr(initializers, key)
            initializers.register_parameter(key, torch.nn.Parameter(value))
    graph.lint()
    net.recompile()
    return net, characters


def freeze_batchnorm(net):
    """Keep the pretrained statistics of the few BatchNorm layers (small, mixed batches)."""
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eval()


class WithSoftmax(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=-1)


def export(net, path):
    """The network with its softmax as ONNX (input ``x``: batch x 3 x HEIGHT x WIDTH)."""
    net.eval()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, 3, HEIGHT, WIDTH)
    torch.onnx.export(WithSoftmax(net), (example,), str(path), input_names=["x"], output_names=["probs"],
                      dynamic_axes={"x": {0: "batch"}, "probs": {0: "batch"}}, opset_version=17, dynamo=False)
    return path


def check_export(net, path, atol=1e-4):
    """The exported file computes what the module computes (onnxruntime)."""
    import onnxruntime
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, HEIGHT, WIDTH)).astype(np.float32)
    with torch.no_grad():
        ours = torch.softmax(net.eval()(torch.from_numpy(x)), -1).numpy()
    theirs = onnxruntime.InferenceSession(str(path)).run(None, {"x": x})[0]
    return float(np.abs(ours - theirs).max()) <= atol
