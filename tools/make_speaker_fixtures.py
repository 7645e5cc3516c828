#!/usr/bin/env python3
"""Generate reference speaker embeddings with the ORIGINAL Resemblyzer (0.1.4).

ONE-TIME GENERATOR, RUN OUTSIDE CI. The outputs (embeddings.json and the cathy_*.npy
intermediates) are committed as test fixtures for the Rust reimplementation; CI only
reads them and never runs this script (it needs torch, librosa, webrtcvad and the
datasets on disk).

Environment used to produce the committed fixtures:
    python3 -m venv ~/.cache/ownvoice/resemblyzer-venv
    pip download resemblyzer==0.1.4 --no-deps   # sha256 of Resemblyzer-0.1.4-py3-none-any.whl:
        # 8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f
    pip install ./Resemblyzer-0.1.4-py3-none-any.whl   # pulls torch, librosa, webrtcvad, scipy, numpy
    pip install 'setuptools<81'   # webrtcvad 2.0.10 does `import pkg_resources`
    nice ~/.cache/ownvoice/resemblyzer-venv/bin/python make_reference.py [OUT_DIR]

The embedding is computed exactly as a Resemblyzer user would:
    encoder = VoiceEncoder("cpu"); wav = preprocess_wav(path); encoder.embed_utterance(wav)
The intermediates for the cathy clip are taken from the same library functions.
Also writes reference_meta.json (library versions, per-clip lengths/partials, cosine matrix)
and mel_basis.npy (librosa's 40x201 Slaney mel filterbank for sr=16000, n_fft=400).
"""
import json
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")  # pkg_resources / scipy.ndimage.morphology deprecations

import numpy as np
import torch
import librosa
import scipy
import resemblyzer
from resemblyzer import VoiceEncoder, preprocess_wav, wav_to_mel_spectrogram
from resemblyzer import hparams

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/speaker-ref")

MAIN = Path("/work/main/datasets")
SHARED = Path("/work/shared/datasets")


def first_wav(directory: Path) -> Path:
    """First *.wav (recursively) in sorted order of the path relative to `directory`."""
    wavs = sorted(directory.rglob("*.wav"), key=lambda p: p.relative_to(directory).as_posix())
    if not wavs:
        raise FileNotFoundError(f"no wav under {directory}")
    return wavs[0]


# (dataset root, absolute path of the clip)
CLIPS = [
    (MAIN / "cathy_arctic", first_wav(MAIN / "cathy_arctic/heldout/wav/cathy")),
    (MAIN / "ljspeech_samples", first_wav(MAIN / "ljspeech_samples/wav")),
    (MAIN / "jfk_whisper_sample", MAIN / "jfk_whisper_sample/wav/jfk/jfk.wav"),
    (SHARED / "cmu_arctic_pyroomacoustics", first_wav(SHARED / "cmu_arctic_pyroomacoustics/wav/arctic_aew")),
    (SHARED / "cmu_arctic_pyroomacoustics", first_wav(SHARED / "cmu_arctic_pyroomacoustics/wav/arctic_axb")),
]


def rel_name(root: Path, path: Path) -> str:
    return f"{root.name}/{path.relative_to(root).as_posix()}"


def numpy_lstm_forward(state, mels):
    """Independent float64 re-implementation of the network (PyTorch gate order i, f, g, o).

    mels: (batch, 160, 40). Returns L2-normalised ReLU(linear(h_T of last layer)).
    Used only as a self-check of PROCEDURE.md.
    """
    sd = {k: v.double().numpy() for k, v in state.items()}
    x = mels.astype(np.float64)
    B, T, _ = x.shape
    H = hparams.model_hidden_size
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))
    for layer in range(hparams.model_num_layers):
        W_ih, W_hh = sd[f"lstm.weight_ih_l{layer}"], sd[f"lstm.weight_hh_l{layer}"]
        b = sd[f"lstm.bias_ih_l{layer}"] + sd[f"lstm.bias_hh_l{layer}"]
        h = np.zeros((B, H)); c = np.zeros((B, H))
        outs = []
        for t in range(T):
            z = x[:, t] @ W_ih.T + h @ W_hh.T + b
            i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            outs.append(h)
        x = np.stack(outs, axis=1)
    e = np.maximum(h @ sd["linear.weight"].T + sd["linear.bias"], 0.0)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def main():
    torch.set_num_threads(1)  # busy machine; also keeps CPU results reproducible
    OUT.mkdir(parents=True, exist_ok=True)
    encoder = VoiceEncoder("cpu")

    results, meta = [], []
    for idx, (root, path) in enumerate(CLIPS):
        raw, sr = librosa.load(str(path), sr=None)
        wav = preprocess_wav(path)
        embed = encoder.embed_utterance(wav)
        # Same call with return_partials=True (deterministic, must give the same embedding)
        embed2, partials, wav_slices = encoder.embed_utterance(wav, return_partials=True)
        assert np.array_equal(embed, embed2)
        name = rel_name(root, path)
        results.append({"path": name, "embedding": [float(v) for v in embed.astype(np.float32)]})
        _, mel_slices = encoder.compute_partial_slices(len(wav), 1.3, 0.75)
        meta.append({
            "path": name,
            "source_sr": int(sr),
            "n_samples_raw": int(len(raw)),
            "n_samples_preprocessed": int(len(wav)),
            "max_abs_after_preprocess": float(np.max(np.abs(wav))),
            "n_partials": int(len(partials)),
            "mel_slice_starts": [int(s.start) for s in mel_slices],
            "padded_len": int(max(len(wav), wav_slices[-1].stop)),
        })
        print(f"{name}: sr={sr} raw={len(raw)} pre={len(wav)} partials={len(partials)}", flush=True)

        if idx == 0:  # cathy intermediates
            np.save(OUT / "cathy_preprocessed.npy", wav.astype(np.float32))
            # mel of the whole (unpadded) preprocessed wav, shape (n_frames, 40)
            np.save(OUT / "cathy_mel.npy", wav_to_mel_spectrogram(wav).astype(np.float32))
            # what embed_utterance actually slices: mel of the zero-padded wav
            padded = wav
            if wav_slices[-1].stop >= len(wav):
                padded = np.pad(wav, (0, wav_slices[-1].stop - len(wav)), "constant")
            # (for this clip the single partial needs no padding, so mel_padded == cathy_mel)
            mel_padded = wav_to_mel_spectrogram(padded)
            np.save(OUT / "cathy_partials.npy", partials.astype(np.float32))
            # self-check: independent numpy LSTM on the same slices reproduces the partials
            mels = np.array([mel_padded[s] for s in mel_slices])
            ref = numpy_lstm_forward(encoder.state_dict(), mels)
            meta[-1]["numpy_lstm_max_abs_diff_vs_torch"] = float(np.max(np.abs(ref - partials)))
            print("numpy LSTM vs torch max|diff|:", meta[-1]["numpy_lstm_max_abs_diff_vs_torch"])
            # mel filterbank as librosa builds it inside melspectrogram (Slaney, norm='slaney')
            mel_basis = librosa.filters.mel(sr=hparams.sampling_rate, n_fft=400, n_mels=40)
            np.save(OUT / "mel_basis.npy", mel_basis.astype(np.float32))

    with open(OUT / "embeddings.json", "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")

    E = np.array([r["embedding"] for r in results], dtype=np.float64)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    cos = E @ E.T
    versions = {
        "resemblyzer": "0.1.4", "torch": torch.__version__, "numpy": np.__version__,
        "librosa": librosa.__version__, "scipy": scipy.__version__,
        "python": sys.version.split()[0],
    }
    with open(OUT / "reference_meta.json", "w") as f:
        json.dump({"versions": versions, "clips": meta, "cosine": cos.round(6).tolist()}, f, indent=1)
        f.write("\n")
    print("versions:", versions)
    print("cosine similarity matrix:")
    for r, row in zip(results, cos):
        print(" ".join(f"{v:7.4f}" for v in row), r["path"])


if __name__ == "__main__":
    main()
