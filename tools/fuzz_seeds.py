#!/usr/bin/env python3
"""Writes small valid seed inputs for the fuzz targets into fuzz/seeds/TARGET/.

(decode_audio's seeds are the decoding fixtures in tests/fixtures/decode, passed by tools/fuzz.)
Seeds let libFuzzer start from well-formed files and mutate inward, instead of discovering each
format's magic and layout from nothing. The layouts follow the readers' module docs:
crates/asr/src/ct2.rs, crates/asr/src/ggml.rs, crates/vault/src/format.rs.
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ct2_str(s):
    b = s.encode() + b"\0"
    return struct.pack("<H", len(b)) + b


def ct2_var(name, dims, dtype, data):
    return (ct2_str(name) + struct.pack("<B", len(dims)) + b"".join(struct.pack("<I", d) for d in dims)
            + struct.pack("<BI", dtype, len(data)) + data)


def ct2_seed():
    vars_ = [
        ct2_var("encoder/conv1/weight", [2, 3], 0, struct.pack("<6f", *range(6))),
        ct2_var("decoder/embeddings/weight", [2, 2], 4, struct.pack("<4H", 0x3C00, 0, 0xBC00, 0x7C00)),
        ct2_var("decoder/scale", [], 3, struct.pack("<i", 7)),
        ct2_var("decoder/q", [4], 1, bytes([1, 2, 255, 128])),
    ]
    body = (struct.pack("<I", 6) + ct2_str("WhisperSpec") + struct.pack("<II", 3, len(vars_))
            + b"".join(vars_) + struct.pack("<I", 1) + ct2_str("decoder/alias") + ct2_str("decoder/scale"))
    return body


def ggml_seed():
    out = struct.pack("<I", 0x67676D6C)
    out += struct.pack("<11i", 4, 2, 4, 1, 1, 2, 4, 1, 1, 2, 1)
    out += struct.pack("<ii", 2, 3) + struct.pack("<6f", *[0.5] * 6)
    vocab = [b"a", b" the", b"<|endoftext|>", b""]
    out += struct.pack("<i", len(vocab)) + b"".join(struct.pack("<I", len(t)) + t for t in vocab)
    name = b"encoder.conv1.bias"
    out += struct.pack("<iii", 2, len(name), 0) + struct.pack("<ii", 3, 2) + name + struct.pack("<6f", *range(6))
    name = b"decoder.token_embedding.weight"
    out += struct.pack("<iii", 1, len(name), 1) + struct.pack("<i", 2) + name + struct.pack("<2H", 0x3C00, 0x4000)
    return out


def container_seed():
    access = b"\x00" + struct.pack("<H", 0)
    manifest = b'{"person":"ada","takes":[]}'
    blobs = [("takes/0001.pcm", bytes(range(64))), ("empty", b"")]
    out = b"OWNVOICE-PROFILE" + struct.pack("<H", 2)
    out += struct.pack("<I", len(access)) + access
    out += struct.pack("<I", len(manifest)) + manifest + struct.pack("<I", len(blobs))
    for name, data in blobs:
        out += struct.pack("<H", len(name)) + name.encode() + struct.pack("<Q", len(data)) + data
    return out


def main():
    put("ct2_reader", "tiny.bin", ct2_seed())
    put("ggml_reader", "tiny.bin", ggml_seed())
    put("profile", "container.bin", container_seed())
    print(f"seeds written under {SEEDS}", file=sys.stderr)


if __name__ == "__main__":
    main()
