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
"value": ..., "single_valued": true|false, "retraction": true|false, "event_date": "YYYY-MM-DD"
or null, "entities": [{{"name": ..., "type": "person|place|organization|pet|date|other"}}]}}]}}

Rules:
- One fact per piece of information worth remembering about a person: who they are, where they
  live, work, their family, pets, likes, plans, health, events they took part in.
- Each "text" is a self-contained third-person statement naming the person ("Caroline moved to
  Boston in May 2023"), never "I", "you" or "we".
- Make relative dates absolute using the message time ("yesterday" said on 8 May 2023 ->
  "on 7 May 2023") and put the date of the event in "event_date".
- "sources" lists the ids of the new messages the fact comes from; use only ids shown above.
- "attribute" is a short snake_case key (home, employer, job, diet, relationship_status, ...);
  "single_valued" is true when a person has one current value of it.
- A statement that something is no longer true ("I don't work there anymore") is a fact with
  "retraction": true and the attribute it ends.
- Greetings, thanks and small talk are not facts. Return {{"facts": []}} when nothing qualifies."""

CONSOLIDATION = """You maintain a memory store. A new fact arrived:
{fact}

Existing memories of the same user, by temporary id:
{existing}

Decide one event:
- "ADD": the fact is new information.
- "UPDATE": it is a newer or more complete version of memory <id> (give the merged "text").
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
