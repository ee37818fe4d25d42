"""CPU per argon2id check for the configured profile and OWASP's others: the capacity behind
IDP_PASSWORD_HASH_* (ADR 0017). Bounded: `--checks` per profile.

    .venv/bin/python bench/password_hash.py --checks 20
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from argon2 import PasswordHasher

PROFILES = {
    "argon2-cffi default (RFC 9106 low-memory)": (65536, 3, 4),
    "gateway default (OWASP m=46 MiB, t=1)": (47104, 1, 1),
    "OWASP m=19 MiB, t=2": (19456, 2, 1),
    "OWASP m=12 MiB, t=3": (12288, 3, 1),
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=20, help="checks per profile (1-1000)")
    checks = max(1, min(1000, parser.parse_args().checks))
    for name, (memory, passes, lanes) in PROFILES.items():
        hasher = PasswordHasher(time_cost=passes, memory_cost=memory, parallelism=lanes)
        stored = hasher.hash("correct horse battery staple")
        costs = []
        for _ in range(checks):
            started, wall = cpu_seconds(), time.perf_counter()
            hasher.verify(stored, "correct horse battery staple")
            costs.append((cpu_seconds() - started, time.perf_counter() - wall))
        cpu = statistics.median(c for c, _ in costs)
        wall = statistics.median(w for _, w in costs)
        print(
            f"{name:45} m={memory:>6} t={passes} p={lanes}: median {cpu * 1000:5.0f} ms CPU,"
            f" {wall * 1000:5.0f} ms wall; {1 / cpu:5.1f} checks per CPU-second"
        )


if __name__ == "__main__":
    main()
