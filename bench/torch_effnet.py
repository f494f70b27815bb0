#!/usr/bin/python3
"""The PyTorch side of the EfficientNet benchmark: the same workload as bench_effnet.

Runs torchvision's efficientnet_b0..b7 in channels-last memory format with a fixed
thread count, timing whole steps after warm-up: `train` is forward, cross-entropy
loss, backward and an SGD-momentum update; `infer` is a forward pass under
torch.inference_mode in eval mode. Prints one `step_s=` line per timed step, the
peak resident memory, the median step in milliseconds and last `images_per_s=<median>`.
"""
import argparse
import resource
import statistics
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--arch", default="b0")
    ap.add_argument("--res", type=int, default=None, help="square input: sets --height and --width")
    ap.add_argument("--height", type=int, default=224)
    ap.add_argument("--width", type=int, default=224)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--channels", "--in-channels", dest="in_channels", type=int, default=3)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--mode", choices=["train", "infer"], default="train")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    a = ap.parse_args()
    if a.res is not None:
        a.height = a.width = a.res

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, "efficientnet_" + a.arch)(num_classes=a.classes)
    if a.in_channels != 3:
        old = model.features[0][0]
        model.features[0][0] = torch.nn.Conv2d(a.in_channels, old.out_channels, old.kernel_size,
                                               old.stride, old.padding, bias=False)
    model = model.to(memory_format=torch.channels_last)
    x = torch.randn(a.batch, a.in_channels, a.height, a.width).to(memory_format=torch.channels_last)
    y = torch.randint(0, a.classes, (a.batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        if a.mode == "train":
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        else:
            with torch.inference_mode():
                model(x)

    model.train(a.mode == "train")
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        step()
        dt = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(dt)
            print(f"step_s={dt:.4f}", flush=True)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak_rss_mib={peak_mib:.1f}")
    print(f"step_ms={statistics.median(times) * 1e3:.3f}")
    print(f"images_per_s={a.batch / statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
