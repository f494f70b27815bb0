#!/usr/bin/env python3
"""Convert a torchvision or timm EfficientNet state dict into a Keras-layout HDF5 weight file.

The output is what Keras' save_weights writes (root `layer_names`, one group per
layer with `weight_names`, datasets at /<layer>/<layer>/<weight>:0, HWIO conv
kernels, (kh, kw, C, 1) depthwise kernels, (in, out) dense kernels), plus the
root attributes ecgtrain reads to match the PyTorch numerics:
  ecg_bn_epsilon  1e-5 for torchvision / timm `efficientnet_bX`, 1e-3 for timm `tf_efficientnet_bX`
  ecg_padding     "symmetric" (PyTorch) or "same" (TF-style, timm tf_ variants)
  ecg_arch        "b0" .. "b7"

Usage:
  torch2h5.py efficientnet_b0_rwightman-3dd342df.pth efficientnet_b0_torch.h5
  torch2h5.py tf_efficientnet_b0.pth out.h5 --variant timm_tf
  torch2h5.py --torchvision-random 7 out.h5 [--num-classes 10]   (a seeded random model, for tests)

Needs numpy and h5py; torch to read .pth files (and torchvision for --torchvision-random).
"""
import argparse
import re
import sys

import numpy as np

# EfficientNet B0..B7: (number of MBConv blocks, top_conv width); B5-B7 torchvision use eps 1e-3.
ARCHS = {
    "b0": (16, 1280), "b1": (23, 1280), "b2": (23, 1408), "b3": (26, 1536),
    "b4": (32, 1792), "b5": (39, 2048), "b6": (45, 2304), "b7": (55, 2560),
}

BN_NAMES = (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
            ("running_var", "moving_variance"))


def detect_flavour(sd):
    if "conv_stem.weight" in sd:
        return "timm"
    if "features.0.0.weight" in sd:
        return "torchvision"
    raise SystemExit("torch2h5: neither a torchvision (features.0.0.weight) nor a timm "
                     "(conv_stem.weight) EfficientNet state dict")


def block_name(stage, index):
    """Keras block name: stage 1..7, index 0.. -> 'block1a', 'block2b', ..."""
    return "block%d%s" % (stage, chr(ord("a") + index))


def module_map(sd, flavour):
    """[(keras layer, torch prefix, kind)] in Keras model order; kind is conv, dw, bn, se or dense."""
    out = []
    if flavour == "torchvision":
        out += [("stem_conv", "features.0.0", "conv"), ("stem_bn", "features.0.1", "bn")]
        stages = sorted({int(m.group(1)) for k in sd for m in [re.match(r"features\.(\d+)\.\d+\.block\.", k)] if m})
        for s in stages:
            blocks = sorted({int(m.group(1)) for k in sd
                             for m in [re.match(r"features\.%d\.(\d+)\.block\." % s, k)] if m})
            for j in blocks:
                p = "features.%d.%d.block" % (s, j)
                b = block_name(s, j)
                if p + ".3.0.weight" in sd:  # expansion present
                    out += [(b + "_expand_conv", p + ".0.0", "conv"), (b + "_expand_bn", p + ".0.1", "bn")]
                    dw, se, pr = 1, 2, 3
                else:
                    dw, se, pr = 0, 1, 2
                out += [(b + "_dwconv", "%s.%d.0" % (p, dw), "dw"), (b + "_bn", "%s.%d.1" % (p, dw), "bn"),
                        (b + "_se_reduce", "%s.%d.fc1" % (p, se), "se"),
                        (b + "_se_expand", "%s.%d.fc2" % (p, se), "se"),
                        (b + "_project_conv", "%s.%d.0" % (p, pr), "conv"),
                        (b + "_project_bn", "%s.%d.1" % (p, pr), "bn")]
        top = max(stages) + 1
        out += [("top_conv", "features.%d.0" % top, "conv"), ("top_bn", "features.%d.1" % top, "bn")]
        if "classifier.1.weight" in sd:
            out.append(("predictions", "classifier.1", "dense"))
    else:
        out += [("stem_conv", "conv_stem", "conv"), ("stem_bn", "bn1", "bn")]
        stages = sorted({int(m.group(1)) for k in sd for m in [re.match(r"blocks\.(\d+)\.", k)] if m})
        for s in stages:
            blocks = sorted({int(m.group(1)) for k in sd for m in [re.match(r"blocks\.%d\.(\d+)\." % s, k)] if m})
            for j in blocks:
                p = "blocks.%d.%d" % (s, j)
                b = block_name(s + 1, j)
                if p + ".conv_pwl.weight" in sd:  # InvertedResidual
                    out += [(b + "_expand_conv", p + ".conv_pw", "conv"), (b + "_expand_bn", p + ".bn1", "bn"),
                            (b + "_dwconv", p + ".conv_dw", "dw"), (b + "_bn", p + ".bn2", "bn"),
                            (b + "_se_reduce", p + ".se.conv_reduce", "se"),
                            (b + "_se_expand", p + ".se.conv_expand", "se"),
                            (b + "_project_conv", p + ".conv_pwl", "conv"), (b + "_project_bn", p + ".bn3", "bn")]
                else:  # DepthwiseSeparableConv
                    out += [(b + "_dwconv", p + ".conv_dw", "dw"), (b + "_bn", p + ".bn1", "bn"),
                            (b + "_se_reduce", p + ".se.conv_reduce", "se"),
                            (b + "_se_expand", p + ".se.conv_expand", "se"),
                            (b + "_project_conv", p + ".conv_pw", "conv"), (b + "_project_bn", p + ".bn2", "bn")]
        out += [("top_conv", "conv_head", "conv"), ("top_bn", "bn2", "bn")]
        if "classifier.weight" in sd:
            out.append(("predictions", "classifier", "dense"))
    return out


def convert(sd, flavour):
    """State dict (name -> numpy array) -> [(layer, [(weight short name, float32 array)])] in Keras order."""
    layers = []
    used = set()

    def take(key):
        if key not in sd:
            raise SystemExit("torch2h5: state dict has no '%s'" % key)
        used.add(key)
        return np.asarray(sd[key], dtype=np.float32)

    for layer, prefix, kind in module_map(sd, flavour):
        if kind == "conv":
            ws = [("kernel", take(prefix + ".weight").transpose(2, 3, 1, 0))]  # (O,I,kh,kw) -> HWIO
        elif kind == "dw":
            ws = [("depthwise_kernel", take(prefix + ".weight").transpose(2, 3, 0, 1))]  # (C,1,kh,kw) -> (kh,kw,C,1)
        elif kind == "se":
            ws = [("kernel", take(prefix + ".weight").transpose(2, 3, 1, 0)), ("bias", take(prefix + ".bias"))]
        elif kind == "dense":
            ws = [("kernel", take(prefix + ".weight").T), ("bias", take(prefix + ".bias"))]  # (out,in) -> (in,out)
        else:
            ws = [(kname, take(prefix + "." + tname)) for tname, kname in BN_NAMES]
            used.add(prefix + ".num_batches_tracked")
        layers.append((layer, [(n, np.ascontiguousarray(a)) for n, a in ws]))
    left = sorted(k for k in sd if k not in used and not k.endswith("num_batches_tracked"))
    if left:
        raise SystemExit("torch2h5: %d state-dict entries not mapped, e.g. %s" % (len(left), ", ".join(left[:5])))
    return layers


def infer_arch(layers):
    blocks = len({l.split("_")[0] for l, _ in layers if re.match(r"block\d+[a-z]_", l)})
    top = dict(layers)["top_conv"][0][1].shape[3]
    for name, (nb, nt) in ARCHS.items():
        if (nb, nt) == (blocks, top):
            return name
    raise SystemExit("torch2h5: %d blocks and a %d-channel head match no EfficientNet B0-B7" % (blocks, top))


def write_h5(path, layers, attrs, compression=None):
    """Writes layers the way Keras 2 save_weights does (fixed-length string attributes).
    With compression (fixtures), each dataset is one gzip chunk in the newest file format."""
    import h5py
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    if compression:
        fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)  # identical input, identical bytes
    with h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)) as f:
        f.attrs["layer_names"] = np.array([l.encode("utf8") for l, _ in layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.13.1"
        for key, value in attrs.items():
            f.attrs[key] = value
        for layer, ws in layers:
            gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
            gcpl.set_obj_track_times(False)  # identical input, identical bytes
            g = h5py.Group(h5py.h5g.create(f.id, layer.encode(), gcpl=gcpl))
            names = ["%s/%s:0" % (layer, n) for n, _ in ws]
            g.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])
            sub = h5py.Group(h5py.h5g.create(g.id, layer.encode(), gcpl=gcpl))  # /<layer>/<layer>/
            for (wname, a) in ws:
                leaf = wname + ":0"
                if compression and a.ndim > 0:
                    sub.create_dataset(leaf, data=a, chunks=a.shape, compression=compression,
                                       compression_opts=9, shuffle=True, track_times=False)
                else:
                    sub.create_dataset(leaf, data=a, track_times=False)


def file_attrs(arch, variant):
    tf_style = variant == "timm_tf"
    eps = 1e-3 if tf_style or (variant == "torchvision" and arch in ("b5", "b6", "b7")) else 1e-5
    return {"ecg_bn_epsilon": np.float64(eps), "ecg_padding": np.bytes_(b"same" if tf_style else b"symmetric"),
            "ecg_arch": np.bytes_(arch.encode())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", nargs="?", help="state dict (.pth/.pt) or checkpoint holding one under 'state_dict'/'model'")
    ap.add_argument("output", help="HDF5 file to write")
    ap.add_argument("--variant", choices=("auto", "torchvision", "timm", "timm_tf"), default="auto",
                    help="timm_tf for tf_efficientnet_bX weights (eps 1e-3, TF 'same' padding)")
    ap.add_argument("--torchvision-random", type=int, metavar="SEED",
                    help="convert torchvision's efficientnet_b0 with random weights from SEED (tests)")
    ap.add_argument("--num-classes", type=int, default=1000, help="head size with --torchvision-random")
    ap.add_argument("--no-head", action="store_true", help="leave out the predictions layer (notop)")
    args = ap.parse_args(argv)

    import torch
    if args.torchvision_random is not None:
        import torchvision
        torch.manual_seed(args.torchvision_random)
        sd = torchvision.models.efficientnet_b0(num_classes=args.num_classes).state_dict()
    elif args.input:
        sd = torch.load(args.input, map_location="cpu")
        for key in ("state_dict", "model", "state_dict_ema"):
            if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
                sd = sd[key]
                break
        sd = {k[7:] if k.startswith("module.") else k: v for k, v in sd.items()}
    else:
        ap.error("give an input state dict or --torchvision-random SEED")
    sd = {k: v.detach().cpu().numpy() for k, v in sd.items()}
    flavour = detect_flavour(sd)
    variant = args.variant if args.variant != "auto" else flavour
    if variant == "torchvision" and flavour != "torchvision":
        variant = "timm"
    layers = convert(sd, flavour)
    if args.no_head:
        layers = [(l, w) for l, w in layers if l != "predictions"]
    arch = infer_arch(layers)
    write_h5(args.output, layers, file_attrs(arch, variant))
    n = sum(a.size for _, ws in layers for _, a in ws)
    print("%s: EfficientNet-%s (%s), %d layers, %d values" % (args.output, arch.upper(), variant, len(layers), n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
