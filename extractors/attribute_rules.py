"""The table of attribute rules: how people say where they live, work, who they are with...

Each rule reads a value from a clause in the first person ("I moved to Boston") and names the
attribute (:mod:`hybrid_memory.attributes`) and the canonical statement ("{s} lives in {v}.").
``{k}`` in an attribute is the kind of a favourite, ``{v}`` the value (``pet:{v}``). Whether an
attribute keeps one current value comes from the vocabulary, not from here.

These are general phrasings, kept as data; what no rule catches is recognised by its meaning in
consolidation (nearest attribute prototypes).
"""

from __future__ import annotations

import re

from extractors.lexicon import NAME_JOINERS, PETS, UPPER

_CAP = UPPER + r"[\w'’&.-]*(?:\s+(?:" + NAME_JOINERS + r"\s+)?" + UPPER + r"[\w'’&.-]*)*"
_V = r"(?P<v>" + _CAP + r")"
_TITLE = r"(?P<v>" + UPPER + r"[\w'’ ]+?)"  # a name or title that may hold lowercase words
_NAME = r"(?P<v>" + UPPER + r"[\w'’-]+)"  # one capitalized name
# "their / her / Ana's favourite ..." is someone else's (the clause is in the first person).
_NOT_ANOTHERS = (
    r"(?<![Tt]heir\s)(?<![Hh]is\s)(?<![Hh]er\s)(?<![Yy]our\s)(?<![Ii]ts\s)(?<![Tt]he\s)"
    r"(?<!'s\s)(?<!’s\s)(?<!s'\s)"
)
_INTRO = r"^(?:I'm|I\s+am)\s+" + UPPER + r"[\w'’-]+,\s+\d{1,3},\s+"  # "I'm Lucía, 27, ..."
_AGED = r"^\d{1,3},\s+"  # "29, backend engineer at Quillpay" after "arjun here."
_ORG_NOUN = (
    r"(?:\s+(?:hospital|school|university|college|bank|clinic|hotel|library|office|museum|"
    r"restaurant|bakery|cafe|café|store|shop|factory|firm|agency|studio|gym|centre|center))?"
)
# An organisation or place, named ("Vestlys Arkitekter", "Haukeland hospital") or described
# ("the container terminal in the port", "a bank in Osu").
_ORG = (
    r"(?:(?:the|a|an)\s+)?(?P<v>" + _CAP + _ORG_NOUN + r"|(?:the|a|an)\s+[a-z][\w'’-]*"
    r"(?:\s+(?!(?:in|at|for|with|on|to|from|since)\b)[a-z][\w'’-]*){0,3}"
    r"(?:\s+in\s+(?:the\s+)?[\w'’-]+)?)"
)
_STOP = r"(?=[.,!;:]|\s+(?:and|but|because|so|since|until|for|from|with|in|on|at|last|now)\b|$)"
_PHRASE = r"(?P<v>[\w ,'’-]{2,60}?)" + _STOP
HOMES = (
    r"(?:flat|house|apartment|place|home|one-bedroom|two-bedroom|room|studio|condo|bungalow|"
    r"cottage|townhouse|loft|duplex|bedsit|villa|\dBHK|\d-bedroom)"
)
_ADJ = r"(?:[\w-]+\s+){0,3}"
_PET = "|".join(sorted(PETS, key=len, reverse=True))
_JOB_VERBS = r"(?:teach|drive|cook|write|code|design|nurse|clean|bake|build|work|volunteer)"
_WE = r"(?:I|[Ww]e|" + UPPER + r"[\w'’-]+\s+and\s+I)"

# (pattern over the clause, attribute, canonical statement); the first rules of a family win
# when a clause matches several.
RULES: list[tuple[re.Pattern[str], str, str]] = [
    # home
    (re.compile(r"\b" + _WE + r"\s+(?:now\s+|currently\s+|still\s+)?(?:live|am living|'m living|"
                r"are living|'re living)\s+(?:with\s+[\w'’ ]+?\s+)?in\s+" + _V), "home",
     "{s} lives in {v}."),
    (re.compile(r"\b" + _WE + r"(?:'ve|\s+have)?(?:\s+just|\s+recently|\s+finally)?\s+moved\s+"
                r"(?:back\s+)?(?:to|into)\s+(?:(?:a|an|the)\s+" + _ADJ + HOMES + r"\s+in\s+)?"
                + _V), "home", "{s} lives in {v}."),
    (re.compile(r"\b" + _WE + r"(?:'m|'re|\s+am|\s+are)\s+(?:renting|sharing|subletting)\s+"
                r"(?:a|an|the)\s+" + _ADJ + HOMES + r"\s+in\s+" + _V), "home",
     "{s} lives in {v}."),
    (re.compile(r"\b" + _WE + r"(?:'ve|\s+have)?\s+(?:rented|found|bought|got|signed\s+a\s+lease"
                r"\s+on)\s+(?:a|an|the)\s+" + _ADJ + HOMES + r"\s+in\s+" + _V), "home",
     "{s} lives in {v}."),
    (re.compile(r"\b" + _WE + r"(?:'re|'m|\s+are|\s+am|'ve|\s+have)?\s+(?:in|got|bought|found|"
                r"rented|renting|sharing|share|moved\s+into)\s+(?:a|an|the|my|our)\s+" + _ADJ
                + HOMES + r"\s+(?:in|outside|near|on)\s+" + _V), "home", "{s} lives in {v}."),
    (re.compile(r"\b(?:a|an|the)\s+" + _ADJ + HOMES + r"\s+in\s+" + _V + r"\s+(?:that|which)\s+"
                + _WE + r"\s+(?:share|rent|live\s+in|own)\b"), "home", "{s} lives in {v}."),
    (re.compile(r"^(?:still\s+)?living\s+(?:with\s+[\w'’ ]+?\s+)?in\s+" + _V), "home",
     "{s} lives in {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+at\s+(?P<v>(?:my|our)\s+[\w'’ ]{2,30}?(?:'s|’s|s'))"
                r"(?=[.,!;]|\s|$)"),
     "home", "{s} is staying at {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:staying|crashing|sleeping|living)\s+(?:at|with)\s+"
                r"(?P<v>[\w'’ ]{3,60}?)(?=\s+(?:until|till|for now|while)\b|[.,!;]|$)"),
     "home", "{s} is staying at {v}."),
    (re.compile(r"\bI\s+sleep\s+at\s+(?P<v>[\w'’ ]{3,60}?)(?=[.,!;]|$)"), "home",
     "{s} sleeps at {v}."),
    (re.compile(r"\b[Mm]y\s+name(?:'s|\s+is)\s+" + _NAME), "name", "{s}'s name is {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:from|originally\s+from)\s+" + _V), "hometown",
     "{s} is from {v}."),
    # work
    (re.compile(r"\bI\s+(?:now\s+|currently\s+|still\s+)?work\s+(?:at|for)\s+" + _ORG), "employer",
     "{s} works at {v}."),
    (re.compile(r"\bI\s+run\s+(?:the|a|my|our)\s+(?P<v>[a-z][\w'’ ]{2,40}?(?:\s+in\s+" + _CAP
                + r")?)(?=[.,!;]|\s+(?:and|since|for)\b|$)"), "employer", "{s} runs the {v}."),
    (re.compile(r"\bI\s+(?:do|work)\s+(?:\w+\s+){1,3}(?:a|per)\s+week\s+(?:at|for)\s+" + _ORG),
     "employer", "{s} works at {v}."),
    (re.compile(_AGED + r"(?:an?\s+)?[a-z][\w -]{2,40}?\s+(?:at|for)\s+" + _ORG), "employer",
     "{s} works at {v}."),
    (re.compile(_AGED + r"(?:an?\s+)?(?P<v>[a-z][\w -]{2,40}?)\s+(?:at|for)\s+" + UPPER), "job",
     "{s} works as {a} {v}."),
    (re.compile(_INTRO + r"(?:an?\s+)?[a-z][\w -]{2,40}?\s+(?:at|for)\s+" + _ORG), "employer",
     "{s} works at {v}."),
    (re.compile(_INTRO + r"(?:an?\s+)?"
                r"(?P<v>[a-z][\w -]{2,40}?)(?=\s+(?:at|for|in)\b|[.,!;]|$)"), "job",
     "{s} works as {a} {v}."),
    (re.compile(r"\bI(?:'ve|\s+have)?(?:\s+\w+ly|\s+also|\s+just|\s+finally)?\s+(?:started|got|"
                r"began|took|landed|accepted)\s+(?:a\s+|my\s+|the\s+)?(?:new\s+)?(?:job|position|"
                r"role|internship|offer)(?:\s+as\s+an?\s+[\w -]+?)?\s+(?:at|with|for)\s+" + _ORG),
     "employer", "{s} works at {v}."),
    (re.compile(r"\bI(?:\s+\w+ly|\s+also|\s+just|\s+finally)?\s+(?:started\s+working|joined)\s+"
                r"(?:at\s+|for\s+)?" + _ORG), "employer", "{s} works at {v}."),
    (re.compile(r"\bI\s+" + _JOB_VERBS + r"\b[\w ,]{0,30}?\s+(?:at|for)\s+" + _ORG), "employer",
     "{s} works at {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:now\s+)?(?:an?|the)\s+[a-z][\w -]{2,40}?\s+(?:at|for)\s+"
                + _ORG), "employer", "{s} works at {v}."),
    (re.compile(r"\bI(?:'ve|\s+have)\s+been\s+(?:working\s+(?:as\s+an?\s+[\w -]+?\s+)?)?at\s+"
                + _ORG), "employer", "{s} works at {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+opening\s+(?:my\s+own|a|our)\s+(?:[\w-]+\s+)?(?:bakery|shop|"
                r"café|cafe|restaurant|business|studio|company|store|practice|salon)(?:,)?\s+"
                + _TITLE + r"(?=[.,!;]|\s+in\b|$)"), "employer", "{s} runs {v}."),
    (re.compile(r"\bI\s+(?:now\s+|currently\s+)?work\s+as\s+an?\s+(?P<v>[a-z][\w -]{2,40}?)"
                r"(?=[.,!;]|\s+at\s|\s+for\s|\s+in\s|$)"), "job", "{s} works as {a} {v}."),
    (re.compile(r"\bI(?:'ve|\s+have)\s+been\s+working\s+as\s+an?\s+(?P<v>[a-z][\w -]{2,40}?)"
                r"(?=[.,!;]|\s+at\s|\s+for\s|\s+in\s|\s+since\s|$)"), "job",
     "{s} works as {a} {v}."),
    (re.compile(r"\bI(?:'ve|\s+have)?(?:\s+\w+ly|\s+also|\s+just|\s+finally)?\s+(?:started|got|"
                r"began|took|landed|accepted)\s+(?:a\s+|my\s+|the\s+)?(?:new\s+)?(?:job|position|"
                r"role)(?:\s+(?:at|"
                r"with)\s+[\w'’ ]+?)?\s+as\s+an?\s+(?P<v>[a-z][\w -]{2,40}?)(?=[.,!;]|\s+at\s|"
                r"\s+for\s|\s+with\s|$)"), "job", "{s} works as {a} {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:an?|the)\s+(?P<v>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})\s+"
                r"(?:at|for)\s+(?:the\s+)?" + UPPER), "job", "{s} works as {a} {v}."),
    (re.compile(r"\bI\s+(?:started|began)\s+(?:working\s+)?as\s+(?:an?\s+)?[a-z][\w -]{2,40}?\s+"
                r"(?:at|for|with)\s+"
                + _ORG), "employer", "{s} works at {v}."),
    (re.compile(r"\bI\s+(?:started|began)\s+(?:working\s+)?as\s+(?:an?\s+)?"
                r"(?P<v>[a-z][\w -]{2,40}?)(?=[.,!;]|\s+(?:at|for|with|in|this|last|on)\b|$)"),
     "job", "{s} works as {a} {v}."),
    (re.compile(r"\bI(?:'ve|\s+have)?\s+(?:joined|started\s+at|moved\s+to|work\s+(?:at|for))\s+"
                r"[\w'’&. -]+?\s+as\s+(?:an?\s+|the\s+|its\s+)?(?P<v>[a-z][\w -]{2,40}?)"
                r"(?=[.,!;]|\s+(?:in|on|at|last|this|and|since|from)\b|$)"), "job",
     "{s} works as {a} {v}."),
    (re.compile(r"\bI\s+(?:was|got|have\s+been|'ve\s+been)\s+promoted\s+to\s+"
                r"(?P<v>[a-z][\w -]{2,40}?)(?=[.,!;]|\s+(?:at|in|on|"
                r"last|this|and)\b|$)"), "job", "{s} works as {a} {v}."),
    (re.compile(r"\b" + UPPER + r"[\w'’ ]+?\s+(?:made|promoted|appointed)\s+me\s+(?:an?\s+|the\s+)?"
                r"(?P<v>[a-z][\w -]{2,40}?)(?=[.,!;]|\s+(?:in|on|last|this|and|which)\b|$)"), "job",
     "{s} works as {a} {v}."),
    (re.compile(r"\b(?:I(?:'m|\s+am|\s+became)(?:\s+now|\s+still)?|still|being)\s+(?:the\s+)?"
                r"(?P<v>head\s+of\s+(?:the\s+)?[\w ]+?)(?=[.,!;]|\s+(?:at|in|from|since|is)\b|$)",
                re.I), "job", "{s} is {v}."),
    # relationships
    (re.compile(r"\bI(?:'m|\s+am|'ve\s+been|\s+have\s+been)\s+(?:also\s+|now\s+)?(?:seeing|dating)\s+(?:someone(?:\s+new)?"
                r"[:,]?\s+)?" + _NAME), "partner", "{s} is seeing {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+engaged\s+to\s+" + _NAME), "partner",
     "{s} is engaged to {v}."),
    (re.compile(r"\b" + _NAME + r"\s+proposed\b"), "marital_status", "{s} is engaged."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:now\s+)?(?P<v>married|single|engaged|divorced|widowed|"
                r"separated)\b"), "marital_status", "{s} is {v}."),
    (re.compile(r"\b" + _WE + r"(?:'re|\s+are|\s+am|'m)\s+(?P<v>separating|getting\s+divorced)\b"),
     "marital_status", "{s} is {v}."),
    (re.compile(r"\b(?:we|I)\s+got\s+(?P<v>married|engaged|divorced)\b", re.I), "marital_status",
     "{s} is {v}."),
    (re.compile(r"\b(?:the\s+)?divorce\s+(?:is|was|has\s+been|came|went)\s+(?P<v>final|finalised|finalized|"
                r"through)",
                re.I), "marital_status", "{s} is divorced."),
    # diet and health
    (re.compile(r"\bI(?:'m|\s+am|'ve\s+been|\s+have\s+been)\s+(?:a\s+)?(?P<v>vegetarian|vegan|"
                r"pescatarian)\b"), "diet", "{s} is {v}."),
    (re.compile(r"\bI(?:'ve|\s+have)?\s+(?:went|gone|became|become|turned|decided\s+to\s+go|"
                r"came\s+back)\s+(?P<v>vegetarian|vegan|pescatarian)\b"), "diet", "{s} is {v}."),
    (re.compile(r"\b(?P<v>gluten-free|dairy-free|vegan|vegetarian|keto)\s+from\s+now\s+on\b", re.I),
     "diet", "{s} eats {v}."),
    (re.compile(r"\bI(?:'m|\s+am)?\s+(?:started\s+|begun\s+|began\s+)?eating\s+(?:fish|seafood)\s+"
                r"again\b"), "diet", "{s} eats fish again."),
    (re.compile(r"\bI\s+(?:don't|do\s+not|never)\s+eat\s+(?P<v>meat|fish|dairy|pork|gluten)\b"),
     "diet", "{s} does not eat {v}."),
    (re.compile(r"\bI\s+(?:\w+\s+)?eat\s+meat\b"), "diet", "{s} eats meat."),
    (re.compile(r"\b(?:cut|cutting|cuts)\s+(?:right\s+|way\s+)?(?:back|down)\s+on\s+(?:the\s+)?"
                r"(?P<v>salt|sugar|carbs|meat|dairy|alcohol|coffee|caffeine|fat|red\s+meat)\b"),
     "restriction:{v}", "{s} cuts back on {v}."),
    (re.compile(r"\bI(?:'ve|\s+have)?\s+(?:started|began|begun)\s+eating\s+meat\s+again\b"),
     "diet", "{s} eats meat again."),
    (re.compile(r"\bI\s+(?:started|began)\s+eating\s+(?:fish|seafood)\s+again\b.*\bno\s+meat\b",
                re.I), "diet", "{s} is pescatarian (fish, no meat)."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?P<v>lactose\s+intolerant|gluten\s+intolerant|diabetic|"
                r"asthmatic|pregnant|celiac|coeliac)\b"), "health:{v}", "{s} is {v}."),
    (re.compile(r"\b(?:confirmed|diagnosed)\s+(?P<v>[a-z][\w -]{1,30}?\s+(?:disease|syndrome|"
                r"diabetes|asthma|arthritis|cancer))\b"), "health:{v}", "{s} has {v}."),
    (re.compile(r"\bmy\s+blood\s+pressure\s+is\s+(?:up|high|too\s+high)\b"),
     "health:high blood pressure", "{s} has high blood pressure."),
    (re.compile(r"\bI\s+(?:was\s+|have\s+been\s+|got\s+)?diagnosed\s+with\s+"
                r"(?P<v>[\w ,'-]{2,60}?)(?=[.!;,]|$|\s+and\s|\s+but\s|\s+in\s|\s+last\s)"),
     "health:{v}", "{s} was diagnosed with {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+allergic\s+to\s+(?P<v>[\w ,'-]{2,60}?)(?=[.!;]|$|\s+and\s|"
                r"\s+but\s|\s+so\s)"), "allergy:{v}", "{s} is allergic to {v}."),
    (re.compile(r"\bI\s+(?P<v>smoke|vape)\b"), "habit:smoking", "{s} {v}s."),
    # favourites and likes
    (re.compile(_NOT_ANOTHERS +
                r"\b(?:[Mm]y\s+)?[Ff]avou?rite\s+(?P<k>[a-z]+(?:\s+(?!right\b|now\b|these\b|is\b|are\b)[a-z]+)?)\b[^.]*?\bbut\s+"
                r"(?:these\s+days|now|nowadays)\s+it'?s\s+" + _TITLE + r"(?=[.,!;]|$)"),
     "favorite:{k}", "{s}'s favourite {k} is {v}."),
    (re.compile(_NOT_ANOTHERS +
                r"\b(?:[Mm]y\s+)?[Ff]avou?rite\s+(?P<k>[a-z]+(?:\s+(?!right\b|now\b|these\b|is\b|are\b)[a-z]+)?)\s+(?:right\s+now\s+|"
                r"these\s+days\s+|now\s+)?(?:is|are)\s+(?P<v>[\w ,'’&-]{2,60}?)"
                r"(?=[.!;,]|$|\s+and\s|\s+but\s|\s+because\s)"), "favorite:{k}",
     "{s}'s favourite {k} is {v}."),
    (re.compile(r"^(?P<v>" + UPPER + r"[\w ,'’&-]{1,60}?)\s+(?:is|are|has\s+become)\s+"
                r"(?:still\s+|now\s+|just\s+)?my\s+(?:new\s+)?favou?rite\s+(?P<k>[a-z]+)\b"),
     "favorite:{k}",
     "{s}'s favourite {k} is {v}."),
    (re.compile(r"\b[Mm]y\s+(?:new\s+)?favou?rite(?:\s+now)?\s+is\s+(?P<v>[\w ,'’&-]{2,40}?)"
                r"(?=[.!;,]|$|\s+and\s|\s+but\s|\s+because\s)"), "favorite",
     "{s}'s favourite is {v}."),
    (re.compile(r"(?:^|[,;]\s*)(?P<v>" + UPPER + r"[\w'’-]*(?:\s+" + UPPER + r"[\w'’-]*)?)"
                r"(?:'s|’s|\s+is)\s+"
                r"my\s+(?:new\s+)?favou?rite(?:\s+now)?\b"), "favorite", "{s}'s favourite is {v}."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:really\s+|totally\s+)?(?:all\s+about|obsessed\s+with|hooked\s+on)"
                r"\s+(?P<v>[\w ,'’-]{2,40}?)(?=[.!;,]|$|\s+and\s|\s+but\s)"), "favorite",
     "{s}'s favourite is {v}."),
    (re.compile(r"\b(?:[Tt]hese\s+days\s+|[Nn]ow\s+)I\s+(?:listen\s+to|am\s+listening\s+to)\s+"
                + _TITLE + r"(?=\s+(?:non-stop|all\s+the\s+time|constantly)|[.,!;]|$)"),
     "favorite:music", "{s}'s favourite music these days is {v}."),
    (re.compile(r"\b" + _V + r"\s+(?:matches|games)\b[^.]*\bI'?m\s+(?:a\s+)?"
                r"(?:convert(?:ed)?|hooked|a\s+fan)\b"), "favorite:team",
     "{s} supports {v} now."),
    (re.compile(r"\b(?:I'm|I\s+am|me\s+into|became|becoming)\s+(?:a|an)\s+(?:big\s+|huge\s+|proper\s+)?"
                + _V + r"\s+(?:fan|supporter)\b"), "favorite", "{s} is a {v} fan."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:now\s+)?a\s+(?:big\s+)?(?:fan|supporter)\s+of\s+" + _V),
     "likes", "{s} is a fan of {v}."),
    (re.compile(r"\bI\s+(?:really\s+|absolutely\s+)?(?:love|like|enjoy|adore)\s+"
                r"(?P<v>[\w ,'’-]{2,60}?)(?=[.!;]|$|\s+and\s|\s+but\s|\s+because\s|\s+so\s)"),
     "likes", "{s} likes {v}."),
    (re.compile(r"\bI\s+(?:really\s+)?(?:hate|dislike|can't\s+stand|do\s+not\s+like|don't\s+like)"
                r"\s+(?P<v>[\w ,'’-]{2,60}?)(?=[.!;]|$|\s+and\s|\s+but\s|\s+because\s)"),
     "dislikes", "{s} dislikes {v}."),
    # pets, age, commute, studies
    (re.compile(r"\b(?:[Ww]e|I)(?:'ve|\s+have)?\s+(?:also\s+|just\s+)?(?:adopted|got|rescued|bought|"
                r"have|own)\s+(?:a|an)\s+"
                r"(?:[\w -]+?\s+)?(?P<kind>" + _PET + r")\b[^.]*?(?:named|called)\s+"
                + _NAME), "pet:{v}", "{s} has a {kind} named {v}."),
    (re.compile(r"^(?P<v>" + UPPER + r"[\w'’-]+)\b[^.!?]{0,40},\s+(?:my|our)\s+(?:old\s+|little\s+|"
                r"new\s+|sweet\s+)?(?P<kind>" + _PET + r")\b"), "pet:{v}",
     "{s} has a {kind} named {v}."),
    (re.compile(r"\b(?:I'm|I\s+am|" + UPPER + r"[\w'’-]+(?:\s+" + UPPER + r"[\w'’-]+)?\s+here),?\s+"
                r"(?:" + UPPER
                + r"[\w'’-]+,\s+)?(?P<v>\d{1,3})[,.]"), "age", "{s} is {v} years old."),
    (re.compile(_AGED.replace("\\d{1,3}", "(?P<v>\\d{1,3})") + r"(?:an?\s+)?[a-z]"), "age",
     "{s} is {v} years old."),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?P<v>\d{1,3})(?:\s+years\s+old|\s+yo)?(?=[.,!;]|\s+(?:and|now|"
                r"but)\b|$)"), "age", "{s} is {v} years old."),
    (re.compile(r"\bI\s+(?:now\s+)?(?P<v>cycle|bike|walk|drive|run|take\s+the\s+(?:bus|train|"
                r"tram|metro))\s+to\s+work\b"), "commute", "{s} {v3} to work."),
    (re.compile(r"\bI(?:'m|\s+am)?\s+(?:work|working)\s+(?P<v>from\s+home|remotely)\b"),
     "commute", "{s} works {v}."),
    (re.compile(r"\b(?:driving|commuting|cycling)\b[\w ]*?\bevery\s+day\b", re.I), "commute",
     ""),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:studying|majoring\s+in)\s+(?P<v>[\w ,'-]{2,60}?)"
                r"(?=[.!;]|$|\s+at\s|\s+and\s|\s+but\s)"), "education", "{s} studies {v}."),
    (re.compile(r"\bI\s+graduated\s+from\s+" + _V), "education", "{s} graduated from {v}."),
]  # fmt: skip

JOB_IS = re.compile(r"\bI(?:'m| am) (?:now )?an? (?P<v>(?:[a-z-]+ ){0,2}[a-z-]+)\b")
"""``I'm a <job>``: the longest prefix ending in a job word is the job."""

NOT_A_VALUE = re.compile(
    r"^(?:is|are|was|were|it|that|this|to see|to hear|how|when|what|the way|you|your|him|her|"
    r"them|seeing|hearing|that you|it when|someone)\b",
    re.IGNORECASE,
)
