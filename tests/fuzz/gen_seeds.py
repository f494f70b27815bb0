#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses, tests/fuzz/corpus/<harness>/ (run with Debian's
/usr/bin/python3; h5py and numpy from python3-h5py).

Every seed is small (at most a few KB, one unisens seed 21 KB: a CACHET segment is 10240 int16
samples) and cut from the committed fixtures and the bundled sample: records shortened to a second
or two, with headers rewritten to match.  Inputs that stand for several files join them with the
line "--8<--" (FUZZ_SEP in tests/fuzz/fuzz.h); tests/fuzz/README.md gives each harness's layout.
Regenerating gives identical bytes.
"""
import os
import struct
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
FIX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(HERE, "corpus")
SEP = b"\n--8<--\n"
sys.path.insert(0, FIX)
from gen_keras_files import make_group, small_layers, write_keras  # noqa: E402


def put(harness, name, *parts):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    data = SEP.join(p.encode() if isinstance(p, str) else p for p in parts)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*path):
    with open(os.path.join(*path), "rb") as f:
        return f.read()


# ---- config ----

def config_seeds():
    effb0 = read(ROOT, "configs", "effb0.yaml")
    put("config", "effb0", effb0)
    tiny = read(ROOT, "configs", "tiny.yaml").replace(b"base: effb0.yaml", b"base: base.yaml")
    put("config", "tiny_on_effb0", tiny, effb0)
    put("config", "chain_and_overrides",
        "base: sub/base.yaml\nrun:\n  name: chain\ntrain:\n  epochs: 3\n  class_weights: [1, 2, 0.5, 1]\n",
        "model:\n  arch: b1\n  freeze: block3a\noptim:\n  betas: [0.8, 0.99]\n  lr: 3e-4\n",
        "base: ../base.yaml\ndata: {format: cinc2017, spectrogram: {window: tukey, height: 32}}\n",
        "optim.name=sgd\ntrain.epochs=2\ndata.augment.flip_prob=0.5\nmodel.pretrained=none\n"
        "train.class_weights=[1, 1, 2, 1]\n")
    put("config", "cycle", "base: base.yaml\n", "base: config.yaml\n")
    put("config", "anchors_and_tags",
        "train: &t\n  epochs: !!int 4\n  batch_size: 16\neval:\n  batch_size: 8\n  calibrate: yes\n"
        "run: {name: 'quoted.name', seed: 7, log_level: warn}\n")


# ---- CinC 2017 ----

def mat_v4(values, type_code, column=False, name=b"val"):
    fmt = {0: "<d", 10: "<f", 20: "<i", 30: "<h", 40: "<H", 50: "<B"}[type_code]
    rows, cols = (len(values), 1) if column else (1, len(values))
    head = struct.pack("<5i", type_code, rows, cols, 0, len(name) + 1) + name + b"\0"
    return head + b"".join(struct.pack(fmt, v) for v in values)


def cinc_seeds():
    raw = read(FIX, "data", "cinc2017", "A00592.mat")
    n = 600  # two seconds at 300 Hz
    x = list(struct.unpack("<%dh" % n, raw[24:24 + 2 * n]))
    hea = "r 1 300 %d\nr.mat 16+24 1000/mV 16 0 -115 0 0 ECG\n" % n
    put("cinc2017", "int16_with_header", hea, mat_v4(x, 30), "r,A\n")
    put("cinc2017", "double_column_alone", mat_v4([v / 1000.0 for v in x], 0, column=True))
    put("cinc2017", "int32_two_labels", hea.replace("1000/mV", "500(3)/mV"), mat_v4(x, 20),
        "r,N\r\nmissing,O\n")
    put("cinc2017", "float32_noise_label", "r 1 300\nr.mat 16 2000/mV\n", mat_v4([float(v) for v in x], 10),
        "r,~\n")
    put("cinc2017", "uint8", hea.replace("%d\n" % n, "%d\n# a comment\n" % n),
        mat_v4([(v + 600) % 256 for v in x], 50), "r,O\n")


# ---- WFDB ----

def parse_atr(data):
    """(sample, code, aux bytes) of an MIT annotation file."""
    out, t, pos, aux = [], 0, 0, None
    while pos + 2 <= len(data):
        w = data[pos] | data[pos + 1] << 8
        pos += 2
        if w == 0:
            break
        code, arg = w >> 10, w & 0x3FF
        if code == 59:
            hi, lo = struct.unpack("<HH", data[pos:pos + 4])
            t += (hi << 16) | lo
            pos += 4
        elif code == 63:
            out[-1] = (out[-1][0], out[-1][1], data[pos:pos + arg])
            pos += (arg + 1) & ~1
        elif code in (60, 61, 62):
            pass
        else:
            t += arg
            out.append((t, code, aux))
    return out


def write_atr(anns):
    out, prev = bytearray(), 0
    for t, code, aux in anns:
        d = t - prev
        if d > 1023:
            out += struct.pack("<HHH", 59 << 10, d >> 16, d & 0xFFFF)
            d = 0
        out += struct.pack("<H", code << 10 | d)
        if aux:
            out += struct.pack("<H", 63 << 10 | len(aux)) + aux + (b"\0" if len(aux) % 2 else b"")
        prev = t
    return bytes(out + b"\0\0")


def wfdb_seeds():
    frames = 720  # two seconds at 360 Hz
    d212 = read(FIX, "data", "mitdb", "100.dat")[:frames * 3]
    d16 = read(FIX, "data", "mitdb16", "100.dat")[:frames * 4]
    anns = [a for a in parse_atr(read(FIX, "data", "mitdb", "100.atr")) if a[0] < frames]
    anns.append((700, 5, None))  # a V beat too close to the end to keep
    atr = write_atr(anns)
    sig = "r.dat {f} 200 11 1024 995 45657 0 MLII\nr.dat {f} 200 11 1024 1011 46453 0 V5\n"
    hea = "r 2 360 %d\n" % frames + sig
    put("wfdb", "212_two_signals", hea.format(f="212") + "# 69 M\n", d212, atr)
    put("wfdb", "16_two_signals", hea.format(f="16"), d16, atr)
    put("wfdb", "212_offset_no_atr", "r 2 180\n" + sig.format(f="212+6"), b"\x11" * 6 + d212[:1080])
    one = b"".join(d16[4 * i:4 * i + 2] for i in range(frames))
    put("wfdb", "16_one_signal_uV", "r 1 360 %d\nr.dat 16 0.2(-5)/uV 12 3 0 0 0 V5\n" % frames, one, atr)
    put("wfdb", "skip_and_aux", "r 1 250 500\nr.dat 16\n", one[:1000],
        write_atr([(2000, 1, b"(AFIB"), (4100, 8, None), (4200, 13, None)]))


# ---- Kaggle CSV ----

def kaggle_seeds():
    lines = read(FIX, "data", "kaggle", "mitbih_small.csv").split(b"\n")
    put("kaggle", "two_rows", b"\n".join(lines[:2]) + b"\n")
    row = lines[2].split(b",")
    short = b",".join(row[:120]) + b"," + b",".join(row[-1:])
    bad_label = b",".join(row[:187]) + b",7"
    put("kaggle", "crlf_short_and_bad_label", b"\r\n".join([lines[2], short, bad_label, b"", b"1e400," * 3]))


# ---- CACHET-CADB full (Unisens) ----

def unisens_seeds():
    seg = os.path.join(FIX, "data", "cachet_full", "P7", "m1", "s1")
    xml = read(seg, "unisens.xml")
    ecg = read(seg, "ecg.bin")
    put("unisens", "one_segment", xml, ecg[:20480], "Start,End,Class\n0,10239,2\n")
    put("unisens", "short_signal", xml, ecg[:2048], "Class,Start,End\r\n1,0,10239\n4,100,10339\n")
    two = xml.replace(b'<channel name="ECG I"/>', b'<channel name="ECG I"/><channel name="ECG II"/>')
    put("unisens", "two_channels_odd_size", two, ecg[:1001], "Start,End,Class\n0,10239,3\n")
    put("unisens", "namespaces_and_entities",
        '<?xml version="1.0"?>\n<!-- Unisens -->\n<u:unisens xmlns:u="http://www.unisens.org/unisens2.0">'
        '<u:signalEntry id="ecg&#46;bin" sampleRate="1024" lsbValue="0.0025" baseline="2048" dataType="int16">'
        '<u:channel name="a&gt;b"/><![CDATA[<channel/>]]></u:signalEntry>'
        '<signalEntry id="ecg.bin" sampleRate="1"/></u:unisens>\n',
        ecg[:512], "Start,End,Class\n")


# ---- HDF5 files ----

def h5file(path, latest=False):
    """A file without timestamps, so that regenerating gives identical bytes.  The default format is the
    one h5py and Keras write (superblock 0, object headers 1), whose metadata has no checksums: a fuzzer
    that flips a byte there reaches the library's parsers, where in the latest format the checksum
    check refuses it."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    if latest:
        fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    return h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl))


def earliest_copy(src, dst):
    """The file at src (written by gen_keras_files in the latest format) again in the default format."""
    with h5py.File(src, "r") as s, h5file(dst) as d:
        for k in s.attrs:
            d.attrs.create(k, s.attrs[k], dtype=s.attrs.get_id(k).dtype)
        for name in s:
            s.copy(s[name], d, name=name)


def cachet_seeds():
    d = os.path.join(OUT, "cachet_h5")
    os.makedirs(d, exist_ok=True)
    with h5py.File(os.path.join(ROOT, "data", "sample", "cachet_sample.h5"), "r") as f:
        x = f["signal"][:10240]
    gz = dict(compression="gzip", compression_opts=9, shuffle=True, track_times=False)
    with h5file(os.path.join(d, "one_segment_int16")) as f:
        f.create_dataset("signal", data=np.round(x * 1000).astype(np.int16), chunks=(10240,), **gz)
        f.create_dataset("labels", data=np.full(10240, 2.0), chunks=(10240,), **gz)
    with h5file(os.path.join(d, "scaleoffset_and_fletcher32")) as f:
        f.create_dataset("signal", data=np.round(x * 10).astype(np.int32), chunks=(5120,), scaleoffset=0,
                         track_times=False)
        f.create_dataset("labels", data=np.full(10240, 4.0, np.float32), chunks=(5120,), fletcher32=True,
                         compression="gzip", track_times=False)
    with h5file(os.path.join(d, "two_segments_mixed_labels_latest_format"), latest=True) as f:
        f.create_dataset("signal", data=np.tile(np.round(x[:1024] * 100).astype(np.int8), 20), chunks=(4096,), **gz)
        f.create_dataset("labels", data=np.repeat([1.0, 3.0, 4.0, 4.0], 5120), chunks=(4096,), **gz)
    with h5file(os.path.join(d, "short_contiguous")) as f:
        f.create_dataset("signal", data=x[:64], track_times=False)
        f.create_dataset("labels", data=np.full(64, 2.0), track_times=False)
    with h5file(os.path.join(d, "mismatch_unwritten")) as f:
        f.create_dataset("signal", shape=(10240,), dtype="f4", track_times=False)
        f.create_dataset("labels", shape=(20480,), dtype="f8", track_times=False)
    with h5file(os.path.join(d, "rank2_and_strings")) as f:
        f.create_dataset("signal", data=x[:32].reshape(4, 8).astype(np.float32), track_times=False)
        f.create_dataset("labels", data=np.array([b"AF", b"NSR"]), track_times=False)
        make_group(f, "extra")


def keras_seeds():
    d = os.path.join(OUT, "keras_h5")
    os.makedirs(d, exist_ok=True)
    small = small_layers()
    write_keras(os.path.join(d, "layer_names_split"), small, chunks=2)
    write_keras(os.path.join(d, "keras2"), small)
    earliest_copy(os.path.join(d, "keras2"), os.path.join(d, "keras2_default_format"))
    write_keras(os.path.join(d, "keras3_model_weights"), small, keras3=True, model_weights=True)
    norm = small[:1] + [("normalization", [("mean", (3,), np.float32), ("variance", (3,), np.float32),
                                           ("count", (), np.int64)])] + small[1:]
    path = os.path.join(d, "normalization_and_ecg_attrs")
    write_keras(path, norm)
    with h5py.File(path, "a") as f:
        f.attrs["ecg_bn_epsilon"] = 1e-5
        f.attrs["ecg_padding"] = np.bytes_("symmetric")
        f.attrs["ecg_arch"] = np.bytes_("b0")


def checkpoint_seeds():
    d = os.path.join(OUT, "checkpoint")
    os.makedirs(d, exist_ok=True)

    def write(name, version=1, blob="m", rng="data", lr=5e-4):
        path = os.path.join(d, name)
        write_keras(path, small_layers())
        with h5py.File(path, "a") as f:
            g = make_group(f, "ecg_checkpoint")
            for k, v in (("format_version", version), ("epoch", 3), ("step", 120), ("sched_step", 120)):
                g.attrs[k] = np.int64(v)
            g.attrs["lr"] = np.float64(lr)
            g.create_dataset("config_yaml", data=np.bytes_("model:\n  arch: b0\n"), track_times=False)
            g.create_dataset("metrics_json", data=np.bytes_('{"val_macro_f1": 0.5}'), track_times=False)
            b = make_group(g, "blobs")
            b.create_dataset(blob, data=np.arange(4, dtype=np.float32) / 8, track_times=False)
            b.attrs["blob_names"] = np.array([blob.encode()])
            r = make_group(g, "rng")
            r.create_dataset(rng, data=np.array([42, 7, 1000], dtype=np.uint64), track_times=False)
            r.attrs["rng_names"] = np.array([rng.encode()])

    write("resumable")
    earliest_copy(os.path.join(d, "resumable"), os.path.join(d, "resumable_default_format"))
    write("other_optimizer", blob="adam_v")
    write("version_2_nan_lr", version=2, lr=float("nan"))


# ---- ecgserve requests ----

def multipart(boundary, parts):
    """A multipart/form-data body of (field name, file name or None, bytes)."""
    out = b""
    for name, filename, data in parts:
        disp = 'form-data; name="%s"' % name + ('; filename="%s"' % filename if filename else "")
        out += b"--%s\r\nContent-Disposition: %s\r\n" % (boundary, disp.encode())
        if filename:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + data + b"\r\n"
    return out + b"--%s--\r\n" % boundary


def request(name, content_type, query, body):
    d = os.path.join(OUT, "serve_request")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(content_type.encode() + b"\n" + query.encode() + b"\n" + body)


def serve_seeds():
    cinc = read(OUT, "cinc2017", "int16_with_header").split(SEP)
    wfdb = read(OUT, "wfdb", "16_two_signals").split(SEP)
    b = b"ecgFormBoundary7MA4YWxk"
    request("cinc_record", "multipart/form-data; boundary=%s" % b.decode(), "include=gradcam",
            multipart(b, [("file", "A1.hea", cinc[0].replace(b"r.mat", b"A1.mat")), ("file", "A1.mat", cinc[1])]))
    request("wfdb_record_and_csv", 'multipart/form-data; boundary="%s"' % b.decode(),
            "record=x&include=signal%2Cspectrogram",
            multipart(b, [("file", r"C:\\ecg\\100.hea",  # backslashes escaped, as curl sends them
                                   wfdb[0].replace(b"r.dat", b"100.dat").replace(b" 720", b" 400")),
                          ("file", "100.dat", wfdb[1][:1600]), ("fs", None, b"250"),
                          ("file", "t.csv", b"time,mV\n0,0.1\n0.004,0.2\n0.008,0.15\n")]))
    request("cachet_h5", "multipart/form-data; boundary=%s" % b.decode(), "",
            multipart(b, [("file", "seg.h5", read(OUT, "cachet_h5", "one_segment_int16"))]))
    request("json_signal", "application/json", "fs=300",
            b'{"fs": 250, "record": "p1", "signal": [0.1, -2e-1, 3.5E+0, 0, -0.0, 12]}')
    request("csv_body", "text/csv; charset=utf-8", "fs=360&record=r%20one",
            b"sample\r\n0.1\r\n0.2\r\n-0.3\r\n1e-2\r\n")


def main():
    config_seeds()
    cinc_seeds()
    wfdb_seeds()
    kaggle_seeds()
    unisens_seeds()
    cachet_seeds()
    keras_seeds()
    checkpoint_seeds()
    serve_seeds()
    total = 0
    for harness in sorted(os.listdir(OUT)):
        files = sorted(os.listdir(os.path.join(OUT, harness)))
        size = sum(os.path.getsize(os.path.join(OUT, harness, f)) for f in files)
        total += size
        print("%-14s %2d seeds %7d bytes" % (harness, len(files), size))
    print("%-14s          %7d bytes" % ("total", total))


if __name__ == "__main__":
    main()
