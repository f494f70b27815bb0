#!/usr/bin/python3
"""The server a Python user would write for ecgserve's job, the other side of bench/serve/run.sh.

FastAPI + uvicorn + PyTorch, all from Debian. POST /v1/classify takes a CinC 2017 record as
multipart parts named `file` (.hea + .mat) and answers with the class and the probability of each
class, as ecgserve does. Preprocessing follows the shipped model's configuration
(configs/cinc2017.yaml) step by step with scipy: gain and baseline from the header,
zero-phase Butterworth band-pass 0.5-40 Hz (order 3), z-score, 30 s windows covering the whole
record at most 15 s apart (a shorter record centred and tiled), Hann spectrogram 0.25 s / 0.04 s,
0-50 Hz, dB with a 1e-10 floor, bilinear resize to 64 x 256 (half-pixel centres), highest
frequency in row 0, per-image z-score. The model is
torchvision's efficientnet_b0 with a one-channel stem and four classes, the shipped model's
architecture and input size (its weights are not loaded: the speed does not depend on them).
One process; requests run on uvicorn's thread pool, one forward pass per request.

    /usr/bin/python3 bench/serve/fastapi_server.py --port 8090 [--threads 2]
"""
import argparse
import io
import resource

import numpy as np
import scipy.io
import scipy.signal
import torch
import torch.nn.functional as F
import torchvision
import uvicorn
from fastapi import FastAPI, File, HTTPException, UploadFile

CLASSES = ["AF", "NSR", "Noise", "Other"]
FS = 300
WINDOW = 30 * FS
HOP = 15 * FS
HEIGHT, WIDTH = 64, 256


def read_record(hea: bytes, mat: bytes) -> np.ndarray:
    """The first signal of a CinC record in mV: (raw - baseline) / gain from the header."""
    fields = hea.decode("ascii").splitlines()[1].split()
    gain_field = fields[2].split("(")  # e.g. "1000/mV" or "1000(0)/mV"
    gain = float(gain_field[0].split("/")[0])
    baseline = float(gain_field[1].split(")")[0]) if len(gain_field) > 1 else 0.0
    raw = scipy.io.loadmat(io.BytesIO(mat))["val"][0].astype(np.float64)
    return (raw - baseline) / gain


def starts(n: int) -> list:
    """Where the windows of an n-sample record start, as ecgtrain's evaluation places them (data/window.c)."""
    if n < WINDOW:
        return [-((WINDOW - n) // 2)]
    count = min(1 + (n - WINDOW + HOP - 1) // HOP, n - WINDOW + 1)
    if count == 1:
        return [(n - WINDOW) // 2]
    return [int(np.floor(k * (n - WINDOW) / (count - 1) + 0.5)) for k in range(count)]


def preprocess(mv: np.ndarray) -> torch.Tensor:
    """The record's 30 s windows as a (N, 1, 64, 256) batch of spectrogram images."""
    sos = scipy.signal.butter(3, [0.5, 40], btype="bandpass", fs=FS, output="sos")
    x = scipy.signal.sosfiltfilt(sos, mv)
    x = (x - x.mean()) / (x.std() + 1e-8)
    windows = [x[np.arange(s, s + WINDOW) % len(x)] for s in starts(len(x))]  # tiled beyond the record
    images = []
    for w in windows:
        f, _, p = scipy.signal.spectrogram(w, FS, window="hann", nperseg=75, noverlap=75 - 12, nfft=75,
                                           detrend=False, scaling="density", mode="psd")
        p = p[(f >= 0) & (f <= 50)]
        db = 10 * np.log10(np.maximum(p, 1e-10))
        img = F.interpolate(torch.from_numpy(db[::-1].copy()).float()[None, None], size=(HEIGHT, WIDTH),
                            mode="bilinear", align_corners=False)[0, 0]
        images.append((img - img.mean()) / (img.std(unbiased=False) + 1e-8))
    return torch.stack(images)[:, None]


def make_model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torchvision.models.efficientnet_b0(num_classes=len(CLASSES))
    stem = model.features[0][0]
    model.features[0][0] = torch.nn.Conv2d(1, stem.out_channels, stem.kernel_size, stem.stride, stem.padding,
                                           bias=False)
    return model.eval()


app = FastAPI(title="ECG rhythm classifier")
model = make_model()


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/rss")
def rss():
    """Resident memory now and at its peak, in MiB (for the benchmark's table)."""
    with open("/proc/self/status") as f:
        kv = dict(line.split(":", 1) for line in f)
    return {"rss_mib": int(kv["VmRSS"].split()[0]) / 1024, "peak_mib": int(kv["VmHWM"].split()[0]) / 1024,
            "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


@app.post("/v1/classify")
def classify(file: list[UploadFile] = File(...)):
    parts = {u.filename.rsplit(".", 1)[-1].lower(): u.file.read() for u in file}
    if "hea" not in parts or "mat" not in parts:
        raise HTTPException(400, "expected a .hea and a .mat part named file")
    name = file[0].filename.rsplit(".", 1)[0]
    try:
        mv = read_record(parts["hea"], parts["mat"])
    except (ValueError, IndexError, KeyError) as e:
        raise HTTPException(400, f"{name}: {e}")
    with torch.inference_mode():
        probs = torch.softmax(model(preprocess(mv)), dim=1).mean(0).tolist()
    best = max(range(len(CLASSES)), key=lambda k: probs[k])
    return {"records": [{"record": name, "class": CLASSES[best],
                         "probabilities": {c: round(p, 6) for c, p in zip(CLASSES, probs)}}]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8090)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    uvicorn.run(app, host=a.host, port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
