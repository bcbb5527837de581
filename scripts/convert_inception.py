#!/usr/bin/python3
"""Converts pytorch-fid's FID Inception weights (.pth, a pickled state_dict) to safetensors.

  /usr/bin/python3 scripts/convert_inception.py pt_inception-2015-12-05-6726825d.pth \
      models/inception_v3_fid.safetensors

Needs PyTorch only to unpickle the .pth (Debian: apt-get install python3-torch);
scripts/download_inception.sh installs it when missing. The output keeps pytorch-fid's tensor
names ("Mixed_6b.branch7x7_2.conv.weight", "fc.bias", ...) and drops the integer
"*.num_batches_tracked" counters; every tensor is stored as little-endian float32. sngan's
load_inception_v3() checks each name and shape when it loads the file.
"""
import hashlib
import json
import os
import sys

EXPECTED_FLOAT_TENSORS = 472  # 94 conv + batch-norm layers x 5, fc weight and bias


def die(message):
    print("convert_inception.py: error: " + message, file=sys.stderr)
    sys.exit(1)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_state_dict(path):
    try:
        import torch
    except ImportError:
        die("PyTorch is needed to read " + path + "; install it with "
            "'apt-get install -y --no-install-recommends python3-torch' and run /usr/bin/python3")
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # a truncated or foreign file
        die("cannot read %s as a PyTorch state_dict: %s" % (path, e))
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        die("%s: expected a state_dict (a dict of tensors), got %s" % (path, type(obj).__name__))
    tensors = {}
    for name, t in obj.items():
        if name.endswith("num_batches_tracked"):
            continue
        if not hasattr(t, "is_floating_point") or not t.is_floating_point():
            die("%s: expected a floating-point tensor for '%s'" % (path, name))
        tensors[name] = t.detach().to(torch.float32).contiguous().numpy()
    for name, shape in (("fc.weight", (1008, 2048)), ("Conv2d_1a_3x3.conv.weight", (32, 3, 3, 3))):
        if name not in tensors or tuple(tensors[name].shape) != shape:
            die("%s: expected tensor '%s' of shape %s (pytorch-fid's FID Inception-v3); is this "
                "another network's file?" % (path, name, shape))
    if len(tensors) != EXPECTED_FLOAT_TENSORS:
        die("%s: expected %d float tensors (pytorch-fid's FID Inception-v3), got %d"
            % (path, EXPECTED_FLOAT_TENSORS, len(tensors)))
    return tensors


def write_safetensors(path, tensors, metadata):
    """The safetensors layout: u64 header length, JSON header (padded with spaces to a multiple
    of 8 bytes), then the tensors back to back in name order."""
    header = {"__metadata__": metadata}
    offset = 0
    names = sorted(tensors)
    for name in names:
        size = tensors[name].size * 4
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for name in names:
            f.write(tensors[name].astype("<f4").tobytes(order="C"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    if not os.path.isfile(src):
        die("no such file: " + src)
    tensors = load_state_dict(src)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    metadata = {"feature_extractor": "inception_v3_fid",
                "source_file": os.path.basename(src), "source_sha256": sha256_of(src),
                "converted_by": "scripts/convert_inception.py",
                "network": "pytorch-fid FID Inception-v3 (TF inception-2015-12-05)"}
    write_safetensors(dst, tensors, metadata)
    print("wrote %s: %d tensors, %.1f MB" % (dst, len(tensors), os.path.getsize(dst) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
