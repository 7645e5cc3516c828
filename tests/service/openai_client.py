#!/usr/bin/env python3
"""Drives ownvoice's HTTP API with the official `openai` Python client. Prints one JSON object.

  openai_client.py transcribe BASE_URL FILE [--format json|text|srt|vtt|verbose_json] [--model M]
  openai_client.py speech BASE_URL TEXT OUT [--format wav|pcm] [--voice V] [--speed S]
  openai_client.py models BASE_URL
  openai_client.py concurrent BASE_URL FILE N   (N transcriptions at once, AsyncOpenAI)

The API key is $OWNVOICE_TOKEN (any string when the server has no token).
"""
import argparse
import asyncio
import json
import os
import time

from openai import AsyncOpenAI, OpenAI


async def concurrent(base_url, path, n):
    c = AsyncOpenAI(base_url=base_url, api_key=os.environ.get("OWNVOICE_TOKEN", "none"),
                    max_retries=0, timeout=600)
    data = open(path, "rb").read()

    async def one(i):
        t0 = time.monotonic()
        r = await c.audio.transcriptions.create(model="whisper-1", file=(f"{i}.wav", data))
        return {"text": r.text, "seconds": time.monotonic() - t0}

    started = time.monotonic()
    results = await asyncio.gather(*(one(i) for i in range(n)))
    return {"results": results, "wall_s": time.monotonic() - started}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["transcribe", "speech", "models", "concurrent"])
    p.add_argument("base_url")
    p.add_argument("args", nargs="*")
    p.add_argument("--format")
    p.add_argument("--model")
    p.add_argument("--voice", default="alloy")
    p.add_argument("--speed", type=float, default=1.0)
    a = p.parse_args()
    c = OpenAI(base_url=a.base_url, api_key=os.environ.get("OWNVOICE_TOKEN", "none"), max_retries=0)
    if a.cmd == "concurrent":
        print(json.dumps(asyncio.run(concurrent(a.base_url, a.args[0], int(a.args[1])))))
    elif a.cmd == "models":
        print(json.dumps({"models": [m.id for m in c.models.list().data]}))
    elif a.cmd == "transcribe":
        fmt = a.format or "json"
        with open(a.args[0], "rb") as f:
            r = c.audio.transcriptions.create(model=a.model or "whisper-1", file=f, response_format=fmt)
        if isinstance(r, str):
            print(json.dumps({"body": r}))
        elif fmt == "verbose_json":
            print(json.dumps({"text": r.text, "language": r.language, "duration": r.duration,
                              "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in r.segments]}))
        else:
            print(json.dumps({"text": r.text}))
    else:
        text, out = a.args
        fmt = a.format or "wav"
        started = time.monotonic()
        first = None
        n = 0
        with c.audio.speech.with_streaming_response.create(
                model=a.model or "tts-1", voice=a.voice, input=text, response_format=fmt,
                speed=a.speed) as r:
            with open(out, "wb") as f:
                for chunk in r.iter_bytes():
                    if first is None and chunk:
                        first = time.monotonic() - started
                    n += len(chunk)
                    f.write(chunk)
            rate = r.headers.get("x-sample-rate")
        print(json.dumps({"bytes": n, "first_byte_s": first, "sample_rate": int(rate) if rate else None}))


if __name__ == "__main__":
    main()
