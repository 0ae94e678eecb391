#!/usr/bin/env python3
"""Write a speech-like test signal: talk spurts and pauses, for VoIP programs.

Talk spurts of 0.8-3 s (a voiced harmonic series at 100-220 Hz with syllable-rate
amplitude modulation and a little noise) alternate with pauses of 0.4-2 s, as
in a conversation half, so that voice-activity detection and discontinuous
transmission have silences to act on. 16-bit mono WAV.
Usage: make_speech_wav.py OUT.wav SECONDS SEED [RATE]
"""
import math
import random
import struct
import sys
import wave


def main():
    out, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    rate = int(sys.argv[4]) if len(sys.argv) > 4 else 8000
    rng = random.Random(seed)
    frames = bytearray()
    total = int(seconds * rate)
    while len(frames) < 2 * total:
        talk = rng.uniform(0.8, 3.0)
        f0 = rng.uniform(100, 220)
        syl = rng.uniform(3, 6)
        for i in range(int(talk * rate)):
            x = i / rate
            env = min(1.0, x * 20, (talk - x) * 20) * (0.6 + 0.4 * math.sin(2 * math.pi * syl * x))
            v = sum(math.sin(2 * math.pi * f0 * h * x) / h for h in range(1, 4)) * 0.3 + rng.gauss(0, 0.05)
            frames += struct.pack("<h", int(max(-1.0, min(1.0, v * env)) * 20000))
        frames += b"\0\0" * int(rng.uniform(0.4, 2.0) * rate)
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames[: 2 * total]))


if __name__ == "__main__":
    main()
