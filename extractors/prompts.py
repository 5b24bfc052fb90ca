"""Every prompt of the LLM pipeline, in one place.

Replace any of them by passing your own :class:`Prompts` to the LLM extractor, consolidator or
summarizer. Placeholders are filled with ``str.format``.
"""

from __future__ import annotations

from dataclasses import dataclass

EXTRACTION = """You extract long-term memories from a conversation.

Earlier turns (context only, do not extract from them):
{context}

New messages (extract from these; each starts with its id, time and speaker):
{messages}

Return JSON: {{"facts": [{{"text": ..., "sources": [message ids], "subject": ..., "attribute": ...,
"value": ..., "aspect": "state|event|plan", "ends": [{{"attribute": ..., "about": ...}}],
"retraction": true|false, "event_date": "YYYY-MM-DD" or null,
"entities": [{{"name": ..., "type": "person|place|organization|pet|date|other"}}]}}]}}

Attributes (use these names; "family:qualifier" for one of several values, e.g. "pet:rex",
"allergy:peanuts"; "favorite_<kind>" for a favourite, e.g. "favorite_music"):
{vocabulary}

Rules:
- One fact per statement: "I moved to Porto and started at Acme" is two facts. Leave out
  fillers ("Big news:", "lol") and small talk.
- Each "text" is a self-contained third-person statement naming the person ("Caroline moved to
  Boston in May 2023"), never "I", "you" or "we".
- "aspect": "state" for what holds now ("Ana lives in Porto"), "event" for what happened, "plan"
  for an intention. A state of a single-valued attribute is the person's current value: give it
  in "value"; the memory closes the previous value itself.
- A statement that ends something ("I left Acme", "we broke up", "I quit smoking", "the trip is
  off", "I'm not allergic after all") is an "event" with "ends": the attribute it ends and the
  words naming what ends ("about": "Acme").
- "retraction": true only for an instruction about the memory itself ("forget what I said about
  X", "that was wrong"); it is not stored, and its "ends" says what it takes back.
- Make relative dates absolute using the message time ("yesterday" said on 8 May 2023 ->
  "on 7 May 2023"; "in March" -> the March the speaker means) and put the date of the event in
  "event_date".
- "sources" lists the ids of the new messages the fact comes from; use only ids shown above.
- Return {{"facts": []}} when nothing qualifies."""

CONSOLIDATION = """You maintain a memory store. A new fact arrived ([attribute, date] first):
{fact}

Existing memories of the same user, by temporary id ([attribute, date] first):
{existing}

Decide one event:
- "ADD": the fact is new information.
- "UPDATE": it is a newer or more complete version of memory <id> (give the merged "text"); a
  new value of a single-valued attribute (home, employer, job, partner, marital_status, diet,
  favourites...) UPDATEs the memory holding the old value, which is kept as history.
- "DELETE": it says memory <id> is no longer true.
- "NONE": it is already known.
Return JSON: {{"event": "ADD|UPDATE|DELETE|NONE", "id": "<temporary id or null>",
"text": "<memory text for ADD/UPDATE or null>", "reason": "<short reason>"}}.
Use only the temporary ids shown above."""

SUMMARY = """Update the running summary of a conversation.

Current summary:
{previous}

Turns to fold in (each with its time and speaker):
{turns}

Write the new summary: third person, absolute dates, names kept, the most important facts
first, no small talk, at most {max_words} words. Reply with the summary text only."""


@dataclass(frozen=True)
class Prompts:
    """The prompts used by the LLM pipeline (override any of them)."""

    extraction: str = EXTRACTION
    consolidation: str = CONSOLIDATION
    summary: str = SUMMARY
