#!/usr/bin/env python3
"""Side-by-side TTS comparison: `ownvoice speak` vs piper-tts, same Piper voice.

Both tools synthesize the same fixed English text (SENTENCES below) with the same
voice files (voice.onnx + voice.onnx.json from `ownvoice models path joe`), on
2 CPU threads, with the voice's default length/noise scales.

Timing is wall clock and includes loading the voice once per tool:
  * ownvoice: one `ownvoice speak --threads 2 TEXT -o out.wav` process for all text;
  * piper-tts: building the PiperVoice (onnxruntime session with
    intra_op_num_threads=2) + synthesize_wav() of all text into a WAV file,
    measured inside one fresh Python worker process (interpreter start and
    imports are excluded and reported separately).
The tools run alternately `--runs` times (default 3); the median time is reported.
Intelligibility check: both WAVs are transcribed with
`ownvoice transcribe --model tiny.en` and scored by WER against the input text
(lower-case, punctuation removed, apostrophes dropped, hyphens split).

Run from the repository root (needs fetched models: `ownvoice models fetch`):

    python3 tools/compare_tts.py [--ownvoice target/release/ownvoice] [--json] [--keep DIR]

On first use the script creates a virtualenv at
${XDG_CACHE_HOME:-~/.cache}/ownvoice/tools-venv, installs piper-tts==1.8.0 into
it (needs PyPI once) and re-runs itself with that venv's Python.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

from compare_common import add_common_args, bootstrap, find_ownvoice, normalize, word_errors
from compare_common import model_dir as fetched_model_dir

PEER = "piper-tts==1.8.0"
# No digits or number words: Whisper writes numbers as digits and the WER here
# does not normalize numbers, which would count them as errors.
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Would you like a cup of tea, or would you rather have coffee?",
    "It was a bright, cold day in April, and the wind was blowing from the sea.",
    "I can't believe it's already the end of the week!",
    "The museum opens early in the morning and closes late in the evening.",
    "She sells seashells by the seashore; the shells she sells are surely seashells.",
    "Turn left at the second traffic light, then keep going straight past the bakery.",
    "My grandmother's garden is full of roses, tulips, and sunflowers.",
    "Do you know where I left my keys?",
    "A well-known author will give a talk at the library tomorrow evening.",
    "The weather forecast says it will rain heavily this afternoon.",
    "We're running late, so let's take a taxi instead of the bus.",
    "Scientists discovered a new species of frog in the rainforest.",
    "Honesty is the best policy, but it isn't always the easiest one.",
    "The children laughed and played in the park until sunset.",
    "Could you speak a little more slowly, please?",
    "Our train was delayed by almost an hour because of a signal failure.",
    "Wow, that was the most beautiful concert I have ever heard!",
    "Thank you for listening, and have a wonderful day.",
]
TEXT = " ".join(SENTENCES)


def wer(ref: str, hyp: str) -> float:
    return word_errors(normalize(ref), normalize(hyp)) / max(1, len(normalize(ref)))


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def run_ownvoice(binary: str, out: Path, threads: int) -> float:
    cmd = [binary, "speak", "--threads", str(threads), TEXT, "-o", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def run_piper(voice_dir: str, out: Path, threads: int) -> tuple[float, float]:
    cmd = [sys.executable, os.path.abspath(__file__), "--_worker", voice_dir,
           "--threads", str(threads), "--_out", str(out)]
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return res["seconds"], res["import_seconds"]


def worker(voice_dir: str, out: str, threads: int) -> None:
    """Runs in a fresh process: load the voice and synthesize TEXT to `out`, timed.

    PiperVoice.load() always builds a default onnxruntime.SessionOptions(), so the
    thread count cannot be passed through it; we build the same PiperVoice by hand
    (as load() does for CPU) with an explicit thread count instead.
    """
    t0 = time.perf_counter()
    import onnxruntime
    from piper import PiperConfig, PiperVoice
    t1 = time.perf_counter()
    model = Path(voice_dir) / "voice.onnx"
    with open(f"{model}.json", encoding="utf-8") as f:
        config = PiperConfig.from_dict(json.load(f))
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model), sess_options=opts,
                                           providers=["CPUExecutionProvider"])
    voice = PiperVoice(session=session, config=config)
    with wave.open(out, "wb") as wav:
        voice.synthesize_wav(TEXT, wav)
    seconds = time.perf_counter() - t1
    print(json.dumps({"seconds": seconds, "import_seconds": t1 - t0}))


def transcribe(binary: str, wavs: list[Path], threads: int) -> list[str]:
    cmd = [binary, "transcribe", "--model", "tiny.en", "--threads", str(threads),
           "--format", "json", *map(str, wavs)]
    items = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return [it["text"] for it in items]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(ap)
    ap.add_argument("--keep", metavar="DIR", help="copy the two WAV outputs into DIR")
    ap.add_argument("--_out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    bootstrap(PEER)
    if args._worker:
        return worker(args._worker, args._out, args.threads)

    binary = find_ownvoice(args.ownvoice)
    voice_dir = fetched_model_dir(binary, "joe", "voice.onnx.json")
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    log(f"{len(SENTENCES)} sentences, {len(normalize(TEXT))} words, voice {voice_dir}")

    with tempfile.TemporaryDirectory(prefix="ownvoice-tts-") as tmp:
        ow_wav, pp_wav = Path(tmp) / "ownvoice.wav", Path(tmp) / "piper.wav"
        ow_times, pp_times, pp_imports = [], [], []
        for i in range(args.runs):
            ow_times.append(run_ownvoice(binary, ow_wav, args.threads))
            s, imp = run_piper(voice_dir, pp_wav, args.threads)
            pp_times.append(s)
            pp_imports.append(imp)
            log(f"run {i + 1}/{args.runs}: ownvoice {ow_times[-1]:.2f} s, piper-tts {s:.2f} s")
        ow_text, pp_text = transcribe(binary, [ow_wav, pp_wav], args.threads)
        ow = {"wer": wer(TEXT, ow_text), "seconds": statistics.median(ow_times),
              "audio_seconds": round(wav_seconds(ow_wav), 3), "transcript": ow_text}
        pp = {"wer": wer(TEXT, pp_text), "seconds": statistics.median(pp_times),
              "audio_seconds": round(wav_seconds(pp_wav), 3), "transcript": pp_text,
              "import_seconds": statistics.median(pp_imports)}
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(ow_wav, args.keep)
            shutil.copy(pp_wav, args.keep)

    result = {"ownvoice": ow, "piper": pp, "time_ratio": ow["seconds"] / pp["seconds"],
              "sentences": len(SENTENCES), "words": len(normalize(TEXT))}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print()
    print(f"{'tool':<11}{'WER %':>8}{'wall s':>9}{'audio s':>9}{'RTF':>7}")
    for name, r in (("ownvoice", ow), ("piper-tts", pp)):
        rtf = r["seconds"] / r["audio_seconds"]
        print(f"{name:<11}{100 * r['wer']:>8.2f}{r['seconds']:>9.2f}{r['audio_seconds']:>9.2f}{rtf:>7.3f}")
    print(f"time ratio ownvoice / piper-tts: {result['time_ratio']:.2f}"
          f"  (median of {args.runs}; piper-tts excludes {pp['import_seconds']:.2f} s of imports)")


if __name__ == "__main__":
    main()
