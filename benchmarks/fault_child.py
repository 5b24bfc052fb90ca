"""The process the fault run kills: it opens a memory and adds batches until it is killed.

    python -m benchmarks.fault_child DATA_DIR ACKS_FILE FIRST_BATCH

Batch ``n`` is a pure function of ``n`` (:func:`batch`), so the parent knows what each batch
holds without being told. After ``add`` returns, the child appends ``n`` to ``ACKS_FILE`` and
fsyncs it: an acknowledged batch is one the caller was told is stored. It prints ``ready`` once
the memory is open (recovery included), then adds ``FIRST_BATCH``, ``FIRST_BATCH + 1``...
"""

from __future__ import annotations

import json
import os
import random
import sys
from dataclasses import dataclass
from typing import Any

USERS = ("ana", "bo", "cy")
CITIES = ("Porto", "Lisbon", "Oslo", "Lima", "Kyoto", "Denver")
EMPLOYERS = ("Lumen Labs", "Acme", "Initech", "Globex")
PETS = ("a dog named Rex", "a cat named Luna", "a parrot named Kiwi")
FACTS = (
    "I live in {city}.",
    "I moved to {city} last month.",
    "I work at {employer}.",
    "I have {pet}.",
    "I went hiking near {city} yesterday.",
    "My sister lives in {city} now.",
)


@dataclass(frozen=True)
class Batch:
    """One add: who, how, and the messages (ids ``k<n>-<i>``)."""

    n: int
    user_id: str
    run_id: str
    infer: bool
    messages: tuple[dict[str, Any], ...]

    @property
    def ids(self) -> list[str]:
        return [m["id"] for m in self.messages]


def batch(n: int) -> Batch:
    """Batch ``n``: one to three messages; every third batch is stored verbatim (infer=False),
    with texts no other batch has, so each of its messages becomes exactly one memory."""
    rng = random.Random(n)
    user = USERS[n % len(USERS)]
    infer = n % 3 != 0
    messages = []
    for i in range(1 + rng.randrange(3)):
        if infer:
            text = rng.choice(FACTS).format(
                city=rng.choice(CITIES), employer=rng.choice(EMPLOYERS), pet=rng.choice(PETS)
            )
        else:
            text = f"Note {n}-{i}: the locker code is {rng.randrange(10**6):06d}."
        messages.append(
            {
                "role": "user",
                "name": user.title(),
                "content": text,
                "id": f"k{n}-{i}",
                "timestamp": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{i:02d}:00Z",
            }
        )
    return Batch(n, user, f"r{n % 4}", infer, tuple(messages))


def main(argv: list[str]) -> int:
    from hybrid_memory import HybridMemory, MemoryConfig
    from hybrid_memory.testing import HashingEmbedder

    data_dir, acks_path, first = argv[0], argv[1], int(argv[2])
    memory = HybridMemory(MemoryConfig(data_dir=data_dir, embedder=HashingEmbedder()))
    print("ready", flush=True)
    with open(acks_path, "a", encoding="utf-8") as acks:
        n = first
        while True:
            b = batch(n)
            memory.add(list(b.messages), user_id=b.user_id, run_id=b.run_id, infer=b.infer)
            acks.write(json.dumps({"n": n}) + "\n")
            acks.flush()
            os.fsync(acks.fileno())
            n += 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
