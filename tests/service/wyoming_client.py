#!/usr/bin/env python3
"""Drives an ownvoice Wyoming server with the real `wyoming` client library (PyPI 1.10.2),
as Home Assistant does. Prints one JSON object on stdout.

  wyoming_client.py describe HOST:PORT
  wyoming_client.py transcribe HOST:PORT WAV [--name MODEL_OR_PERSON]
  wyoming_client.py synthesize HOST:PORT TEXT OUT.wav [--voice NAME] [--stream]
"""
import argparse
import asyncio
import json
import time
import wave

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import (Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop,
                         SynthesizeStopped, SynthesizeVoice)


def client(addr: str) -> AsyncTcpClient:
    host, port = addr.rsplit(":", 1)
    return AsyncTcpClient(host, int(port))


async def describe(a):
    async with client(a.addr) as c:
        await c.write_event(Describe().event())
        while True:
            e = await c.read_event()
            if Info.is_type(e.type):
                info = Info.from_event(e)
                return {
                    "asr": [{"name": p.name, "models": [m.name for m in p.models]} for p in info.asr],
                    "tts": [{"name": p.name, "voices": [v.name for v in p.voices],
                             "streaming": p.supports_synthesize_streaming} for p in info.tts],
                }


async def transcribe(a):
    with wave.open(a.wav, "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        pcm = w.readframes(w.getnframes())
    async with client(a.addr) as c:
        await c.write_event(Transcribe(name=a.name, language="en").event())
        await c.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
        step = rate * width * channels // 10  # 100 ms chunks
        for i in range(0, len(pcm), step):
            await c.write_event(
                AudioChunk(rate=rate, width=width, channels=channels, audio=pcm[i:i + step]).event())
        await c.write_event(AudioStop().event())
        while True:
            e = await c.read_event()
            if e is None:
                return {"error": "connection closed"}
            if Transcript.is_type(e.type):
                t = Transcript.from_event(e)
                return {"text": t.text, "language": t.language}
            if Error.is_type(e.type):
                return {"error": Error.from_event(e).text}


async def synthesize(a):
    voice = SynthesizeVoice(name=a.voice) if a.voice else None
    started = time.monotonic()
    first_audio = None
    audio = bytearray()
    rate = None
    starts = stops = 0
    async with client(a.addr) as c:
        if a.stream:
            await c.write_event(SynthesizeStart(voice=voice).event())
            words = a.text.split(" ")
            for i in range(0, len(words), 3):  # as an LLM streams words
                await c.write_event(SynthesizeChunk(text=" ".join(words[i:i + 3]) + " ").event())
            # Home Assistant also sends the whole text once, for servers without streaming.
            await c.write_event(Synthesize(text=a.text, voice=voice).event())
            await c.write_event(SynthesizeStop().event())
        else:
            await c.write_event(Synthesize(text=a.text, voice=voice).event())
        while True:
            e = await c.read_event()
            if e is None:
                return {"error": "connection closed"}
            if AudioStart.is_type(e.type):
                starts += 1
                rate = AudioStart.from_event(e).rate
            elif AudioChunk.is_type(e.type):
                if first_audio is None:
                    first_audio = time.monotonic() - started
                audio += AudioChunk.from_event(e).audio
            elif AudioStop.is_type(e.type):
                stops += 1
                if not a.stream:
                    break
            elif SynthesizeStopped.is_type(e.type):
                break
            elif Error.is_type(e.type):
                return {"error": Error.from_event(e).text}
    with wave.open(a.out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(audio))
    return {"rate": rate, "seconds": len(audio) / 2 / rate, "audio_starts": starts,
            "audio_stops": stops, "first_audio_s": first_audio}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("describe")
    d.add_argument("addr")
    t = sub.add_parser("transcribe")
    t.add_argument("addr")
    t.add_argument("wav")
    t.add_argument("--name")
    s = sub.add_parser("synthesize")
    s.add_argument("addr")
    s.add_argument("text")
    s.add_argument("out")
    s.add_argument("--voice")
    s.add_argument("--stream", action="store_true")
    a = p.parse_args()
    fn = {"describe": describe, "transcribe": transcribe, "synthesize": synthesize}[a.cmd]
    print(json.dumps(asyncio.run(fn(a))))


if __name__ == "__main__":
    main()
