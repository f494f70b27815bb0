#!/usr/bin/python3
"""Reads a model file written by ecgexport with h5py, as a Keras user would: weights and /ecg_model metadata.

usage: check_model_file.py MODEL.h5 TEMPERATURE
Exit 0 when everything reads back, 1 with a message otherwise, 77 when h5py is not installed.
"""
import json
import sys

try:
    import h5py
except ImportError:
    print("h5py is not installed: the model file was not read with h5py (apt-get install python3-h5py)")
    sys.exit(77)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main(path, temperature):
    with h5py.File(path, "r") as f:
        layers = [text(n) for n in f.attrs["layer_names"]]
        assert "predictions" in layers and "stem_conv" in layers, layers[:5]
        names = [text(n) for n in f["predictions"].attrs["weight_names"]]
        kernel = f["predictions"][names[0]][()]
        assert kernel.ndim == 2, kernel.shape
        meta = f["ecg_model"]
        assert int(meta.attrs["format_version"]) == 1
        assert abs(float(meta.attrs["temperature"]) - temperature) <= 1e-12 * temperature, meta.attrs["temperature"]
        classes = [text(c) for c in meta.attrs["class_names"]]
        assert len(classes) == kernel.shape[1], (classes, kernel.shape)
        config = text(meta["config_yaml"][()])
        assert "spectrogram:" in config and "window_seconds:" in config, config[:200]
        provenance = json.loads(text(meta["provenance_json"][()]))
        assert provenance["records"] > 0, provenance
        metrics = json.loads(text(meta["metrics_json"][()]))
        print("h5py read %s: %d layers, classes %s, T %.4f, %d records, metrics %s"
              % (path, len(layers), classes, temperature, provenance["records"], sorted(metrics)))


if __name__ == "__main__":
    try:
        main(sys.argv[1], float(sys.argv[2]))
    except (AssertionError, KeyError) as e:
        print("check_model_file.py: %s: %r" % (sys.argv[1], e))
        sys.exit(1)
