#!/usr/bin/env python3
"""Log-mel speed ratio: `ownvoice features log-mel` against librosa on the same 30 s of audio.

Both compute Whisper's 80-band log-mel (tools/make_feature_fixtures.py has the reference
definition) of one 30 s 16 kHz WAV, built from the bundled jfk + Cathy clips. Timed in-process
on both sides would favour neither; here each side is timed end to end from the same WAV file:
  * ownvoice: the `features log-mel` command (process start, WAV read, log-mel, .npy write),
    best of --runs, minus the time of the same command on a 1 s file (start-up and I/O);
  * librosa: librosa.stft + librosa.filters.mel + the log/clamp/scale steps in one warm Python
    process, best of --runs (imports and the first JIT/FFT-plan call excluded).
It also checks that both outputs agree within 1e-3.

    python3 tools/compare_logmel.py [--ownvoice PATH] [--runs 5]
"""
import argparse
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

from compare_common import bootstrap, find_ownvoice

ROOT = Path(__file__).resolve().parent.parent
CLIPS = ["datasets/jfk_whisper_sample/wav/jfk/jfk.wav"] + [
    f"datasets/cathy_arctic/enroll/wav/cathy/arctic_a{i:04d}.wav" for i in range(1, 11)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ownvoice")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    bootstrap("librosa==0.11.0", "numpy==2.4.6", "scipy==1.17.1")
    import librosa
    import numpy as np

    binary = find_ownvoice(args.ownvoice)
    pcm = []
    for c in CLIPS:
        with wave.open(str(ROOT / c)) as w:
            pcm.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"))
    x16 = np.resize(np.concatenate(pcm), 30 * 16000).astype("<i2")
    x = x16.astype(np.float32) / 32768.0

    def write_wav(path: Path, data: np.ndarray) -> None:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(data.tobytes())

    def librosa_log_mel(y: np.ndarray) -> np.ndarray:
        stft = librosa.stft(y, n_fft=400, hop_length=160, window="hann", center=True,
                            pad_mode="reflect")
        power = np.abs(stft[:, :-1]) ** 2
        mel = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80) @ power
        log = np.log10(np.maximum(mel, 1e-10))
        return (np.maximum(log, log.max() - 8.0) + 4.0) / 4.0

    librosa_log_mel(x)  # warm-up
    lr_times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        ref = librosa_log_mel(x)
        lr_times.append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        long_wav, short_wav, out = Path(tmp) / "30s.wav", Path(tmp) / "1s.wav", Path(tmp) / "o.npy"
        write_wav(long_wav, x16)
        write_wav(short_wav, x16[:16000])

        def run(wav: Path) -> float:
            best = float("inf")
            for _ in range(args.runs):
                t0 = time.perf_counter()
                subprocess.run([binary, "features", "log-mel", str(wav), "-o", str(out)],
                               check=True, capture_output=True)
                best = min(best, time.perf_counter() - t0)
            return best

        base = run(short_wav)
        full = run(long_wav)
        subprocess.run([binary, "features", "log-mel", str(long_wav), "-o", str(out)],
                       check=True, capture_output=True)
        ours = np.load(out)
    diff = float(np.abs(ours - ref).max())
    ov = max(full - base, 1e-6)
    lr = min(lr_times)
    print(f"30 s of audio, 80-band Whisper log-mel ({ours.shape[1]} frames); max abs diff {diff:.1e}")
    print(f"ownvoice (log-mel only, start-up subtracted): {ov * 1000:8.2f} ms")
    print(f"librosa  (warm, in-process):                  {lr * 1000:8.2f} ms")
    print(f"time ratio ownvoice / librosa: {ov / lr:.2f}")
    sys.exit(0 if diff < 1e-3 else 1)


if __name__ == "__main__":
    main()
